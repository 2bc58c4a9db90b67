/*
 * archive - numbering and keeping the archive, and reading it back; see
 * archive.h.  The files are written by archive_write.c, the pages made
 * by archive_render.c.
 *
 * The kept copy of each message lives in state.db (archive.raw), not
 * only in the mbox: the mbox of a month is rewritten whole from those
 * copies after each new message, so a crash while writing it can never
 * leave a torn or doubled entry, and "mlserverctl archive rebuild" needs
 * nothing but the database.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "archive_private.h"
#include "buf.h"
#include "compose.h"
#include "config.h"
#include "event_date.h"
#include "log.h"
#include "message.h"
#include "mime.h"
#include "outq_body.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

static char	*archive_parent(const char *, size_t);
static int	 archive_not_archived_at(const char *, size_t, const char *,
		    size_t, void *);
static void	 archive_add_field(struct buf *, const char *, size_t,
		    const char *);
static long long archive_next(struct store *, const char *);
static int	 archive_exists(struct store *, const char *, const char *);
static int	 archive_insert(struct store *, const char *, long long,
		    const char *, const char *, const struct message *,
		    const char *, const struct buf *, const char *);
static char	*archive_col(sqlite3_stmt *, int);

static const char *const archive_steps[] = {
	"CREATE TABLE archive ("
	"  list TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"			/* the list's number */
	"  month TEXT NOT NULL,"		/* YYYY-MM, list's time */
	"  date TEXT NOT NULL,"			/* YYYY-MM-DD HH:MM */
	"  ts INTEGER NOT NULL,"
	"  msgid TEXT NOT NULL DEFAULT '',"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  from_addr TEXT NOT NULL DEFAULT '',"
	"  from_name TEXT NOT NULL DEFAULT '',"
	"  parent TEXT NOT NULL DEFAULT '',"	/* In-Reply-To */
	"  outid TEXT NOT NULL,"		/* out/ID it was sent as */
	"  raw BLOB NOT NULL,"			/* as sent, LF line ends */
	"  done INTEGER NOT NULL DEFAULT 0,"	/* files written */
	"  PRIMARY KEY (list, n));"
	"CREATE INDEX archive_month ON archive (list, month, n);"
	"CREATE UNIQUE INDEX archive_out ON archive (list, outid);"
	"CREATE INDEX archive_todo ON archive (done);",
};

const struct store_schema archive_schema = {
	"archive", archive_steps,
	sizeof(archive_steps) / sizeof(archive_steps[0])
};


void
archive_page_url(struct buf *b, const char *url, const char *month,
    long long n)
{
	size_t len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		len--;
	buf_add(b, url, len);
	buf_printf(b, "/%s/%lld.html", month, n);
}

/*
 * The message-id this one answers: In-Reply-To's first <...>, else the
 * last of References (clients disagree on which they fill in).
 */
