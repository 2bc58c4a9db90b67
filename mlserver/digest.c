/*
 * digest - daily digests: keeping posts, the schedule, the send; see
 * digest.h.
 *
 * A kept post is a row of digest_posts with the post's bytes in it: a
 * BLOB commits with the transaction that queues the post, so there is
 * no second file to fsync or to lose track of, and out/ID may go as soon
 * as the per-post copies are delivered.  A digest is sent by moving the
 * rows into one out/ file and deleting them in the same transaction.
 * The daily time is claimed per list as "YYYY-MM-DD HH:MM" (local) in
 * digest_schedule in that transaction too; a time changed by a reload
 * is a new claim, so the digest of the day follows the new setting.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compose.h"
#include "config.h"
#include "digest.h"
#include "digest_compose.h"
#include "ical.h"
#include "log.h"
#include "members.h"
#include "outq.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

#define EX_OK		0
#define EX_USAGE	64
#define EX_NOUSER	67
#define EX_TEMPFAIL	75

struct pending {
	struct digest_post	*v;
	size_t			 n;
	long long		 last;	/* highest row id taken */
	long long		 size;
};

static int	 dg_time_parse(const char *, int *);
static int	 dg_has_readers(struct store *, const char *);
static int	 dg_load(struct store *, const char *, struct pending *);
static void	 dg_pending_free(struct pending *);
static int	 dg_next_seq(struct store *, const char *);
static int	 dg_mark(struct store *, const char *, const char *, int,
		    const struct pending *, const char *, long long);
static void	 dg_point(const struct config *, const struct list *, time_t,
		    char *, size_t);
static int	 dg_claim(struct store *, const char *, const char *);
static int	 dg_claimed(struct store *, const char *, const char *);
static long long dg_waiting(struct store *, const char *);
static int	 dg_run(struct store *, const struct config *,
		    const struct list *, const char *, const char *, time_t);

static const char *const digest_steps[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE digest_posts ("		/* posts a digest will carry */
	"  id INTEGER PRIMARY KEY,"		/* order of posting */
	"  list TEXT NOT NULL,"
	"  msg TEXT NOT NULL,"			/* the post's outgoing id */
	"  created INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  data BLOB NOT NULL);"		/* the post as members got it */
	"CREATE INDEX digest_posts_list ON digest_posts (list, id);"
	"CREATE TABLE digests ("		/* digests sent */
	"  id TEXT PRIMARY KEY,"		/* outgoing id */
	"  list TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"		/* No. 1, 2, ... per list */
	"  created INTEGER NOT NULL,"
	"  posts INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  cause TEXT NOT NULL,"		/* time, size or now */
	"  recipients INTEGER NOT NULL,"
	"  UNIQUE (list, seq));"
	"CREATE TABLE digest_schedule ("	/* daily times claimed */
	"  list TEXT NOT NULL,"
	"  point TEXT NOT NULL,"		/* YYYY-MM-DD HH:MM, local */
	"  PRIMARY KEY (list, point)) WITHOUT ROWID;",
};

const struct store_schema digest_schema = {
	"digest", digest_steps, sizeof(digest_steps) / sizeof(digest_steps[0])
};

void
digest_conf_init(struct digest_conf *dc)
{
	dc->minute = DIGEST_TIME_DEFAULT;
	dc->max_size = DIGEST_SIZE_DEFAULT;
}

/* "HH:MM" (H may be one digit) into minutes of the day. */
static int
dg_time_parse(const char *s, int *minute)
{
	int h = 0, m, n = 0;

	while (n < 2 && s[n] >= '0' && s[n] <= '9')
		h = h * 10 + (s[n++] - '0');
	if (n == 0 || h > 23 || s[n] != ':' || s[n + 1] < '0' ||
	    s[n + 1] > '5' || s[n + 2] < '0' || s[n + 2] > '9' ||
	    s[n + 3] != '\0')
		return -1;
	m = (s[n + 1] - '0') * 10 + (s[n + 2] - '0');
	*minute = h * 60 + m;
	return 0;
}

/*
 * digest = { time = "HH:MM"; max_size = N; } over the values in *dc (the
 * defaults, or the config's for a list).  NULL s leaves them.  On error
 * -1 with the setting at fault and why.
 */
int
digest_conf_parse(const config_setting_t *s, struct digest_conf *dc,
    const config_setting_t **bad, const char **why)
{
	config_setting_t *t;
	int i, n;

	*bad = s;
	if (s == NULL)
		return 0;
	if (!config_setting_is_group(s)) {
		*why = "\"digest\" must be a group { time = \"07:00\"; "
		    "max_size = 100000; }";
		return -1;
	}
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		t = config_setting_get_elem(s, i);
		if (strcmp(config_setting_name(t), "time") != 0 &&
		    strcmp(config_setting_name(t), "max_size") != 0) {
			*bad = t;
			*why = "\"digest\" takes only \"time\" and "
			    "\"max_size\"";
			return -1;
		}
	}
	if ((t = config_setting_get_member(s, "time")) != NULL &&
	    (config_setting_type(t) != CONFIG_TYPE_STRING ||
	    dg_time_parse(config_setting_get_string(t), &dc->minute) != 0)) {
		*bad = t;
		*why = "\"time\" must be \"HH:MM\" (00:00 to 23:59, in the "
		    "timezone)";
		return -1;
	}
	if ((t = config_setting_get_member(s, "max_size")) != NULL) {
		long long v;

		if (config_setting_type(t) != CONFIG_TYPE_INT &&
		    config_setting_type(t) != CONFIG_TYPE_INT64) {
			*bad = t;
			*why = "\"max_size\" must be a number of octets";
			return -1;
		}
		v = config_setting_get_int64(t);
		if (v < 1000 || v > 1000000000LL) {
			*bad = t;
			*why = "\"max_size\" must be between 1000 and "
			    "1000000000 octets";
			return -1;
		}
		dc->max_size = (long)v;
	}
	return 0;
}

