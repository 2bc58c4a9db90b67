/*
 * pages - marks, regeneration and the helpers the page writers share;
 * see pages.h.
 *
 * A mark is a row (list, kind, gen): a trigger inserts it or raises gen.
 * pages_run reads the marks, rewrites the pages, and deletes a mark only
 * if its gen is still the one it read, so a change committed while the
 * pages were being written keeps its mark for the next round.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "html.h"
#include "log.h"
#include "pages.h"
#include "proposal_sched.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

/* A trigger that marks LIST_EXPR's pages of KIND after OP on TABLE. */
#define PAGES_TRIGGER(name, op, table, list_expr, kind)			\
	"CREATE TRIGGER " name " AFTER " op " ON " table " BEGIN "	\
	"INSERT INTO pages_dirty (list, kind) VALUES (coalesce("	\
	list_expr ", ''), '" kind "') ON CONFLICT (list, kind) DO "	\
	"UPDATE SET gen = gen + 1; END;"

static const char *const pages_steps[] = {
	/* 0 -> 1 */
	"CREATE TABLE pages_dirty ("
	"  list TEXT NOT NULL,"		/* whose proposal or event changed */
	"  kind TEXT NOT NULL,"		/* proposals, events */
	"  gen INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (list, kind)) WITHOUT ROWID;"
	PAGES_TRIGGER("pages_p_ins", "INSERT", "proposals", "NEW.list",
	    "proposals")
	PAGES_TRIGGER("pages_p_upd", "UPDATE", "proposals", "NEW.list",
	    "proposals")
	PAGES_TRIGGER("pages_ph_ins", "INSERT", "proposal_history",
	    "(SELECT list FROM proposals WHERE ref = NEW.ref)", "proposals")
	PAGES_TRIGGER("pages_pc_ins", "INSERT", "proposal_comments",
	    "(SELECT list FROM proposals WHERE ref = NEW.ref)", "proposals")
	PAGES_TRIGGER("pages_pc_upd", "UPDATE", "proposal_comments",
	    "(SELECT list FROM proposals WHERE ref = NEW.ref)", "proposals")
	PAGES_TRIGGER("pages_ps_ins", "INSERT", "proposal_supporters",
	    "(SELECT list FROM proposals WHERE ref = NEW.ref)", "proposals")
	PAGES_TRIGGER("pages_ps_del", "DELETE", "proposal_supporters",
	    "(SELECT list FROM proposals WHERE ref = OLD.ref)", "proposals")
	PAGES_TRIGGER("pages_psum_ins", "INSERT", "proposal_summaries",
	    "NEW.list", "proposals")
	PAGES_TRIGGER("pages_e_ins", "INSERT", "events", "NEW.list", "events")
	PAGES_TRIGGER("pages_e_upd", "UPDATE", "events", "NEW.list", "events")
	PAGES_TRIGGER("pages_r_ins", "INSERT", "rsvps",
	    "(SELECT list FROM events WHERE id = NEW.event)", "events")
	PAGES_TRIGGER("pages_r_upd", "UPDATE", "rsvps",
	    "(SELECT list FROM events WHERE id = NEW.event)", "events")
	PAGES_TRIGGER("pages_r_del", "DELETE", "rsvps",
	    "(SELECT list FROM events WHERE id = OLD.event)", "events"),
};

const struct store_schema pages_schema = {
	"pages", pages_steps, sizeof(pages_steps) / sizeof(pages_steps[0])
};

#define PAGES_REFRESH	3600	/* seconds: pages that age with the clock */
#define PAGES_BACKOFF	60	/* seconds after a failure */

struct mark {
	char		*list;
	unsigned	 kind;
	long long	 gen;
};

static int	 pages_marks(struct store *, struct mark **, size_t *);
static void	 pages_marks_free(struct mark *, size_t);
static int	 pages_unmark(struct store *, const struct mark *);
static int	 pages_same(const char *, const struct buf *);
static void	 pages_addr_text(struct buf *, const char *, size_t, int);
static void	 pages_addr_plain(struct buf *, const char *);
static int	 pages_addr_char(int, int);
static int	 pages_style(const char *);

