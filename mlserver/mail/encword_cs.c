/*
 * encword_cs - encoded words in a chosen charset; see encword_cs.h.
 *
 * Words are cut by trying ever longer runs of whole characters through
 * charset_from_utf8, which is quadratic but header-sized; one word per
 * line after the first keeps every line within 76 octets without the
 * column bookkeeping encword.c needs for mixed plain and encoded text.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "encword_cs.h"
#include "mime.h"
#include "text.h"
#include "xmalloc.h"

#define CS_LINELEN	78

static size_t	 cs_take(const char *, const char *, size_t, size_t,
		    struct buf *);
static void	 cs_label(const char *, char *, size_t);
static void	 cs_words(struct buf *, const char *, size_t, const char *,
		    size_t);
static int	 cs_is_plain(const char *);
static int	 cs_recode_field(const char *, size_t, const char *, size_t,
		    void *);

struct cs_recode {
	struct buf	*out;
	const char	*charset;
};

/* 1 for UTF-8 (or no charset at all): nothing to do differently. */
int
encword_cs_is_utf8(const char *charset)
{
	return charset == NULL || *charset == '\0' ||
	    strcasecmp(charset, "utf-8") == 0 ||
	    strcasecmp(charset, "utf8") == 0;
}

/* 1 if charset carries utf8 exactly: converting there and back is equal. */
int
encword_cs_exact(const char *charset, const char *utf8)
{
	struct buf enc = BUF_INIT, back = BUF_INIT;
	int ok;

	if (encword_cs_is_utf8(charset))
		return text_utf8_valid(utf8, strlen(utf8));
	ok = charset_from_utf8(charset, utf8, strlen(utf8), &enc) == 0 &&
	    charset_to_utf8(charset, enc.data, enc.len, &back) == 0 &&
	    strcmp(buf_cstr(&back), utf8) == 0;
	buf_free(&enc);
	buf_free(&back);
	return ok;
}

/* The longest run of whole characters encoding within max octets. */
static size_t
cs_take(const char *cs, const char *s, size_t len, size_t max,
    struct buf *tmp)
{
	size_t i = 0, n, best = 0;

	while (i < len) {
		n = text_utf8_char(s + i, len - i, NULL);
		if (n == 0)
			n = 1;
		buf_reset(tmp);
		(void)charset_from_utf8(cs, s, i + n, tmp);
		if (tmp->len > max)
			break;
		i += n;
		best = i;
	}
	return best;
}

