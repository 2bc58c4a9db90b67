/*
 * archive_render - pages of the archive and its mbox; see
 * archive_render.h.
 *
 * Mail is hostile input and the pages are served from the list's own
 * web origin, so: every string goes through html_escape(); text/html is
 * never rendered, only shown as escaped source; an attachment is saved
 * under a name of our making, and any extension a browser could run
 * (html, svg, xml, js ...) is not kept, so the web server never serves
 * it as something active.  Addresses go through html_addr().
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "archive_render.h"
#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "html.h"
#include "log.h"
#include "mime.h"
#include "xmalloc.h"

#define ARCHIVE_DEPTH_MAX	8	/* nested multiparts we follow */
#define ARCHIVE_NEST_MAX	20	/* thread levels shown nested */

struct page_ctx {
	struct buf	*out;
	struct buf	 atts;		/* the list of attachments */
	const char	*lang;
	const char	*monthdir;
	long long	 n;
	int		 part;		/* parts seen, for file names */
	int		 natts;
};

static const char *L(const char *, const char *, const char *);
static void	 archive_walk(struct page_ctx *, const char *, size_t, int);
static void	 archive_text(struct page_ctx *, const char *, size_t,
		    const struct mime_ctype *);
static void	 archive_html_source(struct page_ctx *, const char *, size_t,
		    const struct mime_ctype *);
static void	 archive_attachment(struct page_ctx *, const char *, size_t,
		    const struct mime_ctype *);
static char	*archive_param(const char *, const char *);
static char	*archive_part_name(const char *, size_t);
static int	 archive_is_attachment(const char *, size_t);
static void	 archive_decode(const char *, size_t, struct buf *);
static void	 archive_who(struct buf *, const struct archive_entry *);
static void	 archive_nav(struct buf *, const char *, const char *, int);
static void	 archive_thread_node(struct buf *, const struct archive_entry *,
		    size_t, const size_t *, size_t, int);

/* The label in the page's language: ja or en. */
static const char *
L(const char *lang, const char *ja, const char *en)
{
	return lang != NULL && strcmp(lang, "ja") == 0 ? ja : en;
}

void
archive_safe_name(struct buf *out, const char *name)
{
	static const char *const keep[] = {
		"txt", "pdf", "jpg", "jpeg", "png", "gif", "webp", "ics",
		"csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt",
		"ods", "odp", "zip", "mp3", "mp4", "m4a", NULL
	};
	size_t start = out->len, i, n = 0;
	const char *dot;
	int ok = 0;

	for (i = 0; name != NULL && name[i] != '\0' && n < 80; i++) {
		unsigned char c = (unsigned char)name[i];

		if (isalnum(c) || c == '-' || c == '_' ||
		    (c == '.' && n > 0))
			buf_addc(out, c);
		else if (c >= 0x80 || c == ' ') {
			/* A run of them (a Japanese word) becomes one '_'. */
			if (n > 0 && out->data[out->len - 1] == '_')
				continue;
			buf_addc(out, '_');
		} else
			continue;
		n++;
	}
	if (n == 0)
		buf_adds(out, "part");
	buf_cstr(out);
	dot = strrchr(out->data + start, '.');
	for (i = 0; dot != NULL && keep[i] != NULL; i++)
		if (strcasecmp(dot + 1, keep[i]) == 0)
			ok = 1;
	/* Anything a browser might render or run is served as a download. */
	if (!ok)
		buf_adds(out, ".bin");
}

void
archive_mboxrd(struct buf *out, const char *from_addr, long long ts,
    const char *raw, size_t len)
{
	time_t t = (time_t)ts;
	struct tm tm;
	char date[64];
	size_t i = 0, eol, k;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From %s %s\n", from_addr != NULL && *from_addr ?
	    from_addr : "MAILER-DAEMON", date);
	while (i < len) {
		for (eol = i; eol < len && raw[eol] != '\n'; eol++)
			;
		/* mboxrd: ">*From " gains one more '>'. */
		for (k = i; k < eol && raw[k] == '>'; k++)
			;
		if (eol - k >= 5 && memcmp(raw + k, "From ", 5) == 0)
			buf_addc(out, '>');
		buf_add(out, raw + i, eol - i);
		buf_addc(out, '\n');
		i = eol + 1;
	}
	buf_addc(out, '\n');
}

