/*
 * outq_rate - sending limits of a hosted provider; see outq_rate.h.
 *
 * Apart from outq.c because it is policy about the relay, not about the
 * queue's rows: outq asks how much it may send and reports what the
 * relay did, and the rules live here.
 *
 * relay_sends holds one row per transaction the relay took, pruned to
 * the last hour as rows are added.  relay_pause is a single row: until
 * when the queue waits, and how many limit replies came in a row
 * (strikes), which doubles the wait.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "deliver.h"
#include "log.h"
#include "outq_rate.h"
#include "store.h"

#define RATE_WINDOW	3600	/* seconds: max_messages_per_hour */

static const char *const rate_steps[] = {
	/* 0 -> 1 */
	"CREATE TABLE relay_sends ("		/* transactions taken */
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX relay_sends_ts ON relay_sends (ts);"
	"CREATE TABLE relay_pause ("		/* the provider said wait */
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  until INTEGER NOT NULL,"
	"  strikes INTEGER NOT NULL);",
};

const struct store_schema outq_rate_schema = {
	"outq_rate", rate_steps, sizeof(rate_steps) / sizeof(rate_steps[0])
};

static long long rate_sent_in_window(struct store *, time_t);
static int	 rate_pause(struct store *, time_t *, int *);
static int	 rate_note_sent(struct store *, const struct config *, time_t);
static int	 rate_note_limit(struct store *, const struct config *, time_t,
		    const char *);
static int	 rate_word(const char *, const char *);

size_t
outq_rate_allowance(struct store *st, const struct config *cf, size_t want)
{
	time_t now = time(NULL), until;
	long long sent, max = cf->relay.max_messages_per_hour;
	int strikes;

	if (rate_pause(st, &until, &strikes) != 0)
		return 0;
	if (until > now)
		return 0;
	if (max <= 0)
		return want;
	if ((sent = rate_sent_in_window(st, now)) < 0 || sent >= max)
		return 0;
	return (size_t)(max - sent) < want ? (size_t)(max - sent) : want;
}

time_t
outq_rate_resume(struct store *st, const struct config *cf)
{
	time_t now = time(NULL), until, t = 0;
	long long max = cf->relay.max_messages_per_hour, sent;
	sqlite3_stmt *s;
	int strikes;

	if (rate_pause(st, &until, &strikes) == 0 && until > now)
		t = until;
	if (max <= 0 || (sent = rate_sent_in_window(st, now)) < max)
		return t;
	/*
	 * The hour is full: a place frees when the (sent - max + 1)th
	 * oldest send leaves it (more than max after a lowered limit).
	 */
	s = store_stmt(st, "SELECT ts FROM relay_sends WHERE ts > ?1 "
	    "ORDER BY ts LIMIT 1 OFFSET ?2");
	if (s == NULL)
		return t;
	sqlite3_bind_int64(s, 1, (long long)(now - RATE_WINDOW));
	sqlite3_bind_int64(s, 2, sent - max);
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_int64(s, 0) + RATE_WINDOW > (long long)t)
		t = (time_t)(sqlite3_column_int64(s, 0) + RATE_WINDOW);
	sqlite3_reset(s);
	return t;
}

int
outq_rate_note(struct store *st, const struct config *cf,
    const struct deliver_txn *txn)
{
	time_t now = time(NULL);
	const char *limit = NULL;
	int taken = 0;
	size_t i;

	for (i = 0; i < txn->nrcpts; i++) {
		if (txn->rcpts[i].state == DELIVER_SENT)
			taken = 1;
		else if (txn->rcpts[i].state == DELIVER_DEFERRED &&
		    limit == NULL && outq_rate_is_limit(txn->rcpts[i].reply))
			limit = txn->rcpts[i].reply;
	}
	if (taken)
		return rate_note_sent(st, cf, now);
	/*
	 * Only towards a provider (AUTH, or an hourly limit): an MTA of
	 * our own answers 4.7.1 for one recipient (greylisting, a policy
	 * service) without meaning that everyone should wait.
	 */
	if (limit != NULL && (cf->relay.user != NULL ||
	    cf->relay.max_messages_per_hour > 0))
		return rate_note_limit(st, cf, now, limit);
	return 0;
}

