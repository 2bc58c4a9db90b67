/*
 * compose - the mail mlserver writes, and queueing; see compose.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "charset.h"
#include "compose.h"
#include "config.h"
#include "encword.h"
#include "encword_cs.h"
#include "log.h"
#include "outq.h"
#include "outq_body.h"
#include "post.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

static void	compose_crlf(struct buf *, const char *, size_t);
static void	compose_param(struct buf *, const char *, const char *);
static void	compose_part(struct buf *, const char *, const char *,
		    const char *, const char *, size_t);

/*
 * The charset of a list's own mail: its "charset" setting (for phones
 * that read ISO-2022-JP only), else NULL for UTF-8.
 */
const char *
compose_charset(const struct config *cf, const char *list)
{
	const struct list *l = list && *list ? config_list(cf, list) : NULL;

	return l ? l->charset : NULL;
}

/*
 * The text part's header and body: UTF-8 in base64, or the list's
 * charset in 7bit when it carries the text exactly (else UTF-8 still:
 * a reader gets every character either way).  Exported for the mail
 * that builds its own MIME structure (events) around this part.
 */
void
compose_text_part(struct buf *m, const struct buf *text, const char *cs)
{
	const char *t = text->data ? text->data : "";
	struct buf enc = BUF_INIT;

	if (!encword_cs_is_utf8(cs) && encword_cs_exact(cs, t) &&
	    charset_from_utf8(cs, t, text->len, &enc) == 0) {
		buf_printf(m, "Content-Type: text/plain; charset=%s\n"
		    "Content-Transfer-Encoding: 7bit\n\n", cs);
		buf_add(m, enc.data, enc.len);
		if (enc.len && enc.data[enc.len - 1] != '\n')
			buf_addc(m, '\n');
	} else {
		buf_adds(m, "Content-Type: text/plain; charset=UTF-8\n"
		    "Content-Transfer-Encoding: base64\n\n");
		base64_encode(m, t, text->len, 76);
	}
	buf_free(&enc);
}

/* Add a copy of data as a part; the caller keeps its own strings. */
void
compose_parts_add(struct compose_parts *ps, const char *type,
    const char *filename, const void *data, size_t len)
{
	struct compose_part *p;

	ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
	p = &ps->v[ps->n++];
	p->type = xstrdup(type);
	p->filename = filename ? xstrdup(filename) : NULL;
	p->data = xmalloc(len ? len : 1);
	memcpy(p->data, data, len);
	p->len = len;
}

void
compose_parts_free(struct compose_parts *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].type);
		free(ps->v[i].filename);
		free(ps->v[i].data);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

/*
 * A MIME parameter: quoted when its value is plain printable ASCII, else
 * in RFC 2231 form (UTF-8, percent-encoded), on a line of its own so
 * that a long value keeps the header line short.
 */
static void
compose_param(struct buf *m, const char *name, const char *value)
{
	static const char attr[] = "!#$&+-.^_`|~";
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			break;
	if (*p == '\0') {
		buf_printf(m, ";\n %s=\"%s\"", name, value);
		return;
	}
	buf_printf(m, ";\n %s*=UTF-8''", name);
	for (p = (const unsigned char *)value; *p; p++) {
		if ((*p < 0x80 && isalnum(*p)) || (*p && strchr(attr, *p)))
			buf_addc(m, (char)*p);
		else
			buf_printf(m, "%%%02X", *p);
	}
}

/*
 * One part after the text of mail id: a message/rfc822 part as it is
 * (RFC 2046 allows it no base64), 8bit when it holds 8-bit bytes; any
 * other part in base64, so that bytes such as a CSV's BOM and CRLF come
 * through every relay unchanged.
 */
static void
compose_part(struct buf *m, const char *id, const char *type,
    const char *filename, const char *data, size_t len)
{
	int message = strncasecmp(type, "message/", 8) == 0;
	size_t i;

	buf_printf(m, "\n--=_mls_%s\nContent-Type: %s", id, type);
	if (filename)
		compose_param(m, "name", filename);
	buf_adds(m, filename || !message ? "\nContent-Disposition: attachment" :
	    "\nContent-Disposition: inline");
	if (filename)
		compose_param(m, "filename", filename);
	if (message) {
		for (i = 0; i < len && (unsigned char)data[i] < 0x80; i++)
			;
		buf_printf(m, "\nContent-Transfer-Encoding: %s\n\n",
		    i < len ? "8bit" : "7bit");
		buf_add(m, data, len);
		if (len && data[len - 1] != '\n')
			buf_addc(m, '\n');
		return;
	}
	buf_adds(m, "\nContent-Transfer-Encoding: base64\n\n");
	base64_encode(m, data, len, 76);
	if (m->len && m->data[m->len - 1] != '\n')
		buf_addc(m, '\n');
}