/* The value of parameter NAME in a header value (quoted or a token). */
static char *
archive_param(const char *v, const char *name)
{
	size_t nl = strlen(name);
	const char *p = v, *e;
	struct buf b = BUF_INIT;

	for (; v != NULL && *p != '\0'; p++)
		if (strncasecmp(p, name, nl) == 0 && p[nl] == '=' &&
		    (p == v || p[-1] == ';' || p[-1] == ' ' || p[-1] == '\t'))
			break;
	if (v == NULL || *p == '\0')
		return NULL;
	p += nl + 1;
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			buf_addc(&b, *p);
		}
	} else {
		for (e = p; *e != '\0' && *e != ';' && *e != ' '; e++)
			;
		buf_add(&b, p, (size_t)(e - p));
	}
	return buf_release(&b);
}

/*
 * A part's file name, UTF-8: filename*= (RFC 2231, one segment),
 * filename=, then the Content-Type's name=, encoded words decoded.
 */
static char *
archive_part_name(const char *part, size_t len)
{
	char *cd = mime_field_value(part, len, "Content-Disposition");
	char *ct = mime_field_value(part, len, "Content-Type");
	char *v, *q;
	struct buf raw = BUF_INIT, out = BUF_INIT;
	size_t i;

	if ((v = archive_param(cd, "filename*")) != NULL &&
	    (q = strstr(v, "''")) != NULL) {
		for (i = 2; q[i] != '\0'; i++) {
			unsigned int x;

			if (q[i] == '%' && sscanf(q + i + 1, "%2x", &x) == 1) {
				buf_addc(&raw, (int)x);
				i += 2;
			} else
				buf_addc(&raw, q[i]);
		}
		*q = '\0';
		if (charset_to_utf8(v, raw.data ? raw.data : "", raw.len,
		    &out) != 0)
			buf_reset(&out);
		buf_free(&raw);
		free(v);
		v = NULL;
	}
	if (out.len == 0) {
		free(v);
		if ((v = archive_param(cd, "filename")) == NULL)
			v = archive_param(ct, "name");
		if (v != NULL && encword_decode(v, &out) != 0)
			buf_reset(&out);
	}
	free(v);
	free(cd);
	free(ct);
	return out.len ? buf_release(&out) : (buf_free(&out), NULL);
}

static int
archive_is_attachment(const char *part, size_t len)
{
	char *cd = mime_field_value(part, len, "Content-Disposition");
	int r = cd != NULL && strncasecmp(cd, "attachment", 10) == 0;

	free(cd);
	return r;
}

/* The body of PART decoded from its transfer encoding. */
static void
archive_decode(const char *part, size_t len, struct buf *out)
{
	size_t off = mime_header_end(part, len);
	char cte[32];

	mime_cte_of(part, len, cte, sizeof(cte));
	if (mime_decode(cte, part + off, len - off, out) != 0) {
		buf_reset(out);
		buf_add(out, part + off, len - off);
	}
}

/* A text/plain part, decoded to UTF-8 from its charset (or a guess). */
static void
archive_text(struct page_ctx *c, const char *part, size_t len,
    const struct mime_ctype *ct)
{
	struct buf raw = BUF_INIT, text = BUF_INIT;
	int rc;

	archive_decode(part, len, &raw);
	if (ct->charset != NULL && charset_known(ct->charset))
		rc = charset_to_utf8(ct->charset, raw.data ? raw.data : "",
		    raw.len, &text);
	else
		rc = charset_guess_to_utf8(raw.data ? raw.data : "", raw.len,
		    &text);
	if (rc != 0) {
		/* Show what we have; html_escape marks what is not UTF-8. */
		buf_reset(&text);
		buf_add(&text, raw.data ? raw.data : "", raw.len);
	}
	buf_adds(c->out, "<pre class=\"body\">");
	html_escape(c->out, text.data ? text.data : "", text.len);
	buf_adds(c->out, "</pre>\n");
	buf_free(&raw);
	buf_free(&text);
}