/*
 * Whether anyone reached by list reads it as a digest: a cheap test
 * (a digest membership within reach), so that lists without digest
 * readers keep no copies.  Who exactly gets the digest is decided when
 * it is sent.
 */
static int
dg_has_readers(struct store *st, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM members m "
	    "JOIN lists l ON l.name = m.list JOIN lists w ON w.name = ?1 "
	    "WHERE m.mode = 'digest' AND " MEMBERS_REACH_SQL " LIMIT 1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	return store_exists(st, s);
}

/*
 * Keep post id (data[0..len), as queued for the list's members) for
 * the next digest of l.  Runs inside the caller's transaction: the copy
 * commits with the post's own queueing, or neither does.
 */
int
digest_record(struct store *st, const struct config *cf,
    const struct list *l, const char *id, const char *data, size_t len)
{
	sqlite3_stmt *s;
	int r;

	(void)cf;
	if ((r = dg_has_readers(st, l->name)) <= 0)
		return r;
	s = store_stmt(st, "INSERT INTO digest_posts (list, msg, created, "
	    "size, data) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (long long)time(NULL));
	sqlite3_bind_int64(s, 4, (long long)len);
	sqlite3_bind_blob64(s, 5, data, (sqlite3_uint64)len, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	log_info("%s: %s: kept for the digest (%zu octets)", id, l->name,
	    len);
	return 0;
}

/* The posts waiting for list's digest, oldest first. */
static int
dg_load(struct store *st, const char *list, struct pending *p)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, created, data "
	    "FROM digest_posts WHERE list = ?1 ORDER BY id");
	size_t cap = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct digest_post *d;
		size_t n = (size_t)sqlite3_column_bytes(s, 2);
		char *copy = xmalloc(n + 1);

		if (p->n == cap) {
			cap = cap ? cap * 2 : 16;
			p->v = xrealloc(p->v, cap * sizeof(*p->v));
		}
		if (n > 0)
			memcpy(copy, sqlite3_column_blob(s, 2), n);
		copy[n] = '\0';
		d = &p->v[p->n++];
		d->data = copy;
		d->len = n;
		d->created = sqlite3_column_int64(s, 1);
		p->last = sqlite3_column_int64(s, 0);
		p->size += (long long)n;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "digest posts");
		dg_pending_free(p);
		return -1;
	}
	return 0;
}

static void
dg_pending_free(struct pending *p)
{
	for (size_t i = 0; i < p->n; i++)
		free((char *)p->v[i].data);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static int
dg_next_seq(struct store *st, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT coalesce(max(seq), 0) + 1 "
	    "FROM digests WHERE list = ?1");
	int seq = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		seq = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return seq;
}

