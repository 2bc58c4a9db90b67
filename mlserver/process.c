/*
 * process - from the spool to the queue; see process.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "config.h"
#include "event_handle.h"
#include "log.h"
#include "message.h"
#include "moderate.h"
#include "post.h"
#include "proposal_mail.h"
#include "process.h"
#include "request.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

#define PROCESS_MAX_ATTEMPTS	3
#define PROCESS_RETRY_PAUSE	30	/* seconds, times the attempts */

/* Messages that failed in this run, and when to try them again. */
struct retry {
	char	id[SPOOL_ID_LEN + 1];
	time_t	after;
};

static struct retry	*retries;
static size_t		 nretries;

static int	 process_state(struct store *, const char *, int *, int *);
static int	 process_attempt(struct store *, const char *);
static int	 process_mark_done(struct store *, const char *);
static void	 process_finish_file(const struct config *, struct store *,
		    const char *);
static void	 process_quarantine(const struct config *, const char *,
		    const char *);
static int	 process_dispatch(struct mail_ctx *, const char *);
static int	 process_cmp(const void *, const void *);
static int	 process_waiting(const char *);
static void	 process_failed(const char *, int);

static int
process_state(struct store *st, const char *id, int *attempts, int *done)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT attempts, done FROM "
	    "processed WHERE id = ?1");
	int rc;

	*attempts = *done = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*attempts = sqlite3_column_int(s, 0);
		*done = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Count an attempt before making it, in its own transaction: a message
 * that crashes the daemon is counted too, and quarantined at the third.
 */