/* An HTML part: its source as escaped text, never as a page. */
static void
archive_html_source(struct page_ctx *c, const char *part, size_t len,
    const struct mime_ctype *ct)
{
	struct buf raw = BUF_INIT, text = BUF_INIT;

	archive_decode(part, len, &raw);
	if (ct->charset == NULL || charset_to_utf8(ct->charset,
	    raw.data ? raw.data : "", raw.len, &text) != 0) {
		buf_reset(&text);
		buf_add(&text, raw.data ? raw.data : "", raw.len);
	}
	buf_printf(c->out, "<details><summary>%s</summary>\n<pre>",
	    L(c->lang, "HTML 形式の部分（表示せず、ソースのみ）",
	    "HTML part (not displayed; source only)"));
	html_escape(c->out, text.data ? text.data : "", text.len);
	buf_adds(c->out, "</pre></details>\n");
	buf_free(&raw);
	buf_free(&text);
}

/* An attachment: saved beside the page (when monthdir), and listed. */
static void
archive_attachment(struct page_ctx *c, const char *part, size_t len,
    const struct mime_ctype *ct)
{
	struct buf data = BUF_INIT, file = BUF_INIT, path = BUF_INIT;
	char *name = archive_part_name(part, len);

	archive_decode(part, len, &data);
	buf_printf(&file, "%lld-%d-", c->n, c->part);
	archive_safe_name(&file, name);
	if (c->monthdir != NULL) {
		buf_printf(&path, "%s/%s", c->monthdir, buf_cstr(&file));
		if (html_write_raw(buf_cstr(&path), data.data ? data.data : "",
		    data.len) != 0)
			log_warnx("archive: attachment %s not written",
			    buf_cstr(&path));
	}
	buf_adds(&c->atts, "<li><a href=\"");
	html_escapes(&c->atts, buf_cstr(&file));
	buf_adds(&c->atts, "\" download>");
	html_escapes(&c->atts, name != NULL ? name : buf_cstr(&file));
	buf_adds(&c->atts, "</a> (");
	html_escapes(&c->atts, ct->type);
	buf_printf(&c->atts, ", %zu %s)</li>\n", data.len,
	    L(c->lang, "バイト", "bytes"));
	c->natts++;
	free(name);
	buf_free(&data);
	buf_free(&file);
	buf_free(&path);
}

/* One part (header and body) of the message, at nesting DEPTH. */
static void
archive_walk(struct page_ctx *c, const char *part, size_t len, int depth)
{
	struct mime_ctype ct;
	struct mime_multi mm;
	size_t off, i;

	memset(&ct, 0, sizeof(ct));
	mime_ctype_of(part, len, &ct);
	off = mime_header_end(part, len);
	c->part++;
	if (mime_type_match(ct.type, "multipart/*") && ct.boundary != NULL &&
	    depth < ARCHIVE_DEPTH_MAX &&
	    mime_split(part + off, len - off, ct.boundary, &mm) == 0) {
		for (i = 0; i < mm.n; i++)
			archive_walk(c, part + off + mm.start[i],
			    mm.end[i] - mm.start[i], depth + 1);
		mime_multi_free(&mm);
	} else if (mime_type_match(ct.type, "message/rfc822") &&
	    depth < ARCHIVE_DEPTH_MAX) {
		buf_printf(c->out, "<p class=\"meta\">%s</p>\n",
		    L(c->lang, "転送されたメッセージ:", "Forwarded message:"));
		archive_walk(c, part + off, len - off, depth + 1);
	} else if (mime_type_match(ct.type, "text/plain") &&
	    !archive_is_attachment(part, len))
		archive_text(c, part, len, &ct);
	else if (mime_type_match(ct.type, "text/html") &&
	    !archive_is_attachment(part, len))
		archive_html_source(c, part, len, &ct);
	else if (!mime_type_match(ct.type, "multipart/*"))
		archive_attachment(c, part, len, &ct);
	else
		/* A multipart we cannot split: its text, escaped, not lost. */
		archive_text(c, part, len, &ct);
	mime_ctype_free(&ct);
}

/* The sender as a page shows it: name, and the address hidden. */
static void
archive_who(struct buf *b, const struct archive_entry *e)
{
	if (e->from_name != NULL && *e->from_name) {
		html_escapes(b, e->from_name);
		buf_adds(b, " (");
		html_addr(b, e->from_addr);
		buf_adds(b, ")");
	} else
		html_addr(b, e->from_addr);
}