static void
cs_label(const char *charset, char *out, size_t outsz)
{
	size_t i;

	snprintf(out, outsz, "%s", charset);
	for (i = 0; out[i]; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/*
 * Text s[0..len) as encoded words in charset: the first within first
 * octets (and 75), the rest each on a folded line of its own.
 */
static void
cs_words(struct buf *out, const char *s, size_t len, const char *charset,
    size_t first)
{
	struct buf enc = BUF_INIT;
	char label[64];
	size_t overhead, wordmax = first, take;

	cs_label(charset, label, sizeof(label));
	overhead = strlen(label) + 7;	/* "=?" "?B?" "?=" */
	if (wordmax > ENCWORD_MAXLEN)
		wordmax = ENCWORD_MAXLEN;
	if (wordmax < overhead + 8) {
		buf_add(out, "\n ", 2);
		wordmax = ENCWORD_MAXLEN;
	}
	while (len > 0) {
		take = cs_take(charset, s, len, (wordmax - overhead) / 4 * 3,
		    &enc);
		if (take == 0)
			take = text_utf8_char(s, len, NULL) ?
			    text_utf8_char(s, len, NULL) : 1;
		buf_reset(&enc);
		(void)charset_from_utf8(charset, s, take, &enc);
		buf_printf(out, "=?%s?B?", label);
		base64_encode(out, enc.data, enc.len, 0);
		buf_add(out, "?=", 2);
		s += take;
		len -= take;
		if (len > 0)
			buf_add(out, "\n ", 2);
		wordmax = ENCWORD_MAXLEN;
	}
	buf_free(&enc);
}

/* Printable ASCII that no decoder takes for an encoded word. */
static int
cs_is_plain(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return strstr(s, "=?") == NULL;
}

/*
 * Appends an unstructured field body (Subject) for utf8 in charset;
 * used octets are on the first line already.  Returns 0, or -1 when the
 * charset could not carry the text and UTF-8 words were written.
 */
int
encword_cs_encode(struct buf *out, const char *utf8, size_t used,
    const char *charset)
{
	if (encword_cs_is_utf8(charset) || cs_is_plain(utf8)) {
		encword_encode(out, utf8, used);
		return 0;
	}
	if (!encword_cs_exact(charset, utf8)) {
		encword_encode(out, utf8, used);
		return -1;
	}
	cs_words(out, utf8, strlen(utf8), charset,
	    used < CS_LINELEN ? CS_LINELEN - used : 0);
	return 0;
}

/* A display name in charset; as encword_cs_encode for the result. */
int
encword_cs_phrase(struct buf *out, const char *utf8, const char *charset)
{
	if (encword_cs_is_utf8(charset) || cs_is_plain(utf8)) {
		encword_phrase(out, utf8);
		return 0;
	}
	if (!encword_cs_exact(charset, utf8)) {
		encword_phrase(out, utf8);
		return -1;
	}
	cs_words(out, utf8, strlen(utf8), charset, ENCWORD_MAXLEN);
	return 0;
}

/* One field of a header being recoded (see encword_cs_recode). */
static int
cs_recode_field(const char *name, size_t n, const char *field, size_t flen,
    void *arg)
{
	static const char *const addr_fields[] = {
		"From", "To", "Cc", "Reply-To", "Sender", NULL
	};
	struct cs_recode *rc = arg;
	struct buf dec = BUF_INIT;
	char *value, *lt;
	size_t i;
	int is_addr = 0;

	value = xstrndup(field + n + 1, flen - n - 1);
	if (strstr(value, "=?") == NULL) {
		free(value);
		return 1;
	}
	for (i = 0; addr_fields[i]; i++)
		if (mime_field_is(name, n, addr_fields[i]))
			is_addr = 1;
	if (mime_field_is(name, n, "Subject")) {
		encword_decode(value, &dec);
		buf_add(rc->out, name, n);
		buf_adds(rc->out, ": ");
		encword_cs_encode(rc->out, buf_cstr(&dec), n + 2,
		    rc->charset);
		buf_addc(rc->out, '\n');
	} else if (is_addr && (lt = strrchr(value, '<')) != NULL &&
	    strchr(lt, ',') == NULL) {
		*lt = '\0';
		encword_decode(value, &dec);
		*lt = '<';
		buf_add(rc->out, name, n);
		buf_adds(rc->out, ": ");
		encword_cs_phrase(rc->out, buf_cstr(&dec), rc->charset);
		buf_addc(rc->out, ' ');
		for (i = 0; lt[i] && lt[i] != '\n'; i++)
			buf_addc(rc->out, lt[i]);
		buf_addc(rc->out, '\n');
	} else {
		buf_free(&dec);
		free(value);
		return 1;
	}
	buf_free(&dec);
	free(value);
	return 0;
}

/*
 * Appends the header hdr[0..len), written by compose (UTF-8 encoded
 * words, LF line ends), with the Subject and the display names of
 * address fields re-encoded in charset.
 */
void
encword_cs_recode(struct buf *out, const char *hdr, size_t len,
    const char *charset)
{
	struct cs_recode rc = { out, charset };

	if (encword_cs_is_utf8(charset)) {
		buf_add(out, hdr, len);
		return;
	}
	mime_fields_keep(out, hdr, len, cs_recode_field, &rc);
}
