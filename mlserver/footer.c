/*
 * footer - the list's footer in a post; see footer.h.
 *
 * The message is taken with LF line ends and changed by splicing: the
 * octets before and after the insertion point are copied as they are.
 * Only a base64 text part is re-encoded as a whole (76-column lines),
 * since base64 cannot be extended in place once it is padded.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "charset.h"
#include "config.h"
#include "encword_cs.h"
#include "footer.h"
#include "mime.h"
#include "template.h"
#include "text.h"
#include "xmalloc.h"

static const char *footer_guess(const char *, size_t);
static int	 footer_jis_open(const char *, size_t);
static int	 footer_is_ascii(const char *, size_t);
static int	 footer_7bit(const char *, size_t);
static int	 footer_encode(const char *, const char *, struct buf *);
static int	 footer_inline(struct buf *, const char *, size_t,
		    const struct mime_ctype *, const char *);
static void	 footer_part(struct buf *, const char *, const char *);
static void	 footer_mixed(struct buf *, const char *, const char *);
static void	 footer_wrap(struct buf *, const char *, const char *);
static size_t	 footer_hdr_len(const char *, size_t);
static int	 footer_is_mixed(const char *, size_t, const char *);
static int	 footer_not_content(const char *, size_t, const char *,
		    size_t, void *);
static int	 footer_content(const char *, size_t, const char *, size_t,
		    void *);
static int	 footer_not_cte(const char *, size_t, const char *, size_t,
		    void *);

static int
footer_7bit(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

/* ASCII text, without the escapes of ISO-2022-JP. */
static int
footer_is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0x1b)
			return 0;
	return 1;
}

/*
 * The charset of unlabelled text, as charset.c reads it (ISO-2022-JP if
 * it has escapes, UTF-8 if valid, else the better reading of Shift_JIS
 * and EUC-JP): the one whose reading is the guessed one.
 */
static const char *
footer_guess(const char *s, size_t n)
{
	struct buf guess = BUF_INIT, sj = BUF_INIT;
	const char *cs = "EUC-JP";

	if (footer_is_ascii(s, n))
		return "US-ASCII";
	if (memmem(s, n, "\033$", 2) != NULL)
		return "ISO-2022-JP";
	if (text_utf8_valid(s, n))
		return "UTF-8";
	(void)charset_guess_to_utf8(s, n, &guess);
	(void)charset_to_utf8("Shift_JIS", s, n, &sj);
	if (guess.len == sj.len && memcmp(guess.data, sj.data, sj.len) == 0)
		cs = "Shift_JIS";
	buf_free(&guess);
	buf_free(&sj);
	return cs;
}

/*
 * The footer in charset cs, appended to out: 0, or -1 when cs cannot
 * carry it exactly for every reader.  EUC-JP readers disagree about the
 * Windows extensions (① ㈱ and IBM kanji), so EUC-JP text takes only
 * what plain EUC-JP (JIS X 0208 and 0212) has; Shift_JIS and
 * ISO-2022-JP are read as CP932 and CP50220 everywhere.
 */
static int
footer_encode(const char *cs, const char *footer, struct buf *out)
{
	iconv_t cd;
	char *in = (char *)(uintptr_t)footer, *op, tmp[4096];
	size_t il = strlen(footer), ol;
	int rc = 0;

	if (strcasecmp(cs, "euc-jp") != 0 && strcasecmp(cs, "eucjp") != 0 &&
	    strcasecmp(cs, "x-euc-jp") != 0)
		return encword_cs_exact(cs, footer) &&
		    charset_from_utf8(cs, footer, il, out) == 0 ? 0 : -1;
	if ((cd = iconv_open("EUC-JP", "UTF-8")) == (iconv_t)-1)
		return -1;
	while (il > 0 && rc == 0) {
		op = tmp;
		ol = sizeof(tmp);
		if (iconv(cd, &in, &il, &op, &ol) == (size_t)-1 &&
		    errno != E2BIG)
			rc = -1;
		buf_add(out, tmp, (size_t)(op - tmp));
	}
	iconv_close(cd);
	return rc;
}