static void
archive_nav(struct buf *b, const char *lang, const char *up, int in_month)
{
	buf_adds(b, "<nav>");
	if (in_month)
		buf_printf(b, "<a href=\"index.html\">%s</a> | "
		    "<a href=\"thread.html\">%s</a> | ",
		    L(lang, "日付順", "By date"),
		    L(lang, "スレッド順", "By thread"));
	buf_printf(b, "<a href=\"%sindex.html\">%s</a></nav>\n", up,
	    L(lang, "月の一覧", "All months"));
}

int
archive_render_page(struct buf *out, const char *lang, const char *listname,
    const struct archive_entry *e, const char *raw, size_t len,
    const char *monthdir)
{
	struct page_ctx c;
	struct buf title = BUF_INIT;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.lang = lang;
	c.monthdir = monthdir;
	c.n = e->n;
	buf_init(&c.atts);
	buf_printf(&title, "%s %lld: %s", listname, e->n,
	    *e->subject ? e->subject : L(lang, "（件名なし）", "(no subject)"));
	html_begin(out, lang, buf_cstr(&title), "../");
	archive_nav(out, lang, "../", 1);
	buf_adds(out, "<h1>");
	html_escapes(out, *e->subject ? e->subject :
	    L(lang, "（件名なし）", "(no subject)"));
	buf_adds(out, "</h1>\n<dl class=\"meta\">\n");
	buf_printf(out, "<dt>%s</dt><dd>", L(lang, "差出人", "From"));
	archive_who(out, e);
	buf_printf(out, "</dd>\n<dt>%s</dt><dd>", L(lang, "日時", "Date"));
	html_escapes(out, e->date);
	buf_printf(out, "</dd>\n<dt>%s</dt><dd>", L(lang, "番号", "Number"));
	buf_printf(out, "%s %lld</dd>\n", listname, e->n);
	if (e->parent_n > 0)
		buf_printf(out, "<dt>%s</dt><dd><a href=\"../%s/%lld.html\">"
		    "%lld</a></dd>\n", L(lang, "返信先", "In reply to"),
		    e->parent_month, e->parent_n, e->parent_n);
	buf_adds(out, "</dl>\n");
	archive_walk(&c, raw, len, 0);
	if (c.natts > 0) {
		buf_printf(out, "<h2>%s</h2>\n<ul class=\"attachments\">\n",
		    L(lang, "添付ファイル", "Attachments"));
		buf_add(out, c.atts.data, c.atts.len);
		buf_adds(out, "</ul>\n");
	}
	html_end(out);
	buf_free(&c.atts);
	buf_free(&title);
	return 0;
}

void
archive_render_month(struct buf *out, const char *lang, const char *listname,
    const char *month, const struct archive_entry *v, size_t n)
{
	struct buf title = BUF_INIT;
	size_t i;

	buf_printf(&title, "%s %s", listname, month);
	html_begin(out, lang, buf_cstr(&title), "../");
	archive_nav(out, lang, "../", 1);
	buf_adds(out, "<h1>");
	html_escapes(out, buf_cstr(&title));
	/* A list, not a table: four columns do not fit a phone. */
	buf_printf(out, " (%s)</h1>\n<ul class=\"msgs\">\n",
	    L(lang, "日付順", "by date"));
	for (i = 0; i < n; i++) {
		buf_printf(out, "<li><span class=\"n\">%lld</span> "
		    "<a href=\"%lld.html\">", v[i].n, v[i].n);
		html_escapes(out, *v[i].subject ? v[i].subject :
		    L(lang, "（件名なし）", "(no subject)"));
		buf_adds(out, "</a><br><span class=\"meta\"><span class=\"d\">");
		html_escapes(out, v[i].date);
		buf_adds(out, "</span> ");
		archive_who(out, &v[i]);
		buf_adds(out, "</span></li>\n");
	}
	buf_adds(out, "</ul>\n");
	html_end(out);
	buf_free(&title);
}