/* Note digest id as sent and drop the posts it carries. */
static int
dg_mark(struct store *st, const char *list, const char *id, int seq,
    const struct pending *p, const char *cause, long long nrcpts)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO digests (id, list, "
	    "seq, created, posts, size, cause, recipients) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, seq);
	sqlite3_bind_int64(s, 4, (long long)time(NULL));
	sqlite3_bind_int64(s, 5, (long long)p->n);
	sqlite3_bind_int64(s, 6, p->size);
	sqlite3_bind_text(s, 7, cause, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, nrcpts);
	if (store_step_done(st, s) != 0)
		return -1;
	s = store_stmt(st, "DELETE FROM digest_posts WHERE list = ?1 "
	    "AND id <= ?2");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, p->last);
	return store_step_done(st, s);
}

/*
 * Send l's digest of every waiting post now, inside the caller's
 * transaction.  Returns the number of posts it carries (0: none waited,
 * nothing sent), or -1.  *nrcpts gets the number of digest readers.
 */
int
digest_send_list(struct store *st, const struct config *cf,
    const struct list *l, const char *cause, time_t now, long long *nrcpts)
{
	struct pending p;
	struct buf msg = BUF_INIT, bounces = BUF_INIT;
	char id[SPOOL_ID_LEN + 1];
	long long n = 0;
	int seq, rc = -1;

	*nrcpts = 0;
	if (dg_load(st, l->name, &p) != 0)
		return -1;
	if (p.n == 0)
		return 0;
	spool_new_id(id);
	buf_printf(&bounces, "%s-bounces@%s", l->name, cf->domain);
	if ((seq = dg_next_seq(st, l->name)) < 0 ||
	    digest_compose(&msg, cf, l, id, seq, now, p.v, p.n) != 0 ||
	    compose_write_out(cf, st, id, msg.data, msg.len) != 0 ||
	    outq_message_add(st, id, l->name, "digest",
	    buf_cstr(&bounces)) != 0 ||
	    (n = outq_fanout_mode(st, id, l->name, "digest")) < 0 ||
	    outq_message_ready(st, id) != 0 ||
	    dg_mark(st, l->name, id, seq, &p, cause, n) != 0)
		goto done;
	log_info("%s: %s: digest No. %d (%s) of %zu post%s, %zu octets, "
	    "queued for %lld recipient%s", id, l->name, seq, cause, p.n,
	    p.n == 1 ? "" : "s", msg.len, n, n == 1 ? "" : "s");
	*nrcpts = n;
	rc = (int)p.n;
done:
	dg_pending_free(&p);
	buf_free(&msg);
	buf_free(&bounces);
	return rc;
}

/*
 * The latest daily time of l at or before now, as "YYYY-MM-DD HH:MM" in
 * the config's timezone: today's once it has passed, else yesterday's.
 */
static void
dg_point(const struct config *cf, const struct list *l, time_t now,
    char *key, size_t size)
{
	int h = l->digest.minute / 60, m = l->digest.minute % 60;
	struct ical_local t;

	ical_to_local(cf->timezone, now, &t);
	if (ical_to_utc(cf->timezone, t.year, t.month, t.day, h, m, 0) > now)
		ical_to_local(cf->timezone, now - 86400, &t);
	snprintf(key, size, "%04d-%02d-%02d %02d:%02d", t.year, t.month,
	    t.day, h, m);
}

/* 1 when this call claimed (list, point), 0 when it was claimed. */
static int
dg_claim(struct store *st, const char *list, const char *point)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO "
	    "digest_schedule (list, point) VALUES (?1, ?2)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	/* Only the latest time is ever looked up: keep a week. */
	s = store_stmt(st, "DELETE FROM digest_schedule WHERE list = ?1 AND "
	    "substr(point, 1, 10) < date(substr(?2, 1, 10), '-7 days')");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
	return store_step_done(st, s) == 0 ? 1 : -1;
}

/* A read before the write: the tick looks every second. */
static int
dg_claimed(struct store *st, const char *list, const char *point)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM digest_schedule "
	    "WHERE list = ?1 AND point = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, point, -1, SQLITE_STATIC);
	return store_exists(st, s);
}

/* Octets waiting for list's digest. */
static long long
dg_waiting(struct store *st, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT coalesce(sum(size), 0) "
	    "FROM digest_posts WHERE list = ?1");
	long long n = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

/*
 * One transaction: claim point (when given; already claimed: nothing
 * to do) and send what waits.  Returns 1 when a digest was queued.
 */