/* 1 if ISO-2022-JP text ends outside ASCII (a missing ESC ( B). */
static int
footer_jis_open(const char *s, size_t n)
{
	const char *p = NULL;

	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == 0x1b)
			p = s + i;
	return p && !(p[1] == '(' && (p[2] == 'B' || p[2] == 'J'));
}

/* The length of the header without its empty line. */
static size_t
footer_hdr_len(const char *s, size_t len)
{
	size_t hend = mime_header_end(s, len);

	if (hend == 1 || (hend >= 2 && s[hend - 1] == '\n' &&
	    s[hend - 2] == '\n'))
		return hend - 1;
	if (hend >= 3 && s[hend - 1] == '\n' && s[hend - 2] == '\r')
		return hend - 2;
	return hend;	/* no empty line: all header */
}

/* 1 if the body of msg splits into parts at boundary. */
static int
footer_is_mixed(const char *s, size_t len, const char *boundary)
{
	size_t hend = mime_header_end(s, len);
	struct mime_multi mm;
	int ok = mime_split(s + hend, len - hend, boundary, &mm) == 0;

	mime_multi_free(&mm);
	return ok;
}

static int
footer_not_content(const char *name, size_t n, const char *f, size_t fl,
    void *arg)
{
	(void)f;
	(void)fl;
	(void)arg;
	return !(n >= 8 && strncasecmp(name, "Content-", 8) == 0);
}

static int
footer_content(const char *name, size_t n, const char *f, size_t fl,
    void *arg)
{
	return !footer_not_content(name, n, f, fl, arg);
}

static int
footer_not_cte(const char *name, size_t n, const char *f, size_t fl,
    void *arg)
{
	(void)f;
	(void)fl;
	(void)arg;
	return !mime_field_is(name, n, "Content-Transfer-Encoding");
}

/*
 * The footer appended to one text/plain part (its header and body, in
 * p[0..len)), written to out.  Returns -1 when it cannot be done
 * faithfully: a transfer encoding we do not know, or a charset that
 * cannot carry the footer.
 */
static int
footer_inline(struct buf *out, const char *p, size_t len,
    const struct mime_ctype *ct, const char *footer)
{
	size_t hend = mime_header_end(p, len);
	const char *body = p + hend, *cs;
	size_t blen = len - hend;
	struct buf dec = BUF_INIT, fe = BUF_INIT, nl = BUF_INIT;
	char cte[32];
	int rc = -1, b64, qp, eightbit;

	mime_cte_of(p, len, cte, sizeof(cte));
	b64 = strcmp(cte, "base64") == 0;
	qp = strcmp(cte, "quoted-printable") == 0;
	if (!b64 && !qp && strcmp(cte, "7bit") != 0 &&
	    strcmp(cte, "8bit") != 0 && strcmp(cte, "binary") != 0)
		goto done;
	if (mime_decode(cte, body, blen, &dec) != 0)
		goto done;
	cs = ct->charset;
	if (cs == NULL || strcasecmp(cs, "us-ascii") == 0 ||
	    strcasecmp(cs, "ascii") == 0)
		cs = footer_guess(dec.data, dec.len);
	if (!charset_known(cs) || footer_encode(cs, footer, &fe) != 0)
		goto done;
	/* The footer's lines end as the text's do. */
	if (memmem(dec.data, dec.len, "\r\n", 2) != NULL) {
		for (size_t i = 0; i < fe.len; i++) {
			if (fe.data[i] == '\n')
				buf_addc(&nl, '\r');
			buf_addc(&nl, fe.data[i]);
		}
		buf_free(&fe);
		fe = nl;
		buf_init(&nl);
	}
	if (footer_jis_open(dec.data, dec.len))
		buf_add(&nl, "\033(B", 3);
	eightbit = !footer_7bit(fe.data, fe.len);
	if (b64) {
		buf_add(out, p, hend);
		buf_add(&nl, dec.data, dec.len);
		if (dec.len && dec.data[dec.len - 1] != '\n')
			buf_addc(&nl, '\n');
		buf_add(&nl, fe.data, fe.len);
		base64_encode(out, nl.data, nl.len, 76);
	} else if (qp) {
		buf_add(out, p, len);
		if (blen && body[blen - 1] != '\n')
			buf_addc(out, '\n');
		else if (blen > 1 && body[blen - 2] == '=')
			buf_addc(out, '\n');
		mime_qp_encode(&nl, fe.data, fe.len);
		buf_add(out, nl.data, nl.len);
	} else {
		if (eightbit && strcmp(cte, "7bit") == 0 &&
		    footer_7bit(body, blen)) {
			/* 7-bit text with an 8-bit footer is 7bit no more. */
			mime_fields_keep(out, p, footer_hdr_len(p, len),
			    footer_not_cte, NULL);
			buf_adds(out, "Content-Transfer-Encoding: 8bit\n\n");
		} else
			buf_add(out, p, hend);
		buf_add(out, body, blen);
		if (blen && body[blen - 1] != '\n')
			buf_addc(out, '\n');
		buf_add(out, nl.data ? nl.data : "", nl.len);
		buf_add(out, fe.data, fe.len);
	}
	rc = 0;
done:
	buf_free(&dec);
	buf_free(&fe);
	buf_free(&nl);
	return rc;
}