/* Entry I and, nested below it, the entries answering it. */
static void
archive_thread_node(struct buf *out, const struct archive_entry *v,
    size_t i, const size_t *parent, size_t n, int depth)
{
	size_t k;
	int open = 0;

	buf_printf(out, "<li><a href=\"%lld.html\">", v[i].n);
	html_escapes(out, *v[i].subject ? v[i].subject : "-");
	buf_adds(out, "</a> <span class=\"meta\">");
	archive_who(out, &v[i]);
	buf_adds(out, " <span class=\"d\">");
	html_escapes(out, v[i].date);
	buf_adds(out, "</span></span>");
	if (depth >= ARCHIVE_NEST_MAX) {
		/* Very deep threads go on flat, as siblings, not deeper. */
		buf_adds(out, "</li>\n");
		for (k = i + 1; k < n; k++)
			if (parent[k] == i)
				archive_thread_node(out, v, k, parent, n, depth);
		return;
	}
	for (k = i + 1; k < n; k++) {
		if (parent[k] != i)
			continue;
		if (!open)
			buf_adds(out, "\n<ul>\n");
		open = 1;
		archive_thread_node(out, v, k, parent, n, depth + 1);
	}
	if (open)
		buf_adds(out, "</ul>\n");
	buf_adds(out, "</li>\n");
}

void
archive_render_thread(struct buf *out, const char *lang,
    const char *listname, const char *month, const struct archive_entry *v,
    size_t n)
{
	struct buf title = BUF_INIT;
	size_t *parent, i, j;

	/* parent[i]: the earlier entry i answers, or n (a thread's start). */
	parent = xcalloc(n ? n : 1, sizeof(*parent));
	for (i = 0; i < n; i++) {
		parent[i] = n;
		for (j = 0; j < i && *v[i].parent; j++)
			if (strcmp(v[j].msgid, v[i].parent) == 0)
				parent[i] = j;
	}
	buf_printf(&title, "%s %s", listname, month);
	html_begin(out, lang, buf_cstr(&title), "../");
	archive_nav(out, lang, "../", 1);
	buf_adds(out, "<h1>");
	html_escapes(out, buf_cstr(&title));
	buf_printf(out, " (%s)</h1>\n<ul class=\"thread\">\n",
	    L(lang, "スレッド順", "by thread"));
	for (i = 0; i < n; i++)
		if (parent[i] == n)
			archive_thread_node(out, v, i, parent, n, 0);
	buf_adds(out, "</ul>\n");
	html_end(out);
	free(parent);
	buf_free(&title);
}

void
archive_render_months(struct buf *out, const char *lang,
    const char *listname, char (*months)[8], const long long *counts,
    size_t n)
{
	struct buf title = BUF_INIT;
	size_t i;

	buf_printf(&title, "%s %s", listname, L(lang, "アーカイブ",
	    "archive"));
	html_begin(out, lang, buf_cstr(&title), "");
	buf_adds(out, "<h1>");
	html_escapes(out, buf_cstr(&title));
	/* The proposal and event pages (pages.h) live in the same DIR. */
	buf_printf(out, "</h1>\n<nav><a href=\"proposals/index.html\">%s</a>"
	    " | <a href=\"events/index.html\">%s</a> | "
	    "<a href=\"events.ics\">%s</a></nav>\n<ul class=\"months\">\n",
	    L(lang, "提案", "Proposals"), L(lang, "イベント", "Events"),
	    L(lang, "予定表（iCalendar）", "Calendar (iCalendar)"));
	for (i = 0; i < n; i++) {
		buf_adds(out, "<li>");
		html_escapes(out, months[i]);
		buf_adds(out, ": <a href=\"");
		html_escapes(out, months[i]);
		buf_printf(out, "/index.html\">%s</a> | <a href=\"",
		    L(lang, "日付順", "by date"));
		html_escapes(out, months[i]);
		buf_printf(out, "/thread.html\">%s</a> | <a href=\"mbox/",
		    L(lang, "スレッド順", "by thread"));
		html_escapes(out, months[i]);
		buf_printf(out, ".mbox\">mbox</a> (%lld %s)</li>\n",
		    counts[i], L(lang, "通", "messages"));
	}
	buf_adds(out, "</ul>\n");
	html_end(out);
	buf_free(&title);
}