static int
process_attempt(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO processed (id, "
	    "attempts, updated) VALUES (?1, 1, strftime('%s', 'now')) "
	    "ON CONFLICT (id) DO UPDATE SET attempts = attempts + 1, "
	    "updated = strftime('%s', 'now')");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

static int
process_mark_done(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE processed SET done = 1, "
	    "updated = strftime('%s', 'now') WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* After the commit: a held message moves to held/, others go. */
static void
process_finish_file(const struct config *cf, struct store *st,
    const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM held WHERE id = ?1");
	int held = 0;
	char *path;

	if (s != NULL) {
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		held = sqlite3_step(s) == SQLITE_ROW;
		sqlite3_reset(s);
	}
	if (held) {
		if (spool_move(cf->state_dir, id, "new", "held") != 0)
			log_warn("%s: cannot move to held/", id);
		return;
	}
	path = spool_path(cf->state_dir, "new", id);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: unlink %s", id, path);
	free(path);
}

static void
process_quarantine(const struct config *cf, const char *id, const char *why)
{
	if (spool_move(cf->state_dir, id, "new", "quarantine") != 0)
		log_warn("%s: cannot move to quarantine/ (%s)", id, why);
	else
		log_warnx("%s: quarantined: %s", id, why);
}

/* Hand one recipient's copy to its handler. */
static int
process_dispatch(struct mail_ctx *ctx, const char *rcpt)
{
	struct route r;

	if (route_lookup(ctx->cf, rcpt, &r) != 0) {
		/* The config changed since the message was accepted. */
		log_warnx("%s: <%s> is no longer a list address; that copy "
		    "is kept in quarantine", ctx->id, rcpt);
		return 1;
	}
	switch (r.action) {
	case ROUTE_POST:
		return post_handle(ctx, &r);
	case ROUTE_REQUEST:
	case ROUTE_JOIN:
	case ROUTE_LEAVE:
	case ROUTE_CONFIRM:
		return request_handle(ctx, &r);
	case ROUTE_OWNER:
		return post_owner(ctx, &r);
	case ROUTE_BOUNCES:
		return bounce_handle(ctx, &r);
	case ROUTE_PROPOSE:
		return proposal_mail_submit(ctx, &r);
	case ROUTE_PROPOSAL:
		return proposal_mail_comment(ctx, &r);
	case ROUTE_EVENTS:
		return event_announce_handle(ctx, &r);
	case ROUTE_RSVP:
		return event_rsvp_handle(ctx, &r);
	default:
		log_warnx("%s: <%s>: no handler", ctx->id, rcpt);
		return 1;
	}
}

/*
 * Process spool message id from new/.  0 when it is finished with
 * (handled, or quarantined), -1 when it failed and stays for a retry.
 */
int
process_one(const struct config *cf, struct store *st, const char *id)
{
	struct spool_envelope env = { NULL, NULL, 0 };
	struct message msg;
	struct mail_ctx ctx;
	char *path, *raw = NULL;
	size_t len = 0, i;
	int attempts, done, rc = -1, orphans = 0;

	if (process_state(st, id, &attempts, &done) != 0)
		return -1;
	if (done) {
		/* Handled before a crash; only the file was left. */
		process_finish_file(cf, st, id);
		return 0;
	}
	if (attempts >= PROCESS_MAX_ATTEMPTS) {
		process_quarantine(cf, id, "processing failed three times");
		return 0;
	}
	if (process_attempt(st, id) != 0)
		return -1;
	path = spool_path(cf->state_dir, "new", id);
	if (spool_read(path, &env, &raw, &len) != 0) {
		free(path);
		process_quarantine(cf, id, "unreadable spool file");
		return 0;
	}
	free(path);
	if (message_parse(raw, len, &msg) != 0) {
		message_free(&msg);
		spool_envelope_free(&env);
		free(raw);
		process_quarantine(cf, id, "not a mail message that can be "
		    "parsed");
		return 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.cf = cf;
	ctx.st = st;
	ctx.id = id;
	ctx.env = &env;
	ctx.msg = &msg;
	if (msg.from[0])
		snprintf(ctx.who, sizeof(ctx.who), "%s", msg.from);
	else if (addr_canon(env.sender, ctx.who, sizeof(ctx.who)) != 0)
		ctx.who[0] = '\0';
	log_info("%s: from=<%s> who=<%s> subject=\"%.80s\"", id, env.sender,
	    ctx.who, msg.subject);

	/* Filters and DNS may take seconds: not inside the transaction. */
	moderate_prepare(&ctx);
	if (store_begin(st) != 0)
		goto done;
	for (i = 0; i < env.nrcpts; i++) {
		int r = process_dispatch(&ctx, env.rcpts[i]);

		if (r < 0) {
			store_rollback(st);
			log_warnx("%s: processing for <%s> failed; will retry",
			    id, env.rcpts[i]);
			goto done;
		}
		orphans += r;
	}
	if (process_mark_done(st, id) != 0 || store_commit(st) != 0) {
		store_rollback(st);
		goto done;
	}
	if (orphans == (int)env.nrcpts && !ctx.held)
		process_quarantine(cf, id, "no recipient is a list address");
	else
		process_finish_file(cf, st, id);
	rc = 0;
done:
	moderate_release(&ctx);
	message_free(&msg);
	spool_envelope_free(&env);
	free(raw);
	return rc;
}

static int
process_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
process_waiting(const char *id)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < nretries; i++)
		if (strcmp(retries[i].id, id) == 0)
			return now < retries[i].after;
	return 0;
}

static void
process_failed(const char *id, int ok)
{
	size_t i;

	for (i = 0; i < nretries; i++)
		if (strcmp(retries[i].id, id) == 0)
			break;
	if (ok) {
		if (i < nretries)
			retries[i] = retries[--nretries];
		return;
	}
	if (i == nretries) {
		retries = xrealloc(retries, (nretries + 1) * sizeof(*retries));
		snprintf(retries[nretries].id, sizeof(retries[0].id), "%s", id);
		retries[nretries].after = 0;
		nretries++;
	}
	retries[i].after = time(NULL) + PROCESS_RETRY_PAUSE;
}

/*
 * Process everything in new/, oldest first.  Returns how many messages
 * were finished with, or -1 when new/ cannot be read.
 */
int
process_pending(const struct config *cf, struct store *st)
{
	char *dir = spool_path(cf->state_dir, "new", NULL);
	char **ids = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int handled = 0;
	static int full;	/* the processor thread alone calls this */

	/*
	 * With the spool's file system full, every message would fail for
	 * a reason that is not its own, and three counted failures
	 * quarantine it: wait for room instead, without counting (the LMTP
	 * server refuses new mail meanwhile).
	 */
	if (!spool_space_ok(cf->state_dir, 0)) {
		if (!full)
			log_warn("spool %s: waiting for space before "
			    "processing", cf->state_dir);
		full = 1;
		free(dir);
		return 0;
	}
	full = 0;
	if ((d = opendir(dir)) == NULL) {
		log_warn("opendir %s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_valid_id(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	free(dir);
	if (n > 1)
		qsort(ids, n, sizeof(*ids), process_cmp);
	for (i = 0; i < n; i++) {
		if (!process_waiting(ids[i])) {
			int ok = process_one(cf, st, ids[i]) == 0;

			process_failed(ids[i], ok);
			handled += ok;
		}
		free(ids[i]);
	}
	free(ids);
	return handled;
}
