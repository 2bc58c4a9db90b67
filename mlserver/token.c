/*
 * token - confirmation tokens; see token.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "log.h"
#include "store.h"
#include "token.h"

static int	token_hash(const char *, char[65]);

static int
token_hash(const char *token, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char lower[TOKEN_LEN + 1];
	size_t i, n = strlen(token);

	if (n != TOKEN_LEN)
		return -1;
	for (i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)token[i]);
	lower[n] = '\0';
	if (EVP_Digest(lower, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		log_warnx("token: SHA-256 failed");
		return -1;
	}
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * Make a token for (list, addr, action, arg), valid for ttl seconds.
 * Returns 0 with the token in token[], -1 on error.
 */
int
token_create(struct store *st, const char *list, const char *addr,
    const char *action, const char *arg, int ttl, char token[TOKEN_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char rnd[TOKEN_LEN];
	char hash[65];
	sqlite3_stmt *s;
	time_t now = time(NULL);

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		log_warn("getrandom");
		return -1;
	}
	for (size_t i = 0; i < TOKEN_LEN; i++)
		token[i] = alphabet[rnd[i] & 31];
	token[TOKEN_LEN] = '\0';
	if (token_hash(token, hash) != 0)
		return -1;
	s = store_stmt(st, "INSERT INTO tokens (hash, list, addr, action, "
	    "arg, created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, arg ? arg : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (long long)now);
	sqlite3_bind_int64(s, 7, (long long)now + ttl);
	return store_step_done(st, s);
}

/*
 * Use a token of list sent to addr1 or addr2 (the address confirming).
 * 1 and *rec filled when it was valid (it is now used up); 0 when
 * unknown, used, expired, of another list or of another address (it then
 * stays usable by its own address); -1 on error.
 */
int
token_take(struct store *st, const char *list, const char *token,
    const char *addr1, const char *addr2, struct token_rec *rec)
{
	char hash[65];
	sqlite3_stmt *s;
	int rc;

	if (token_hash(token, hash) != 0)
		return 0;
	s = store_stmt(st, "UPDATE tokens SET used = 1 WHERE hash = ?1 AND "
	    "list = ?2 AND used = 0 AND expires > ?3 AND "
	    "(addr = ?4 OR addr = ?5) RETURNING list, addr, action, arg");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (long long)time(NULL));
	sqlite3_bind_text(s, 4, addr1, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, addr2, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(rec->list, sizeof(rec->list), "%s",
		    (const char *)sqlite3_column_text(s, 0));
		snprintf(rec->addr, sizeof(rec->addr), "%s",
		    (const char *)sqlite3_column_text(s, 1));
		snprintf(rec->action, sizeof(rec->action), "%s",
		    (const char *)sqlite3_column_text(s, 2));
		snprintf(rec->arg, sizeof(rec->arg), "%s",
		    (const char *)sqlite3_column_text(s, 3));
		/* Finish the statement so the update is complete. */
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "token_take");
		return -1;
	}
	return 0;
}

/* Forget tokens a day past their expiry (kept a while for the log). */
int
token_expire(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st,
	    "DELETE FROM tokens WHERE expires < ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)time(NULL) - 86400);
	return store_step_done(st, s);
}