/* The footer as a part of its own (header and body, ending in LF). */
static void
footer_part(struct buf *out, const char *footer, const char *list_charset)
{
	struct buf enc = BUF_INIT;
	size_t n = strlen(footer);

	if (footer_is_ascii(footer, n)) {
		buf_printf(out, "Content-Type: text/plain; charset=US-ASCII\n"
		    "Content-Transfer-Encoding: 7bit\n"
		    "Content-Disposition: inline\n\n%s", footer);
	} else if (!encword_cs_is_utf8(list_charset) &&
	    encword_cs_exact(list_charset, footer) &&
	    charset_from_utf8(list_charset, footer, n, &enc) == 0 &&
	    memchr(enc.data, 0, enc.len) == NULL && footer_7bit(enc.data,
	    enc.len)) {
		buf_printf(out, "Content-Type: text/plain; charset=%s\n"
		    "Content-Transfer-Encoding: 7bit\n"
		    "Content-Disposition: inline\n\n", list_charset);
		buf_add(out, enc.data, enc.len);
	} else {
		buf_adds(out, "Content-Type: text/plain; charset=UTF-8\n"
		    "Content-Transfer-Encoding: base64\n"
		    "Content-Disposition: inline\n\n");
		base64_encode(out, footer, n, 76);
	}
	buf_free(&enc);
}

/* The footer as the last part of the multipart/mixed msg. */
static void
footer_mixed(struct buf *msg, const char *boundary, const char *part)
{
	size_t hend = mime_header_end(msg->data, msg->len), at;
	struct mime_multi mm;
	struct buf out = BUF_INIT;

	(void)mime_split(msg->data + hend, msg->len - hend, boundary, &mm);
	if (mm.closed) {
		at = hend + mm.close;
		buf_add(&out, msg->data, at);
		buf_printf(&out, "--%s\n%s\n", boundary, part);
		buf_add(&out, msg->data + at, msg->len - at);
	} else {
		buf_add(&out, msg->data, msg->len);
		if (msg->len && msg->data[msg->len - 1] != '\n')
			buf_addc(&out, '\n');
		buf_printf(&out, "--%s\n%s\n--%s--\n", boundary, part,
		    boundary);
	}
	mime_multi_free(&mm);
	buf_free(msg);
	*msg = out;
}

/*
 * The post becomes the first part of a new multipart/mixed (its
 * Content-* fields move into that part) and part the second.
 */
static void
footer_wrap(struct buf *msg, const char *part, const char *tag)
{
	size_t hend = mime_header_end(msg->data, msg->len);
	size_t hlen = footer_hdr_len(msg->data, msg->len);
	struct buf out = BUF_INIT, boundary = BUF_INIT;
	int n = 0;

	do {
		buf_reset(&boundary);
		buf_printf(&boundary, "=_mls_footer_%s_%d", tag, n++);
	} while (memmem(msg->data, msg->len, boundary.data,
	    boundary.len) != NULL);
	mime_fields_keep(&out, msg->data, hlen, footer_not_content, NULL);
	if (mime_field_count(msg->data, msg->len, "MIME-Version") == 0)
		buf_adds(&out, "MIME-Version: 1.0\n");
	buf_printf(&out, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n",
	    boundary.data);
	buf_printf(&out, "--%s\n", boundary.data);
	mime_fields_keep(&out, msg->data, hlen, footer_content, NULL);
	buf_addc(&out, '\n');
	buf_add(&out, msg->data + hend, msg->len - hend);
	if (out.data[out.len - 1] != '\n')
		buf_addc(&out, '\n');
	buf_printf(&out, "--%s\n%s\n--%s--\n", boundary.data, part,
	    boundary.data);
	buf_free(&boundary);
	buf_free(msg);
	*msg = out;
}

