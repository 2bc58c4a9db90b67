/*
 * digest_compose - one digest as MIME; see digest_compose.h.
 *
 * Posts are put in unchanged: a message/rfc822 part must be a whole
 * message, and members must be able to reply to, forward or save each
 * one as they would the post itself.  A post with 8-bit octets (raw
 * Shift_JIS or UTF-8 bodies pass through the list untouched) makes its
 * part, and the multiparts around it, 8bit, as RFC 2046 asks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1		/* memmem */
#endif
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "compose.h"
#include "config.h"
#include "digest_compose.h"
#include "encword.h"
#include "encword_cs.h"
#include "message.h"
#include "post.h"
#include "proposal_sched.h"
#include "template.h"
#include "xmalloc.h"

static int	 dc_has8bit(const char *, size_t);
static void	 dc_clean(struct buf *, const char *);
static void	 dc_item(struct buf *, const struct config *,
		    const struct list *, const struct digest_post *, int);
static void	 dc_boundary(struct buf *, const char *,
		    const struct digest_post *, size_t);
static void	 dc_parts(struct buf *, const char *,
		    const struct digest_post *, size_t);

static int
dc_has8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

/* Text for one line of the contents: no control characters, trimmed. */
static void
dc_clean(struct buf *out, const char *s)
{
	size_t start = out->len;

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			if (out->len > start && out->data[out->len - 1] != ' ')
				buf_addc(out, ' ');
			continue;
		}
		buf_addc(out, (char)c);
	}
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
}

/* Entry n of the contents: the subject and sender, decoded. */
static void
dc_item(struct buf *out, const struct config *cf, const struct list *l,
    const struct digest_post *p, int n)
{
	int ja = strcmp(l->language, "ja") == 0;
	struct buf subj = BUF_INIT, from = BUF_INIT, date = BUF_INIT;
	struct message m;
	struct tvar v[4];
	char num[32];

	if (message_parse(p->data, p->len, &m) == 0) {
		dc_clean(&subj, m.subject);
		if (m.from_name && *m.from_name) {
			dc_clean(&from, m.from_name);
			buf_adds(&from, " ");
		}
		if (*m.from)
			buf_printf(&from, "<%s>", m.from);
		message_free(&m);
	}
	if (subj.len == 0)
		buf_adds(&subj, ja ? "（件名なし）" : "(no subject)");
	if (from.len == 0)
		buf_adds(&from, ja ? "（差出人不明）" : "(unknown sender)");
	proposal_sched_local(&date, cf->timezone, (time_t)p->created, 1);
	snprintf(num, sizeof(num), "%d", n);
	v[0] = (struct tvar){ "n", num };
	v[1] = (struct tvar){ "subject", buf_cstr(&subj) };
	v[2] = (struct tvar){ "from", buf_cstr(&from) };
	v[3] = (struct tvar){ "date", buf_cstr(&date) };
	if (template_render(cf, l->language, "digest-item", v, 4, out) != 0)
		buf_printf(out, "%s. %s\n    %s\n", num, buf_cstr(&subj),
		    buf_cstr(&from));
	buf_free(&subj);
	buf_free(&from);
	buf_free(&date);
}

/* The table of contents, one entry per post, numbered from 1. */
void
digest_toc(struct buf *out, const struct config *cf, const struct list *l,
    const struct digest_post *posts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dc_item(out, cf, l, &posts[i], (int)i + 1);
}

/*
 * A boundary no post contains: a post could quote one of ours (a
 * forwarded digest), and a boundary inside a part would cut it short.
 */
static void
dc_boundary(struct buf *out, const char *id, const struct digest_post *posts,
    size_t n)
{
	for (int k = 0;; k++) {
		size_t i;

		buf_reset(out);
		buf_printf(out, "=_mlsd_%s_%d", id, k);
		for (i = 0; i < n; i++)
			if (memmem(posts[i].data, posts[i].len, out->data,
			    out->len) != NULL)
				break;
		if (i == n)
			return;
	}
}

/* The multipart/digest: each post a message/rfc822 part. */
static void
dc_parts(struct buf *out, const char *b, const struct digest_post *posts,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct digest_post *p = &posts[i];

		buf_printf(out, "--%s\nContent-Type: message/rfc822\n", b);
		if (dc_has8bit(p->data, p->len))
			buf_adds(out, "Content-Transfer-Encoding: 8bit\n");
		buf_adds(out, "\n");
		buf_add(out, p->data, p->len);
		if (p->len == 0 || p->data[p->len - 1] != '\n')
			buf_addc(out, '\n');
		buf_adds(out, "\n");
	}
	buf_printf(out, "--%s--\n", b);
}

