/*
 * archive_write - writing the archive's files after the commit; see
 * archive.h (archive_flush, archive_rebuild).
 *
 * Each pending row gets its page, then each month touched its indexes
 * and its mbox (rewritten whole from the kept copies), then each list
 * its list of months; only then are the rows marked done, so whatever
 * fails (a full disk, a crash) is simply written again later.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "archive_private.h"
#include "archive_render.h"
#include "buf.h"
#include "config.h"
#include "html.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

#define ARCHIVE_RETRY	30	/* seconds after a failed flush */
#define ARCHIVE_BATCH	5	/* seconds a busy burst may wait */

struct archive_todo {
	char		*list;
	long long	 n;
	char		 month[8];
};

struct archive_vec {
	struct archive_entry	*v;
	size_t			 n, cap;
};

static int	 archive_vec_add(const struct archive_entry *, void *);
static void	 archive_vec_free(struct archive_vec *);
static void	 archive_parent_of(struct store *, const char *,
		    struct archive_entry *);
static int	 archive_write_page(struct store *, const struct list *,
		    const char *, long long);
static int	 archive_write_month(struct store *, const struct list *,
		    const char *);
static int	 archive_write_mbox(struct store *, const struct list *,
		    const char *);
static int	 archive_write_top(struct store *, const struct list *);
static int	 archive_mark_done(struct store *, const char *, long long);
static int	 archive_settled(struct store *);

/* Only the daemon's processor thread flushes; no lock needed. */
static time_t archive_retry_at;

static int
archive_vec_add(const struct archive_entry *e, void *arg)
{
	struct archive_vec *v = arg;
	struct archive_entry *c;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 32;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	c = &v->v[v->n++];
	*c = *e;
	c->date = xstrdup(e->date);
	c->msgid = xstrdup(e->msgid);
	c->subject = xstrdup(e->subject);
	c->from_addr = xstrdup(e->from_addr);
	c->from_name = xstrdup(e->from_name);
	c->parent = xstrdup(e->parent);
	return 0;
}

static void
archive_vec_free(struct archive_vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		archive_entry_free(&v->v[i]);
	free(v->v);
}

/* Where E's parent is in the archive, for a link from E's page. */
static void
archive_parent_of(struct store *st, const char *list,
    struct archive_entry *e)
{
	sqlite3_stmt *s;
	int rc;

	if (*e->parent == '\0' || (s = store_stmt(st, "SELECT n, month "
	    "FROM archive WHERE list = ?1 AND msgid = ?2 AND n < ?3 "
	    "ORDER BY n LIMIT 1")) == NULL)
		return;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->parent, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, e->n);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e->parent_n = sqlite3_column_int64(s, 0);
		snprintf(e->parent_month, sizeof(e->parent_month), "%s",
		    (const char *)sqlite3_column_text(s, 1));
	} else if (rc != SQLITE_DONE)
		store_log_error(st, "archive parent");
	sqlite3_reset(s);
}

/* DIR/YYYY-MM/N.html and N's attachments beside it. */
static int
archive_write_page(struct store *st, const struct list *l,
    const char *month, long long n)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ARCHIVE_COLS ", raw "
	    "FROM archive WHERE list = ?1 AND n = ?2");
	struct archive_entry e;
	struct buf page = BUF_INIT, dir = BUF_INIT, path = BUF_INIT;
	int rc = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_log_error(st, "archive page");
		sqlite3_reset(s);
		return -1;
	}
	archive_entry_load(s, &e);
	archive_parent_of(st, l->name, &e);
	buf_printf(&dir, "%s/%s", l->archive->dir, month);
	buf_printf(&path, "%s/%lld.html", buf_cstr(&dir), n);
	if (html_mkdirs(buf_cstr(&dir)) == 0 &&
	    archive_render_page(&page, l->language, l->name, &e,
	    sqlite3_column_blob(s, 9), (size_t)sqlite3_column_bytes(s, 9),
	    buf_cstr(&dir)) == 0 &&
	    html_write(buf_cstr(&path), &page) == 0)
		rc = 0;
	sqlite3_reset(s);
	archive_entry_free(&e);
	buf_free(&page);
	buf_free(&dir);
	buf_free(&path);
	return rc;
}

/* DIR/YYYY-MM/index.html and thread.html. */
static int
archive_write_month(struct store *st, const struct list *l,
    const char *month)
{
	struct archive_vec v = { NULL, 0, 0 };
	struct buf page = BUF_INIT, path = BUF_INIT;
	int rc = -1;

	if (archive_foreach_month(st, l->name, month, archive_vec_add,
	    &v) != 0)
		goto done;
	archive_render_month(&page, l->language, l->name, month, v.v, v.n);
	buf_printf(&path, "%s/%s/index.html", l->archive->dir, month);
	if (html_write(buf_cstr(&path), &page) != 0)
		goto done;
	buf_reset(&page);
	buf_reset(&path);
	archive_render_thread(&page, l->language, l->name, month, v.v, v.n);
	buf_printf(&path, "%s/%s/thread.html", l->archive->dir, month);
	if (html_write(buf_cstr(&path), &page) != 0)
		goto done;
	rc = 0;
done:
	archive_vec_free(&v);
	buf_free(&page);
	buf_free(&path);
	return rc;
}

/* DIR/mbox/YYYY-MM.mbox, whole, from the kept copies. */
static int
archive_write_mbox(struct store *st, const struct list *l,
    const char *month)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT from_addr, ts, raw "
	    "FROM archive WHERE list = ?1 AND month = ?2 ORDER BY n");
	struct buf mbox = BUF_INIT, path = BUF_INIT;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, month, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		archive_mboxrd(&mbox, (const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int64(s, 1), sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "archive mbox");
		buf_free(&mbox);
		return -1;
	}
	buf_printf(&path, "%s/mbox/%s.mbox", l->archive->dir, month);
	rc = html_write(buf_cstr(&path), &mbox);
	buf_free(&mbox);
	buf_free(&path);
	return rc;
}