/*
 * Adds footer_utf8 to msg (a whole message, LF line ends) as footer.h
 * says.  tag makes the boundary of a wrapping multipart unique (the
 * spool id).
 */
enum footer_how
footer_add(struct buf *msg, const char *footer_utf8, const char *list_charset,
    const char *tag)
{
	struct mime_ctype ct;
	struct buf text = BUF_INIT, part = BUF_INIT, out = BUF_INIT;
	enum footer_how how;

	if (footer_utf8 == NULL || *footer_utf8 == '\0')
		return FOOTER_NONE;
	buf_adds(&text, footer_utf8);
	if (text.data[text.len - 1] != '\n')
		buf_addc(&text, '\n');
	if (msg->data == NULL)
		buf_add(msg, "", 0);
	mime_ctype_of(msg->data, msg->len, &ct);
	if (strcmp(ct.type, "multipart/signed") == 0 ||
	    strcmp(ct.type, "multipart/encrypted") == 0 ||
	    strcmp(ct.type, "application/pkcs7-mime") == 0 ||
	    strcmp(ct.type, "application/x-pkcs7-mime") == 0) {
		how = FOOTER_SKIPPED;
	} else if (strcmp(ct.type, "text/plain") == 0 &&
	    footer_inline(&out, msg->data, msg->len, &ct, text.data) == 0) {
		buf_free(msg);
		*msg = out;
		buf_init(&out);
		how = FOOTER_INLINE;
	} else if (strcmp(ct.type, "multipart/mixed") == 0 && ct.boundary &&
	    footer_is_mixed(msg->data, msg->len, ct.boundary)) {
		footer_part(&part, text.data, list_charset);
		footer_mixed(msg, ct.boundary, part.data);
		how = FOOTER_PART;
	} else {
		footer_part(&part, text.data, list_charset);
		footer_wrap(msg, part.data, tag);
		how = FOOTER_WRAPPED;
	}
	mime_ctype_free(&ct);
	buf_free(&text);
	buf_free(&part);
	buf_free(&out);
	return how;
}

/* The list's footer, with its variables, added to msg. */
enum footer_how
footer_apply(struct buf *msg, const struct config *cf, const struct list *l,
    const char *tag)
{
	struct buf text = BUF_INIT, a[5];
	static const char *const suffixes[] = {
		NULL, "request", "join", "leave", "owner"
	};
	struct tvar vars[7];
	enum footer_how how;
	size_t i;

	if (l->footer == NULL || *l->footer == '\0')
		return FOOTER_NONE;
	for (i = 0; i < 5; i++) {
		buf_init(&a[i]);
		if (suffixes[i])
			buf_printf(&a[i], "%s-%s@%s", l->name, suffixes[i],
			    cf->domain);
		else
			buf_printf(&a[i], "%s@%s", l->name, cf->domain);
	}
	vars[0] = (struct tvar){ "list", l->name };
	vars[1] = (struct tvar){ "post", a[0].data };
	vars[2] = (struct tvar){ "request", a[1].data };
	vars[3] = (struct tvar){ "join", a[2].data };
	vars[4] = (struct tvar){ "leave", a[3].data };
	vars[5] = (struct tvar){ "owner", a[4].data };
	vars[6] = (struct tvar){ "description", l->description };
	template_expand(&text, l->footer, vars, 7);
	how = footer_add(msg, buf_cstr(&text), l->charset, tag);
	for (i = 0; i < 5; i++)
		buf_free(&a[i]);
	buf_free(&text);
	return how;
}