static int
dg_run(struct store *st, const struct config *cf, const struct list *l,
    const char *point, const char *cause, time_t now)
{
	long long nrcpts;
	int rc;

	if (store_begin(st) != 0)
		return -1;
	if (point && (rc = dg_claim(st, l->name, point)) <= 0) {
		if (rc == 0)
			return store_commit(st);
		goto fail;
	}
	if ((rc = digest_send_list(st, cf, l, cause, now, &nrcpts)) < 0 ||
	    store_commit(st) != 0)
		goto fail;
	if (point)
		log_info("%s: digest time %s: %s", l->name, point, rc > 0 ?
		    "digest sent" : "no posts, no digest");
	return rc > 0;
fail:
	store_rollback(st);
	log_warnx("%s: the digest could not be queued; trying again later",
	    l->name);
	return -1;
}

/*
 * From the daemon's processor loop, at most once a second: each list's
 * daily digest once its time has come, and a digest now for a list
 * whose waiting posts reached max_size.  Returns the number of digests
 * queued, so the caller can wake the deliverer.
 */
int
digest_tick(struct store *st, const struct config *cf)
{
	static time_t last, hold_until;
	time_t now = time(NULL);
	char point[32];
	int sent = 0, rc;

	/* After a failure (a full disk, say), a minute before trying again. */
	if (now == last || now < hold_until)
		return 0;
	last = now;
	for (size_t i = 0; i < cf->nlists; i++) {
		const struct list *l = &cf->lists[i];

		dg_point(cf, l, now, point, sizeof(point));
		rc = 0;
		if (dg_claimed(st, l->name, point) == 0)
			rc = dg_run(st, cf, l, point, "time", now);
		if (rc == 0 && dg_waiting(st, l->name) >= l->digest.max_size)
			rc = dg_run(st, cf, l, NULL, "size", now);
		if (rc < 0)
			hold_until = now + 60;
		sent += rc > 0;
	}
	return sent;
}

/*
 * mlserverctl digest [LIST]: every list's (or only's) waiting posts as
 * a digest now, each list in its own transaction; a line per list sent
 * (and for only, a line either way) in report.  Returns the number of
 * digests queued, or -1.
 */
int
digest_now(struct store *st, const struct config *cf,
    const struct list *only, struct buf *report)
{
	time_t now = time(NULL);
	int total = 0;

	for (size_t i = 0; i < cf->nlists; i++) {
		const struct list *l = &cf->lists[i];
		long long nrcpts;
		int n;

		if (only && l != only)
			continue;
		if (store_begin(st) != 0)
			return -1;
		if ((n = digest_send_list(st, cf, l, "now", now,
		    &nrcpts)) < 0 || store_commit(st) != 0) {
			store_rollback(st);
			return -1;
		}
		if (n > 0) {
			buf_printf(report, "%s: digest of %d post%s queued "
			    "for %lld recipient%s\n", l->name, n,
			    n == 1 ? "" : "s", nrcpts, nrcpts == 1 ? "" : "s");
			total++;
		} else if (only)
			buf_printf(report, "%s: no posts waiting\n", l->name);
	}
	if (total == 0 && only == NULL)
		buf_adds(report, "no posts waiting for a digest\n");
	return total;
}

/* mlserverctl digest [LIST]; the daemon is told to deliver at once. */
int
digest_ctl(const struct config *cf, struct store *st, int argc, char **argv,
    struct buf *out)
{
	const struct list *only = NULL;
	char *path;
	FILE *fp;
	long pid = 0;
	int n;

	if (argc > 1) {
		fprintf(stderr, "usage: mlserverctl digest [LIST]\n");
		return EX_USAGE;
	}
	if (argc == 1 && (only = config_list(cf, argv[0])) == NULL) {
		fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n", argv[0],
		    cf->path);
		return EX_NOUSER;
	}
	if (spool_init(cf->state_dir) != 0 ||
	    (n = digest_now(st, cf, only, out)) < 0) {
		fprintf(stderr, "mlserverctl: cannot queue digests now; "
		    "nothing was sent\n");
		return EX_TEMPFAIL;
	}
	if (n == 0)
		return EX_OK;
	path = config_state_path(cf, "mlserverd.pid");
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	free(path);
	if (pid > 0)
		kill((pid_t)pid, SIGUSR1);
	return EX_OK;
}