/* DIR/index.html (the months) and DIR/style.css. */
static int
archive_write_top(struct store *st, const struct list *l)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT month, COUNT(*) FROM archive "
	    "WHERE list = ?1 GROUP BY month ORDER BY month DESC");
	char (*months)[8] = NULL;
	long long *counts = NULL;
	size_t n = 0, cap = 0;
	struct buf page = BUF_INIT, path = BUF_INIT;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			months = xrealloc(months, cap * sizeof(*months));
			counts = xrealloc(counts, cap * sizeof(*counts));
		}
		snprintf(months[n], 8, "%s",
		    (const char *)sqlite3_column_text(s, 0));
		counts[n++] = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "archive months");
		rc = -1;
		goto done;
	}
	archive_render_months(&page, l->language, l->name, months, counts, n);
	buf_printf(&path, "%s/index.html", l->archive->dir);
	rc = html_write(buf_cstr(&path), &page) == 0 &&
	    html_write_style(l->archive->dir) == 0 ? 0 : -1;
done:
	free(months);
	free(counts);
	buf_free(&page);
	buf_free(&path);
	return rc;
}

static int
archive_mark_done(struct store *st, const char *list, long long n)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE archive SET done = 1 "
	    "WHERE list = ?1 AND n = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	return store_step_done(st, s);
}

/*
 * 1 when the pending rows should be written now: none came in the last
 * second, or the oldest has waited ARCHIVE_BATCH seconds.  A burst of
 * posts is thus written as one batch (each month's indexes and mbox
 * once), not post by post, while the processor has mail to handle.
 */
static int
archive_settled(struct store *st)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT MIN(ts), MAX(ts) "
	    "FROM archive WHERE done = 0");
	long long now = (long long)time(NULL), oldest, newest;
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		store_log_error(st, "archive pending");
		sqlite3_reset(s);
		return -1;
	}
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		sqlite3_reset(s);
		return 0;	/* nothing pending */
	}
	oldest = sqlite3_column_int64(s, 0);
	newest = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	return newest < now || now - oldest >= ARCHIVE_BATCH;
}

/*
 * Write the files of every row not yet written: each new page, then
 * once per month touched its indexes and mbox, once per list its list
 * of months.  A row is marked done only after all of that succeeded, so
 * a failure (a full disk) is retried on the next call.  Returns the
 * number of messages written, or -1.
 */
int
archive_flush(struct store *st, const struct config *cf)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT list, n, month FROM archive "
	    "WHERE done = 0 ORDER BY list, month, n LIMIT 500");
	struct archive_todo *t = NULL;
	const struct list *l;
	size_t n = 0, cap = 0, i;
	int rc, failed = 0;

	/* After a failure (a full disk), wait a little, not every second. */
	if (time(NULL) < archive_retry_at || archive_settled(st) == 0)
		return 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			t = xrealloc(t, cap * sizeof(*t));
		}
		t[n].list = xstrdup((const char *)sqlite3_column_text(s, 0));
		t[n].n = sqlite3_column_int64(s, 1);
		snprintf(t[n].month, sizeof(t[n].month), "%s",
		    (const char *)sqlite3_column_text(s, 2));
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "archive pending");
		failed = 1;
	}
	for (i = 0; i < n && !failed; i++) {
		l = config_list(cf, t[i].list);
		if (l == NULL || l->archive == NULL)
			continue;	/* no longer archived: nothing to write */
		if (archive_write_page(st, l, t[i].month, t[i].n) != 0)
			failed = 1;
		else if ((i + 1 == n || strcmp(t[i + 1].list, t[i].list) != 0 ||
		    strcmp(t[i + 1].month, t[i].month) != 0) &&
		    (archive_write_month(st, l, t[i].month) != 0 ||
		    archive_write_mbox(st, l, t[i].month) != 0))
			failed = 1;
		else if ((i + 1 == n || strcmp(t[i + 1].list, t[i].list) != 0) &&
		    archive_write_top(st, l) != 0)
			failed = 1;
	}
	/* One transaction: one commit for the batch, not one per row. */
	if (!failed && n > 0 && store_begin(st) != 0)
		failed = 1;
	for (i = 0; i < n && !failed; i++)
		if (archive_mark_done(st, t[i].list, t[i].n) != 0) {
			store_rollback(st);
			failed = 1;
		}
	if (!failed && n > 0 && store_commit(st) != 0)
		failed = 1;
	for (i = 0; i < n; i++)
		free(t[i].list);
	free(t);
	if (failed) {
		log_warnx("archive: files not written; will retry in %d s",
		    ARCHIVE_RETRY);
		archive_retry_at = time(NULL) + ARCHIVE_RETRY;
		return -1;
	}
	return (int)n;
}

/*
 * Write LIST's archive (every list's when NULL) again from the kept
 * copies: all rows are marked pending and flushed.
 */
int
archive_rebuild(struct store *st, const struct config *cf, const char *list,
    struct buf *report)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE archive SET done = 0 "
	    "WHERE ?1 IS NULL OR list = ?1");
	long long total = 0;
	int n;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	while ((n = archive_flush(st, cf)) > 0)
		total += n;
	if (n < 0)
		return -1;
	if (report != NULL)
		buf_printf(report, "%lld messages written\n", total);
	return 0;
}
