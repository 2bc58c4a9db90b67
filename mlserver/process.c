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

/*
 * Messages handled in one transaction: its commit, not the work, was
 * most of what a small message cost.  A batch stops at the count or once
 * its files hold the octets.
 */
#define PROCESS_BATCH		64
#define PROCESS_BATCH_OCTETS	(4 * 1024 * 1024)

/* One message of a batch, from its file to its handling. */
struct pmsg {
	const char		*id;
	struct spool_envelope	 env;
	struct message		 msg;
	struct mail_ctx		 ctx;
	char			*raw;
	size_t			 len;
	int			 live;		/* read and parsed */
	int			 ok;		/* handled, committed */
	int			 orphans;	/* recipients not lists */
};

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
static int	 process_run(const struct config *, struct store *,
		    char **, size_t);
static int	 process_flush(const struct config *, struct store *,
		    char **, size_t, int *);
static int	 process_precheck(const struct config *, struct store *,
		    const char *);
static size_t	 process_batch(const struct config *, struct store *,
		    char **, size_t, int *);
static size_t	 process_read(const struct config *, struct pmsg *,
		    char **, size_t);
static int	 process_attempts(struct store *, struct pmsg *, size_t);
static void	 process_parse(const struct config *, struct store *,
		    struct pmsg *);
static int	 process_handle(struct store *, struct pmsg *, size_t);
static void	 process_done(const struct config *, struct store *,
		    struct pmsg *);
static void	 process_free(struct pmsg *);
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
		held = store_exists(st, s) == 1;
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
 * Handle ids[0..n) (sorted: oldest first) in batches.  Returns how many
 * were finished with.
 */
static int
process_run(const struct config *cf, struct store *st, char **ids, size_t n)
{
	char **batch = xcalloc(n, sizeof(*batch));
	int *ok = xcalloc(n, sizeof(*ok));
	size_t nb = 0, i;
	int handled = 0;

	for (i = 0; i <= n; i++) {
		int pre = 0;

		if (i < n) {
			if (process_waiting(ids[i]))
				continue;
			if ((pre = process_precheck(cf, st, ids[i])) == 0) {
				batch[nb++] = ids[i];
				if (nb < PROCESS_BATCH)
					continue;
			} else if (pre != 2) {
				process_failed(ids[i], pre == 1);
				handled += pre == 1;
				continue;
			}
		}
		/* Full, the end, or one to be handled alone: in order. */
		handled += process_flush(cf, st, batch, nb, ok);
		nb = 0;
		if (pre == 2)
			handled += process_flush(cf, st, &ids[i], 1, ok);
	}
	free(batch);
	free(ok);
	return handled;
}

/* ids[0..n) in as many batches as their size needs. */
static int
process_flush(const struct config *cf, struct store *st, char **ids,
    size_t n, int *ok)
{
	size_t done = 0, k, i;
	int handled = 0;

	while (done < n) {
		k = process_batch(cf, st, ids + done, n - done, ok);
		for (i = 0; i < k; i++) {
			process_failed(ids[done + i], ok[i]);
			handled += ok[i];
		}
		done += k;
	}
	return handled;
}

/*
 * What new/id needs before it can join a batch: 1 when it is already
 * finished with (handled before a crash, or failed too often), 0 when it
 * is to be handled, 2 when it is, alone: it was tried before, and one
 * message that crashes the daemon must not count attempts against the
 * others of its batch.  -1 on a database error.
 */
static int
process_precheck(const struct config *cf, struct store *st, const char *id)
{
	int attempts, done;

	if (process_state(st, id, &attempts, &done) != 0)
		return -1;
	if (done) {
		/* Handled before a crash; only the file was left. */
		process_finish_file(cf, st, id);
		return 1;
	}
	if (attempts >= PROCESS_MAX_ATTEMPTS) {
		process_quarantine(cf, id, "processing failed three times");
		return 1;
	}
	return attempts > 0 ? 2 : 0;
}

/*
 * Handle a batch taken from ids[0..n): as many as PROCESS_BATCH and
 * PROCESS_BATCH_OCTETS allow, at least one.  ok[i] says whether ids[i]
 * is finished with.  Returns how many ids it took.
 */
static size_t
process_batch(const struct config *cf, struct store *st, char **ids,
    size_t n, int *ok)
{
	struct pmsg *b = xcalloc(n, sizeof(*b));
	size_t taken, i;

	taken = process_read(cf, b, ids, n);
	for (i = 0; i < taken; i++)
		ok[i] = !b[i].live;	/* unreadable: quarantined */
	/* Counted before it is tried: a crash then still counts. */
	if (process_attempts(st, b, taken) == 0) {
		for (i = 0; i < taken; i++)
			if (b[i].live)
				process_parse(cf, st, &b[i]);
		for (i = 0; i < taken; i++)
			if (!b[i].live && b[i].raw != NULL)
				ok[i] = 1;	/* not mail: quarantined */
		if (process_handle(st, b, taken) == 0)
			for (i = 0; i < taken; i++)
				if (b[i].ok) {
					process_done(cf, st, &b[i]);
					ok[i] = 1;
				}
	}
	for (i = 0; i < taken; i++)
		process_free(&b[i]);
	free(b);
	return taken;
}