void
compose_init(struct compose *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->hdr);
	buf_init(&c->text);
	spool_new_id(c->id);
}

void
compose_free(struct compose *c)
{
	buf_free(&c->hdr);
	buf_free(&c->text);
}

/* A header field whose value is already in wire form. */
void
compose_field(struct compose *c, const char *name, const char *raw)
{
	buf_printf(&c->hdr, "%s: %s\n", name, raw);
}

/* A header field of free text, RFC 2047 encoded where needed. */
void
compose_field_text(struct compose *c, const char *name, const char *utf8)
{
	buf_printf(&c->hdr, "%s: ", name);
	encword_encode(&c->hdr, utf8, strlen(name) + 2);
	buf_addc(&c->hdr, '\n');
}

/* "Name: display <addr>", the display name encoded as a phrase. */
void
compose_field_addr(struct compose *c, const char *name,
    const char *display_utf8, const char *addr)
{
	buf_printf(&c->hdr, "%s: ", name);
	if (display_utf8 && *display_utf8) {
		encword_phrase(&c->hdr, display_utf8);
		buf_addc(&c->hdr, ' ');
	}
	buf_printf(&c->hdr, "<%s>\n", addr);
}

/* RFC 5322 date of now, in the local zone. */
void
compose_date(struct buf *b)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	time_t now = time(NULL);
	struct tm tm;
	long off;

	localtime_r(&now, &tm);
	off = tm.tm_gmtoff / 60;
	buf_printf(b, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* LIST-SUFFIX@D, or LIST@D when suffix is NULL. */
void
compose_list_addr(struct buf *b, const struct config *cf,
    const struct list *l, const char *suffix)
{
	if (suffix)
		buf_printf(b, "%s-%s@%s", l->name, suffix, cf->domain);
	else
		buf_printf(b, "%s@%s", l->name, cf->domain);
}

/*
 * The header fields of a mail of ours sent to l's audience (List-*,
 * Precedence, X-Loop, the Subject with the list's prefix), made by
 * post_rewrite() so they are exactly those of the list's posts.
 */
void
compose_list_fields(struct compose *c, const struct config *cf,
    const struct list *l, const char *subject)
{
	struct buf raw = BUF_INIT, out = BUF_INIT;

	buf_adds(&raw, "Subject: ");
	encword_encode(&raw, subject ? subject : "", 9);
	buf_adds(&raw, "\n\n");
	post_rewrite(&out, cf, l, raw.data, raw.len);
	/* The fields, then the empty line that ends them: keep one LF. */
	while (out.len >= 2 && out.data[out.len - 1] == '\n' &&
	    out.data[out.len - 2] == '\n')
		out.len--;
	buf_add(&c->hdr, out.data, out.len);
	buf_free(&raw);
	buf_free(&out);
}

/*
 * c's header as it goes out: Subject and display names in the list's
 * charset cs (see compose_charset), then MIME-Version.
 */
void
compose_header(struct buf *m, const struct compose *c, const char *cs)
{
	encword_cs_recode(m, c->hdr.data ? c->hdr.data : "", c->hdr.len, cs);
	buf_adds(m, "MIME-Version: 1.0\n");
}

/* Date, Message-ID, threading and Auto-Submitted. */
void
compose_basics(struct compose *c, const struct config *cf,
    const char *auto_submitted, const char *in_reply_to)
{
	struct buf b = BUF_INIT;

	compose_date(&b);
	compose_field(c, "Date", buf_cstr(&b));
	buf_reset(&b);
	buf_printf(&b, "<%s.mlserver@%s>", c->id, cf->domain);
	compose_field(c, "Message-ID", buf_cstr(&b));
	if (in_reply_to && *in_reply_to && strlen(in_reply_to) < 900 &&
	    strpbrk(in_reply_to, "\r\n<>") == NULL) {
		buf_reset(&b);
		buf_printf(&b, "<%s>", in_reply_to);
		compose_field(c, "In-Reply-To", buf_cstr(&b));
		compose_field(c, "References", buf_cstr(&b));
	}
	if (auto_submitted)
		compose_field(c, "Auto-Submitted", auto_submitted);
	buf_free(&b);
}

/*
 * Render a message template: its "Subject:" line becomes the Subject
 * field, the rest is appended to the body.
 */
int
compose_template(struct compose *c, const struct config *cf,
    const char *lang, const char *name, const struct tvar *vars, size_t n)
{
	struct buf out = BUF_INIT;
	const char *body;

	if (template_render(cf, lang, name, vars, n, &out) != 0) {
		buf_free(&out);
		return -1;
	}
	body = buf_cstr(&out);
	if (strncmp(body, "Subject: ", 9) == 0) {
		const char *eol = strchr(body, '\n');
		char *subj = xstrndup(body + 9, eol ? (size_t)(eol - body - 9) :
		    strlen(body + 9));

		compose_field_text(c, "Subject", subj);
		free(subj);
		body = eol ? eol + 1 : "";
	}
	buf_adds(&c->text, body);
	buf_free(&out);
	return 0;
}

/* Copy with every line ending made CRLF (bare LF and CRLF alike). */
static void
compose_crlf(struct buf *out, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		buf_add(out, s + start, i - start);
		if (i > start && s[i - 1] == '\r')
			out->len--;
		buf_add(out, "\r\n", 2);
		start = i + 1;
	}
	buf_add(out, s + start, n - start);
	if (n > 0 && s[n - 1] != '\n')
		buf_add(out, "\r\n", 2);
}