/* The marks now in the table. */
static int
pages_marks(struct store *st, struct mark **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT list, kind, gen FROM "
	    "pages_dirty");
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *l = (const char *)sqlite3_column_text(s, 0);
		const char *k = (const char *)sqlite3_column_text(s, 1);

		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[*n].list = xstrdup(l ? l : "");
		(*out)[*n].kind = k && strcmp(k, "events") == 0 ?
		    PAGES_EVENTS : PAGES_PROPOSALS;
		(*out)[*n].gen = sqlite3_column_int64(s, 2);
		(*n)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "pages_dirty");
		pages_marks_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

static void
pages_marks_free(struct mark *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].list);
	free(m);
}

static int
pages_unmark(struct store *st, const struct mark *m)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM pages_dirty WHERE "
	    "list = ?1 AND kind = ?2 AND gen = ?3");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, m->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->kind == PAGES_EVENTS ? "events" :
	    "proposals", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, m->gen);
	return store_step_done(st, s);
}

/*
 * Whether archived list w shows the proposals and events of list: its
 * own, a region's chapters', and everything for a network list (the
 * same rule as PROPOSALS_SCOPE_SQL).
 */
int
pages_scope_has(const struct config *cf, const struct list *w,
    const char *list)
{
	const struct list *l = config_list(cf, list);

	if (l == NULL)
		return 0;
	if (l == w || w->scope == SCOPE_NETWORK)
		return 1;
	return w->scope == SCOPE_REGION && l->scope == SCOPE_CHAPTER &&
	    l->region && w->region && strcmp(l->region, w->region) == 0;
}

/*
 * The archive's stylesheet, written only when missing: the pages may be
 * written before the first post is archived, and rewriting it every
 * round would cost an fsync for nothing.
 */
static int
pages_style(const char *dir)
{
	struct buf path = BUF_INIT;
	struct stat sb;
	int rc = 0;

	buf_printf(&path, "%s/style.css", dir);
	if (stat(buf_cstr(&path), &sb) != 0)
		rc = html_write_style(dir);
	buf_free(&path);
	return rc;
}

/* Write the pages of what for archived list l. */
int
pages_write_list(const struct config *cf, struct store *st,
    const struct list *l, unsigned what, time_t now)
{
	int rc = 0;

	if (l->archive == NULL || l->archive->dir == NULL)
		return 0;
	if (pages_style(l->archive->dir) != 0)
		return -1;
	if ((what & PAGES_PROPOSALS) &&
	    pages_proposals_write(cf, st, l, now) != 0)
		rc = -1;
	if ((what & PAGES_EVENTS) && pages_events_write(cf, st, l, now) != 0)
		rc = -1;
	return rc;
}

/*
 * The processor's round: rewrite what the marks ask for, and everything
 * once an hour.  Returns the number of lists rewritten, or -1 (then the
 * marks stay and the next try waits a minute).
 */
int
pages_run(const struct config *cf, struct store *st)
{
	static time_t last_full, retry_after;	/* the processor thread's */
	time_t now = time(NULL);
	struct mark *m = NULL;
	unsigned *what;
	size_t n = 0, i, j;
	int done = 0, failed = 0;

	if (now < retry_after || pages_marks(st, &m, &n) != 0)
		return 0;
	what = xcalloc(cf->nlists + 1, sizeof(*what));
	for (j = 0; j < cf->nlists; j++) {
		const struct list *w = &cf->lists[j];

		if (w->archive == NULL)
			continue;
		if (now / PAGES_REFRESH != last_full / PAGES_REFRESH)
			what[j] = PAGES_ALL;
		for (i = 0; i < n; i++)
			if (pages_scope_has(cf, w, m[i].list))
				what[j] |= m[i].kind;
	}
	for (j = 0; j < cf->nlists; j++) {
		if (what[j] == 0)
			continue;
		if (pages_write_list(cf, st, &cf->lists[j], what[j], now) != 0)
			failed = 1;
		else
			done++;
	}
	if (failed) {
		log_warnx("pages: some pages could not be written; trying "
		    "again in %d seconds", PAGES_BACKOFF);
		retry_after = now + PAGES_BACKOFF;
	} else {
		for (i = 0; i < n; i++)
			if (pages_unmark(st, &m[i]) != 0)
				break;
		if (now / PAGES_REFRESH != last_full / PAGES_REFRESH)
			last_full = now;
	}
	free(what);
	pages_marks_free(m, n);
	return failed ? -1 : done;
}