/*
 * "4xy X.7.Z ..." (a policy status: RFC 3463 says 7 is security or
 * policy, where providers put their limits), or 421/450/451/452 with
 * words of a limit.  X.5.3 (too many recipients for one message) is not
 * a rate: waiting would not change it.
 */
int
outq_rate_is_limit(const char *reply)
{
	static const char *const words[] = {
		"rate", "limit", "too many", "too much", "quota",
		"exceeded", "throttl", NULL
	};
	const char *text;
	int code, i;

	if (reply == NULL || !isdigit((unsigned char)reply[0]) ||
	    !isdigit((unsigned char)reply[1]) ||
	    !isdigit((unsigned char)reply[2]) || reply[0] != '4')
		return 0;
	code = atoi(reply);
	text = reply + 3;
	while (*text == ' ')
		text++;
	if (strncmp(text, "4.5.3", 5) == 0)
		return 0;
	if (strncmp(text, "4.7.", 4) == 0)
		return 1;
	if (code != 421 && code != 450 && code != 451 && code != 452)
		return 0;
	for (i = 0; words[i] != NULL; i++)
		if (rate_word(text, words[i]))
			return 1;
	return 0;
}

/* word in text, case-insensitive, not in the middle of another word. */
static int
rate_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = text; *p != '\0'; p++)
		if (strncasecmp(p, word, n) == 0 && (p == text ||
		    !isalpha((unsigned char)p[-1])))
			return 1;
	return 0;
}

static long long
rate_sent_in_window(struct store *st, time_t now)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM relay_sends "
	    "WHERE ts > ?1");
	long long n = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)(now - RATE_WINDOW));
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		store_log_error(st, "relay_sends");
	sqlite3_reset(s);
	return n;
}

/* The pause row; until 0 when there is none. */
static int
rate_pause(struct store *st, time_t *until, int *strikes)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT until, strikes FROM "
	    "relay_pause WHERE id = 1");
	int rc;

	*until = 0;
	*strikes = 0;
	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*until = (time_t)sqlite3_column_int64(s, 0);
		*strikes = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(st, "relay_pause");
		return -1;
	}
	return 0;
}

/* The relay took a transaction: count it; the strikes are over. */
static int
rate_note_sent(struct store *st, const struct config *cf, time_t now)
{
	long long max = cf->relay.max_messages_per_hour;
	sqlite3_stmt *s;

	if ((s = store_stmt(st, "UPDATE relay_pause SET strikes = 0 "
	    "WHERE id = 1 AND strikes > 0")) == NULL ||
	    store_step_done(st, s) != 0)
		return -1;
	if (max <= 0)
		return 0;
	if ((s = store_stmt(st, "DELETE FROM relay_sends WHERE ts <= ?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)(now - RATE_WINDOW));
	if (store_step_done(st, s) != 0)
		return -1;
	if ((s = store_stmt(st, "INSERT INTO relay_sends (ts) VALUES (?1)")) ==
	    NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)now);
	if (store_step_done(st, s) != 0)
		return -1;
	if (rate_sent_in_window(st, now) == max)
		log_info("relay %s:%d: %lld messages sent in the last hour "
		    "(max_messages_per_hour); the rest waits", cf->relay.host,
		    cf->relay.port, max);
	return 0;
}

/*
 * The provider refused for a limit: pause the queue, unless a pause
 * already runs (the other transactions of the same session hear the
 * same answer).
 */
static int
rate_note_limit(struct store *st, const struct config *cf, time_t now,
    const char *reply)
{
	sqlite3_stmt *s;
	time_t until;
	long long wait;
	int strikes;

	if (rate_pause(st, &until, &strikes) != 0)
		return -1;
	if (until > now)
		return 0;
	wait = (long long)cf->queue.retry_first << (strikes < 20 ? strikes :
	    20);
	if (wait > cf->queue.retry_max)
		wait = cf->queue.retry_max;
	s = store_stmt(st, "INSERT INTO relay_pause (id, until, strikes) "
	    "VALUES (1, ?1, 1) ON CONFLICT (id) DO UPDATE SET "
	    "until = ?1, strikes = strikes + 1");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)now + wait);
	if (store_step_done(st, s) != 0)
		return -1;
	log_warnx("relay %s:%d: sending limit reached (%s); the queue waits "
	    "%lld s", cf->relay.host, cf->relay.port, reply, wait);
	return 0;
}