/*
 * Keep data as the text of outgoing message id, with CRLF line ends
 * (outq_body.h), in the caller's transaction.  0, or -1 (logged).
 */
int
compose_write_out(const struct config *cf, struct store *st, const char *id,
    const char *data, size_t len)
{
	struct buf crlf = BUF_INIT;
	int rc;

	compose_crlf(&crlf, data, len);
	rc = outq_body_put(st, cf, id, crlf.data ? crlf.data : "", crlf.len);
	buf_free(&crlf);
	return rc;
}

/*
 * Finish the mail (MIME structure, body encoding), write it to out/ and
 * queue it for rcpts.  Runs inside the caller's transaction, if any.
 */
int
compose_queue(struct compose *c, struct store *st, const struct config *cf,
    const char *list, const char *kind, const char *env_sender,
    char *const *rcpts, size_t nrcpts)
{
	struct buf m = BUF_INIT;
	const char *cs;
	size_t i;
	int rc = -1;

	cs = compose_charset(cf, list);
	compose_header(&m, c, cs);
	if (c->attach == NULL && (c->parts == NULL || c->parts->n == 0)) {
		compose_text_part(&m, &c->text, cs);
	} else {
		buf_printf(&m, "Content-Type: multipart/mixed; "
		    "boundary=\"=_mls_%s\"\n\n", c->id);
		buf_printf(&m, "--=_mls_%s\n", c->id);
		compose_text_part(&m, &c->text, cs);
		if (c->attach)
			compose_part(&m, c->id, "message/rfc822", NULL,
			    c->attach, c->attach_len);
		for (i = 0; c->parts && i < c->parts->n; i++)
			compose_part(&m, c->id, c->parts->v[i].type,
			    c->parts->v[i].filename, c->parts->v[i].data,
			    c->parts->v[i].len);
		buf_printf(&m, "\n--=_mls_%s--\n", c->id);
	}
	if (compose_write_out(cf, st, c->id, m.data, m.len) != 0)
		goto done;
	if (outq_message_add(st, c->id, list, kind, env_sender) != 0)
		goto done;
	for (i = 0; i < nrcpts; i++)
		if (outq_add_rcpt(st, c->id, rcpts[i]) != 0)
			goto done;
	if (outq_message_ready(st, c->id) != 0)
		goto done;
	log_info("%s: queued %s to %zu recipient%s", c->id, kind, nrcpts,
	    nrcpts == 1 ? "" : "s");
	rc = 0;
done:
	buf_free(&m);
	return rc;
}