/*
 * mlserverctl pages [LIST]: rewrite every page of LIST (or of every
 * archived list) now.  A sysexits.h code.
 */
int
pages_ctl(const struct config *cf, struct store *st, int argc, char **argv,
    struct buf *out)
{
	const struct list *only = NULL;
	time_t now = time(NULL);
	int rc = 0, n = 0;

	if (argc > 1) {
		fprintf(stderr, "usage: mlserverctl pages [LIST]\n");
		return 64;
	}
	if (argc == 1) {
		if ((only = config_list(cf, argv[0])) == NULL) {
			fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n",
			    argv[0], cf->path);
			return 67;
		}
		if (only->archive == NULL) {
			fprintf(stderr, "mlserverctl: list \"%s\" has no "
			    "archive\n", only->name);
			return 64;
		}
	}
	for (size_t i = 0; i < cf->nlists; i++) {
		const struct list *l = &cf->lists[i];

		if (l->archive == NULL || (only && l != only))
			continue;
		if (pages_write_list(cf, st, l, PAGES_ALL, now) != 0) {
			buf_printf(out, "%s: some pages could not be written "
			    "(see the log)\n", l->name);
			rc = 75;
			continue;
		}
		buf_printf(out, "%s: pages written in %s\n", l->name,
		    l->archive->dir);
		n++;
	}
	if (n == 0 && rc == 0)
		buf_adds(out, "no list has an archive\n");
	return rc;
}

/* 1 when the file at path holds exactly b. */
static int
pages_same(const char *path, const struct buf *b)
{
	struct stat sb;
	char *data;
	ssize_t got;
	size_t off = 0;
	int fd, same = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(fd, &sb) != 0 || (size_t)sb.st_size != b->len) {
		close(fd);
		return 0;
	}
	data = xmalloc(b->len + 1);
	while (off < b->len && (got = read(fd, data + off, b->len - off)) > 0)
		off += (size_t)got;
	same = off == b->len && (b->len == 0 || memcmp(data, b->data,
	    b->len) == 0);
	free(data);
	close(fd);
	return same;
}

/*
 * Write dir/name unless it already holds b: the hourly refresh then
 * touches only the pages that aged.  0 or -1 (logged by html_write).
 */
int
pages_put(const char *dir, const char *name, struct buf *b)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	buf_printf(&path, "%s/%s", dir, name);
	if (!pages_same(buf_cstr(&path), b))
		rc = html_write(buf_cstr(&path), b);
	buf_free(&path);
	return rc;
}

/* Characters of an address's local part (at == 0) or domain. */
static int
pages_addr_char(int c, int domain)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-')
		return 1;
	return !domain && (c == '_' || c == '+' || c == '%' || c == '=');
}

/*
 * s (n octets) with each address in it written as html_addr does; html:
 * escaped for a page, else plain text (a calendar's DESCRIPTION).
 */
static void
pages_addr_text(struct buf *b, const char *s, size_t n, int html)
{
	size_t i = 0, start = 0;

	while (i < n) {
		size_t a, e;
		char *addr;

		if (s[i] != '@') {
			i++;
			continue;
		}
		for (a = i; a > start && pages_addr_char((unsigned char)
		    s[a - 1], 0); a--)
			;
		for (e = i + 1; e < n && pages_addr_char((unsigned char)s[e],
		    1); e++)
			;
		/* A sentence's full stop is not the domain's. */
		while (e > i + 1 && s[e - 1] == '.')
			e--;
		if (a == i || e == i + 1) {
			i++;
			continue;
		}
		addr = xstrndup(s + a, e - a);
		if (html) {
			html_escape(b, s + start, a - start);
			html_addr(b, addr);
		} else {
			buf_add(b, s + start, a - start);
			pages_addr_plain(b, addr);
		}
		free(addr);
		i = start = e;
	}
	if (html)
		html_escape(b, s + start, n - start);
	else
		buf_add(b, s + start, n - start);
}