static char *
archive_parent(const char *raw, size_t len)
{
	char *v, *lt, *gt, *r = NULL;

	if ((v = message_header_get(raw, len, "In-Reply-To")) != NULL &&
	    (lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
		r = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	free(v);
	if (r != NULL)
		return r;
	if ((v = message_header_get(raw, len, "References")) != NULL &&
	    (lt = strrchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL)
		r = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	free(v);
	return r != NULL ? r : xstrdup("");
}

/* Keeps every header field but an earlier Archived-At. */
static int
archive_not_archived_at(const char *name, size_t namelen, const char *field,
    size_t fieldlen, void *arg)
{
	(void)field;
	(void)fieldlen;
	(void)arg;
	return !mime_field_is(name, namelen, "archived-at");
}

/*
 * raw with FIELD (one line, LF) at the end of its header, in place of
 * any Archived-At it had (a post forwarded from another archived list):
 * the members' copy points at one archive, ours.
 */
static void
archive_add_field(struct buf *out, const char *raw, size_t len,
    const char *field)
{
	size_t body = mime_header_end(raw, len);
	int blank = body < len || (body > 0 && raw[body - 1] == '\n' &&
	    (body == 1 || raw[body - 2] == '\n'));

	if (!blank) {
		/* No empty line: all header (a message without a body). */
		mime_fields_keep(out, raw, len, archive_not_archived_at, NULL);
		if (len > 0 && raw[len - 1] != '\n')
			buf_adds(out, "\n");
		buf_adds(out, field);
		return;
	}
	/* Fields up to the empty line; ours; the empty line and body. */
	mime_fields_keep(out, raw, body - 1, archive_not_archived_at, NULL);
	buf_adds(out, field);
	buf_add(out, raw + body - 1, len - body + 1);
}

static long long
archive_next(struct store *st, const char *list)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT COALESCE(MAX(n), 0) + 1 "
	    "FROM archive WHERE list = ?1");
	long long n;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		store_log_error(st, "archive number");
		sqlite3_reset(s);
		return -1;
	}
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

static int
archive_exists(struct store *st, const char *list, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM archive "
	    "WHERE list = ?1 AND outid = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return store_exists(st, s);
}

static int
archive_insert(struct store *st, const char *list, long long n,
    const char *stamp, const char *id, const struct message *m,
    const char *parent, const struct buf *raw, const char *from)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO archive (list, n, "
	    "month, date, ts, msgid, subject, from_addr, from_name, parent, "
	    "outid, raw) VALUES (?1, ?2, substr(?3, 1, 7), ?3, ?4, ?5, ?6, "
	    "?7, ?8, ?9, ?10, ?11)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	sqlite3_bind_text(s, 3, stamp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (long long)time(NULL));
	sqlite3_bind_text(s, 5, m->message_id ? m->message_id : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 6, m->subject ? m->subject : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 7, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, m->from_name ? m->from_name : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 9, parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 11, raw->data ? raw->data : "", (int)raw->len,
	    SQLITE_STATIC);
	return store_step_done(st, s);
}

/*
 * Archive out/ID, just queued to LIST's audience, in the caller's
 * transaction: number it, add Archived-At to the copy to be sent, keep
 * it.  A list without an archive, or a message already archived (the
 * same ID queued again), is left alone.
 */
int
archive_record(struct store *st, const struct config *cf, const char *id,
    const char *list)
{
	const struct list *l = cf ? config_list(cf, list) : NULL;
	struct buf lf = BUF_INIT, out = BUF_INIT;
	struct buf stamp = BUF_INIT, field = BUF_INIT;
	struct message m;
	char *text = NULL, *parent = NULL;
	const char *from;
	size_t len = 0;
	char month[8];
	long long n;
	int rc = -1, parsed = 0;

	if (l == NULL || l->archive == NULL)
		return 0;
	if ((rc = archive_exists(st, list, id)) != 0)
		return rc < 0 ? -1 : 0;
	rc = -1;
	if (outq_body_get(st, cf, id, &text, &len) != 0)
		goto done;
	mime_lf(&lf, text, len);
	/*
	 * What we are about to send always parses (it was parsed on the
	 * way in); should it not, it is still archived, without its
	 * subject and sender, rather than held back from the members.
	 */
	if (message_parse(lf.data ? lf.data : "", lf.len, &m) == 0)
		parsed = 1;
	else {
		log_warnx("%s: %s: archive: cannot parse the message; kept "
		    "without subject and sender", id, list);
		memset(&m, 0, sizeof(m));
	}
	if ((n = archive_next(st, list)) < 0)
		goto done;
	parent = archive_parent(lf.data, lf.len);
	event_date_stamp(&stamp, cf->timezone, time(NULL));
	snprintf(month, sizeof(month), "%.7s", buf_cstr(&stamp));
	if (l->archive->url != NULL) {
		buf_adds(&field, "Archived-At: <");
		archive_page_url(&field, l->archive->url, month, n);
		buf_adds(&field, ">\n");
		archive_add_field(&out, lf.data, lf.len, buf_cstr(&field));
		if (compose_write_out(cf, st, id, out.data, out.len) != 0)
			goto done;
	} else
		buf_add(&out, lf.data, lf.len);
	from = m.from[0] ? m.from : "";
	if (archive_insert(st, list, n, buf_cstr(&stamp), id, &m, parent,
	    &out, from) != 0)
		goto done;
	log_info("%s: %s: archived as %lld", id, list, n);
	rc = 0;
done:
	if (parsed)
		message_free(&m);
	free(parent);
	free(text);
	buf_free(&lf);
	buf_free(&out);
	buf_free(&stamp);
	buf_free(&field);
	return rc;
}

void
archive_entry_free(struct archive_entry *e)
{
	free(e->date);
	free(e->msgid);
	free(e->subject);
	free(e->from_addr);
	free(e->from_name);
	free(e->parent);
	memset(e, 0, sizeof(*e));
}

static char *
archive_col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return xstrdup(t ? (const char *)t : "");
}

/* Reads the ARCHIVE_COLS of the row s is on. */
void
archive_entry_load(sqlite3_stmt *s, struct archive_entry *e)
{
	const unsigned char *t;

	e->n = sqlite3_column_int64(s, 0);
	t = sqlite3_column_text(s, 1);
	snprintf(e->month, sizeof(e->month), "%s", t ? (const char *)t : "");
	e->date = archive_col(s, 2);
	e->ts = sqlite3_column_int64(s, 3);
	e->msgid = archive_col(s, 4);
	e->subject = archive_col(s, 5);
	e->from_addr = archive_col(s, 6);
	e->from_name = archive_col(s, 7);
	e->parent = archive_col(s, 8);
	e->parent_n = 0;
	e->parent_month[0] = '\0';
}

int
archive_foreach_month(struct store *st, const char *list, const char *month,
    archive_fn *fn, void *arg)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ARCHIVE_COLS " FROM archive "
	    "WHERE list = ?1 AND month = ?2 ORDER BY n");
	struct archive_entry e;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, month, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		archive_entry_load(s, &e);
		rc = fn(&e, arg);
		archive_entry_free(&e);
		if (rc != 0) {
			sqlite3_reset(s);
			return rc;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "archive month");
		return -1;
	}
	return 0;
}

/* The newest month with messages: 1, 0 when none, -1 on error. */
int
archive_last_month(struct store *st, const char *list, char month[8])
{
	sqlite3_stmt *s = store_stmt(st, "SELECT MAX(month) FROM archive "
	    "WHERE list = ?1");
	const unsigned char *t;
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		store_log_error(st, "archive months");
		sqlite3_reset(s);
		return -1;
	}
	t = sqlite3_column_text(s, 0);
	rc = t != NULL;
	if (t != NULL)
		snprintf(month, 8, "%s", (const char *)t);
	sqlite3_reset(s);
	return rc;
}

int
archive_get(struct store *st, const char *list, long long n,
    struct buf *raw)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT raw FROM archive "
	    "WHERE list = ?1 AND n = ?2");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		buf_add(raw, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "archive get");
		return -1;
	}
	return 0;
}
