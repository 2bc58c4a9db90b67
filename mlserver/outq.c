/*
 * outq - the outbound queue; see outq.h.  What a message and its
 * recipients are in the queue: adding them, the fan-out over a list's
 * audience, the counts mlserverctl shows, and cleaning up after a crash.
 * Delivering them is outq_round.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "config.h"
#include "log.h"
#include "members.h"
#include "outq.h"
#include "spool.h"
#include "store.h"

int
outq_message_add(struct store *st, const char *id, const char *list,
    const char *kind, const char *sender)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO outmsg (id, list, kind, "
	    "sender, created) VALUES (?1, ?2, ?3, ?4, ?5)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, list ? list : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (long long)time(NULL));
	return store_step_done(st, s);
}

int
outq_add_rcpt(struct store *st, const char *id, const char *rcpt)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO outq "
	    "(msg, rcpt) VALUES (?1, ?2)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rcpt, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/*
 * Queue message id for the whole audience of list, each address once.
 * One statement: the rows stream from the members index into the queue.
 * Every mail to a list's whole audience passes here, so this is where it
 * is archived, in the same transaction (cf NULL: not archived).
 * Returns the number of recipients added, or -1.
 */
long long
outq_fanout(struct store *st, const struct config *cf, const char *id,
    const char *list)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO outq "
	    "(msg, rcpt) SELECT ?2, addr FROM (" MEMBERS_AUDIENCE_SQL ")");
	long long n;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	n = sqlite3_changes64(st->db);
	if (archive_record(st, cf, id, list) != 0)
		return -1;
	return n;
}

/*
 * Queue id for those of list's audience whose mode for it is mode
 * ("normal": each post; "digest": the digest), each address once.
 */
long long
outq_fanout_mode(struct store *st, const char *id, const char *list,
    const char *mode)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO outq "
	    "(msg, rcpt) SELECT ?2, addr FROM (" MEMBERS_MODE_SQL ") "
	    "WHERE mode = ?3");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, mode, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes64(st->db);
}

/* Send id with per-recipient VERP: a transaction per recipient. */
int
outq_message_verp(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE outmsg SET verp = 1 "
	    "WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* Record the recipient count once all of a message's rows are queued. */
int
outq_message_ready(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE outmsg SET total = "
	    "(SELECT count(*) FROM outq WHERE msg = ?1) WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* When the next recipient is due (0: none is waiting). */
time_t
outq_next_due(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT min(next_try) FROM outq "
	    "WHERE state IN (0, 2)");
	time_t t = 0;

	if (s == NULL)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		t = (time_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return t;
}

/* Make every deferred recipient due now (mlserverctl flush). */
int
outq_flush(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE outq SET next_try = 0 "
	    "WHERE state = 2");

	if (s == NULL || store_step_done(st, s) != 0)
		return -1;
	return (int)sqlite3_changes(st->db);
}

/* Call fn for each unfinished message with its counts, oldest first. */
int
outq_foreach(struct store *st, outq_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT o.id, o.list, o.kind, "
	    "o.created, o.total, o.sent, o.failed, "
	    "(SELECT count(*) FROM outq q WHERE q.msg = o.id AND q.state = 2), "
	    "(SELECT count(*) FROM outq q WHERE q.msg = o.id AND q.state = 0) "
	    "FROM outmsg o WHERE o.done = 0 ORDER BY o.created, o.id", -1, &s,
	    NULL) != SQLITE_OK) {
		store_log_error(st, "outq_foreach");
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct outq_summary q;

		q.id = (const char *)sqlite3_column_text(s, 0);
		q.list = (const char *)sqlite3_column_text(s, 1);
		q.kind = (const char *)sqlite3_column_text(s, 2);
		q.created = sqlite3_column_int64(s, 3);
		q.total = sqlite3_column_int64(s, 4);
		q.sent = sqlite3_column_int64(s, 5);
		q.failed = sqlite3_column_int64(s, 6);
		q.deferred = sqlite3_column_int64(s, 7);
		q.pending = sqlite3_column_int64(s, 8);
		if ((ret = fn(&q, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = -1;
	sqlite3_finalize(s);
	return ret;
}

/*
 * A file in out/ is written and fsynced before the transaction that
 * queues it commits.  A crash between the two leaves a file nobody will
 * send: remove such files at start-up.
 */
int
outq_cleanup_orphans(struct store *st, const struct config *cf)
{
	char *dir = spool_path(cf->state_dir, "out", NULL);
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL) {
		log_warn("opendir %s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		sqlite3_stmt *s;
		int rc;

		if (!spool_valid_id(de->d_name))
			continue;
		if ((s = store_stmt(st, "SELECT done FROM outmsg "
		    "WHERE id = ?1")) == NULL)
			break;
		sqlite3_bind_text(s, 1, de->d_name, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE || (rc == SQLITE_ROW &&
		    sqlite3_column_int(s, 0) == 1)) {
			char *p = spool_path(cf->state_dir, "out", de->d_name);

			if (unlink(p) == 0) {
				log_info("%s: removed unqueued file %s",
				    de->d_name, p);
				n++;
			}
			free(p);
		}
		sqlite3_reset(s);
	}
	closedir(d);
	free(dir);
	return n;
}