/* Read files into b until the batch is full; how many ids were taken. */
static size_t
process_read(const struct config *cf, struct pmsg *b, char **ids, size_t n)
{
	size_t i, octets = 0;

	for (i = 0; i < n && i < PROCESS_BATCH &&
	    (i == 0 || octets < PROCESS_BATCH_OCTETS); i++) {
		char *path = spool_path(cf->state_dir, "new", ids[i]);

		b[i].id = ids[i];
		if (spool_read(path, &b[i].env, &b[i].raw, &b[i].len) != 0) {
			process_quarantine(cf, ids[i],
			    "unreadable spool file");
			spool_envelope_free(&b[i].env);
			free(b[i].raw);
			b[i].raw = NULL;
		} else {
			b[i].live = 1;
			octets += b[i].len;
		}
		free(path);
	}
	return i;
}

/* One attempt more for each readable message, in one transaction. */
static int
process_attempts(struct store *st, struct pmsg *b, size_t n)
{
	size_t i;

	if (store_begin(st) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (b[i].live && process_attempt(st, b[i].id) != 0) {
			store_rollback(st);
			return -1;
		}
	return store_commit(st);
}

/* Parse, and what may take seconds (filters, DNS): outside the write. */
static void
process_parse(const struct config *cf, struct store *st, struct pmsg *p)
{
	struct mail_ctx *ctx = &p->ctx;

	if (message_parse(p->raw, p->len, &p->msg) != 0) {
		process_quarantine(cf, p->id, "not a mail message that can be "
		    "parsed");
		p->live = 0;
		return;
	}
	ctx->cf = cf;
	ctx->st = st;
	ctx->id = p->id;
	ctx->env = &p->env;
	ctx->msg = &p->msg;
	if (p->msg.from[0])
		snprintf(ctx->who, sizeof(ctx->who), "%s", p->msg.from);
	else if (addr_canon(p->env.sender, ctx->who, sizeof(ctx->who)) != 0)
		ctx->who[0] = '\0';
	log_info("%s: from=<%s> who=<%s> subject=\"%.80s\"", p->id,
	    p->env.sender, ctx->who, p->msg.subject);
	moderate_prepare(ctx);
}

/*
 * Every live message's recipients handled and the message marked done,
 * each in a savepoint of its own inside one transaction: one that fails
 * is rolled back alone and retried later.  0 when the transaction
 * committed (b[i].ok tells which messages it holds), -1 when not.
 */
static int
process_handle(struct store *st, struct pmsg *b, size_t n)
{
	size_t i, j;

	if (store_begin(st) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct pmsg *p = &b[i];
		int r = 0;

		if (!p->live)
			continue;
		if (store_begin(st) != 0)
			goto fail;
		p->orphans = 0;
		for (j = 0; j < p->env.nrcpts && r >= 0; j++)
			if ((r = process_dispatch(&p->ctx,
			    p->env.rcpts[j])) > 0)
				p->orphans += r;
		if (r < 0 || process_mark_done(st, p->id) != 0 ||
		    store_commit(st) != 0) {
			store_rollback(st);
			if (r < 0)
				log_warnx("%s: processing for <%s> failed; "
				    "will retry", p->id, p->env.rcpts[j - 1]);
			else
				log_warnx("%s: cannot be marked done; will "
				    "retry", p->id);
			continue;
		}
		p->ok = 1;
	}
	if (store_commit(st) != 0)
		goto fail;
	return 0;
fail:
	store_rollback(st);
	for (i = 0; i < n; i++)
		b[i].ok = 0;
	log_warnx("processing: a batch of %zu messages was not recorded; "
	    "will retry", n);
	return -1;
}

/* After the commit: the file goes, to held/ or quarantine/ or away. */
static void
process_done(const struct config *cf, struct store *st, struct pmsg *p)
{
	if (p->orphans == (int)p->env.nrcpts && !p->ctx.held)
		process_quarantine(cf, p->id, "no recipient is a list address");
	else
		process_finish_file(cf, st, p->id);
}

static void
process_free(struct pmsg *p)
{
	if (p->ctx.cf != NULL)
		moderate_release(&p->ctx);
	if (p->raw != NULL)
		message_free(&p->msg);
	spool_envelope_free(&p->env);
	free(p->raw);
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
	handled = process_run(cf, st, ids, n);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return handled;
}