/*
 * Digest number seq of list l, queued as id, holding posts[0..n): the
 * whole message, LF line ends (compose_write_out makes them CRLF), in
 * out.  0, or -1 when a template is missing.
 */
int
digest_compose(struct buf *out, const struct config *cf,
    const struct list *l, const char *id, int seq, time_t now,
    const struct digest_post *posts, size_t n)
{
	struct buf items = BUF_INIT, text = BUF_INIT, date = BUF_INIT,
	    req = BUF_INIT, post = BUF_INIT, msg = BUF_INIT, outer = BUF_INIT,
	    inner = BUF_INIT, tag = BUF_INIT, hdr = BUF_INIT, toc = BUF_INIT;
	const char *body, *eol, *cs = compose_charset(cf, l->name);
	char num[32], count[32];
	struct tvar v[8];
	int eight = 0, rc = -1;
	size_t i;

	for (i = 0; i < n; i++)
		eight |= dc_has8bit(posts[i].data, posts[i].len);
	digest_toc(&items, cf, l, posts, n);
	proposal_sched_local(&date, cf->timezone, now, 0);
	compose_list_addr(&req, cf, l, "request");
	compose_list_addr(&post, cf, l, NULL);
	snprintf(num, sizeof(num), "%d", seq);
	snprintf(count, sizeof(count), "%zu", n);
	v[0] = (struct tvar){ "list", l->description };
	v[1] = (struct tvar){ "date", buf_cstr(&date) };
	v[2] = (struct tvar){ "seq", num };
	v[3] = (struct tvar){ "count", count };
	v[4] = (struct tvar){ "items", buf_cstr(&items) };
	v[5] = (struct tvar){ "request", buf_cstr(&req) };
	v[6] = (struct tvar){ "list_addr", buf_cstr(&post) };
	/* Without a subject prefix, the Subject names the list itself. */
	if (l->subject_prefix == NULL || *l->subject_prefix == '\0')
		buf_printf(&tag, "%s ", l->description);
	v[7] = (struct tvar){ "list_tag", buf_cstr(&tag) };
	if (template_render(cf, l->language, "digest-toc", v, 8, &text) != 0)
		goto done;
	body = buf_cstr(&text);
	buf_adds(&hdr, "From: ");
	encword_phrase(&hdr, l->description);
	buf_printf(&hdr, " <%s>\nTo: <%s>\n", buf_cstr(&req), buf_cstr(&post));
	if (strncmp(body, "Subject: ", 9) == 0 &&
	    (eol = strchr(body, '\n')) != NULL) {
		char *subj = xstrndup(body + 9, (size_t)(eol - body - 9));

		buf_adds(&hdr, "Subject: ");
		encword_encode(&hdr, subj, 9);
		buf_addc(&hdr, '\n');
		free(subj);
		body = eol + 1;
	}
	/* Names and Subject, then the contents, in the list's charset. */
	encword_cs_recode(&msg, hdr.data, hdr.len, cs);
	buf_adds(&toc, body);
	buf_reset(&date);
	compose_date(&date);
	buf_printf(&msg, "Date: %s\nMessage-ID: <%s.mlserver@%s>\n",
	    buf_cstr(&date), id, cf->domain);
	buf_adds(&msg, "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n");
	dc_boundary(&outer, id, posts, n);
	buf_printf(&inner, "%s_d", buf_cstr(&outer));
	buf_printf(&msg, "Content-Type: multipart/mixed; boundary=\"%s\"\n",
	    buf_cstr(&outer));
	if (eight)
		buf_adds(&msg, "Content-Transfer-Encoding: 8bit\n");
	buf_printf(&msg, "\nThis is a MIME digest.\n\n--%s\n",
	    buf_cstr(&outer));
	compose_text_part(&msg, &toc, cs);
	buf_printf(&msg, "\n--%s\nContent-Type: multipart/digest; "
	    "boundary=\"%s\"\n", buf_cstr(&outer), buf_cstr(&inner));
	if (eight)
		buf_adds(&msg, "Content-Transfer-Encoding: 8bit\n");
	buf_adds(&msg, "\n");
	dc_parts(&msg, buf_cstr(&inner), posts, n);
	buf_printf(&msg, "\n--%s--\n", buf_cstr(&outer));
	post_rewrite(out, cf, l, msg.data, msg.len);
	rc = 0;
done:
	buf_free(&items);
	buf_free(&text);
	buf_free(&date);
	buf_free(&req);
	buf_free(&post);
	buf_free(&msg);
	buf_free(&outer);
	buf_free(&inner);
	buf_free(&tag);
	buf_free(&hdr);
	buf_free(&toc);
	return rc;
}