/* "taro at example…", as html_addr writes it, unescaped. */
static void
pages_addr_plain(struct buf *b, const char *addr)
{
	const char *at = strrchr(addr, '@'), *dot;

	buf_add(b, addr, (size_t)(at - addr));
	buf_adds(b, " at ");
	dot = strchr(at + 1, '.');
	if (dot == NULL) {
		buf_adds(b, at + 1);
		return;
	}
	buf_add(b, at + 1, (size_t)(dot - at - 1));
	buf_adds(b, "\xe2\x80\xa6");
}

/* Text for a calendar: addresses written so harvesters miss them. */
void
pages_plain(struct buf *b, const char *text)
{
	if (text)
		pages_addr_text(b, text, strlen(text), 0);
}

/* Who a list speaks for: its chapter's, region's or network's name. */
const char *
pages_from(const struct config *cf, const char *list)
{
	const struct list *l = config_list(cf, list);
	const struct chapter *c;
	const struct region *r;

	if (l == NULL)
		return list;
	if (l->scope == SCOPE_CHAPTER &&
	    (c = config_chapter(cf, l->region, l->chapter)) != NULL)
		return c->name;
	if (l->scope == SCOPE_REGION &&
	    (r = config_region(cf, l->region)) != NULL)
		return r->name;
	if (l->scope == SCOPE_NETWORK && cf->network_name)
		return cf->network_name;
	return l->name;
}

/* The archive's URL of path ("events.ics"); nothing without a url. */
void
pages_url(struct buf *b, const struct list *l, const char *path)
{
	const char *u = l->archive ? l->archive->url : NULL;
	size_t n;

	if (u == NULL || *u == '\0')
		return;
	n = strlen(u);
	buf_adds(b, u);
	if (u[n - 1] != '/')
		buf_addc(b, '/');
	buf_adds(b, path);
}

/*
 * People's words (a proposal, a comment, an answer) for a page: in a
 * <pre> that wraps, escaped, and with any mail address in it written so
 * harvesters do not find it.
 */
void
pages_text(struct buf *b, const char *text)
{
	buf_adds(b, "<pre>");
	pages_addr_text(b, text ? text : "", text ? strlen(text) : 0, 1);
	buf_adds(b, "</pre>\n");
}

/* The word for key on a page, from the pages-labels template. */
void
pages_label(struct buf *b, const struct config *cf, const char *lang,
    const char *key)
{
	char *text = template_load(cf, lang, "pages-labels");
	size_t k = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > k && strncmp(p, key, k) == 0 && p[k] == '=') {
			buf_add(b, p + k + 1, n - k - 1);
			free(text);
			return;
		}
		p = eol ? eol + 1 : p + n;
	}
	free(text);
	buf_adds(b, key);
}

/* A local date ("2026-12-05", with the time "2026-12-05 14:00"). */
void
pages_date(struct buf *b, const struct config *cf, time_t t, int with_time)
{
	proposal_sched_local(b, cf->timezone, t, with_time);
}

const char *
pages_lang(const struct config *cf, const struct list *l)
{
	return l->language ? l->language : cf->language ? cf->language : "ja";
}

/* The label key with its variables filled in, escaped for a page. */
void
pages_say(struct buf *b, const struct config *cf, const char *lang,
    const char *key, const struct tvar *v, size_t n)
{
	struct buf t = BUF_INIT, x = BUF_INIT;

	pages_label(&t, cf, lang, key);
	template_expand(&x, buf_cstr(&t), v, n);
	html_escapes(b, buf_cstr(&x));
	buf_free(&t);
	buf_free(&x);
}
