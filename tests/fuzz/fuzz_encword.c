/*
 * fuzz_encword - header text: RFC 2047 decoding and the charsets behind
 * it.  The input's first line names a charset, the rest is the text.
 *
 *	encword_decode(text)		must give valid UTF-8
 *	charset_to_utf8(charset, text)	valid UTF-8 when it succeeds
 *	charset_guess_to_utf8(text)	always valid UTF-8
 *	encword_encode / encword_phrase of that UTF-8, decoded again, must
 *	give the same text back (the round trip every reply depends on)
 *	charset_from_utf8(charset, utf8), when it succeeds, read back with
 *	charset_to_utf8 gives the same text
 */
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "fuzz.h"
#include "log.h"
#include "text.h"
#include "xmalloc.h"

static int	fuzz_encword_roundtrip_ok(const char *);

FUZZ_INIT(encword)
{
	log_init("fuzz_encword", 1, 0);
	return 0;
}

/*
 * Text the encoder promises to give back unchanged: valid UTF-8 without
 * controls (a header value holds no CR, LF or NUL; TAB and runs of
 * blanks are folding material, not content) and without a literal
 * "=?" that a decoder would take for an encoded word.
 */
static int
fuzz_encword_roundtrip_ok(const char *s)
{
	size_t n = strlen(s);

	if (!text_utf8_valid(s, n) || strstr(s, "=?") != NULL ||
	    strstr(s, "  ") != NULL || n == 0 || s[0] == ' ' ||
	    s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

FUZZ_TARGET(encword)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	const uint8_t *nl;
	char *cs, *text;
	size_t cslen, tlen;

	nl = memchr(data, '\n', size);
	cslen = nl ? (size_t)(nl - data) : 0;
	if (cslen > 64)
		cslen = 64;
	cs = xstrndup((const char *)data, cslen);
	text = xstrndup(nl ? (const char *)nl + 1 : (const char *)data,
	    nl ? size - (size_t)(nl - data) - 1 : size);
	tlen = strlen(text);

	if (encword_decode(text, &a) == 0)
		FUZZ_CHECK(text_utf8_valid(a.data ? a.data : "", a.len));

	buf_reset(&b);
	if (charset_to_utf8(cs, text, tlen, &b) == 0)
		FUZZ_CHECK(text_utf8_valid(b.data ? b.data : "", b.len));
	(void)charset_known(cs);

	buf_reset(&b);
	charset_guess_to_utf8(text, tlen, &b);
	FUZZ_CHECK(text_utf8_valid(b.data ? b.data : "", b.len));

	/* Encode what we have as UTF-8, decode it, compare. */
	if (fuzz_encword_roundtrip_ok(buf_cstr(&b))) {
		buf_reset(&c);
		encword_encode(&c, buf_cstr(&b), 9);
		buf_reset(&a);
		FUZZ_CHECK(encword_decode(buf_cstr(&c), &a) == 0);
		if (strcmp(buf_cstr(&a), buf_cstr(&b)) != 0) {
			fprintf(stderr, "in:  [%s]\nenc: [%s]\nout: [%s]\n",
			    buf_cstr(&b), buf_cstr(&c), buf_cstr(&a));
			FUZZ_CHECK(!"encword round trip");
		}
		buf_reset(&c);
		encword_phrase(&c, buf_cstr(&b));
		buf_reset(&a);
		(void)encword_decode(buf_cstr(&c), &a);
		FUZZ_CHECK(text_utf8_valid(buf_cstr(&a), a.len));
	}

	/* Our UTF-8 out in the named charset and back. */
	if (text_utf8_valid(text, tlen)) {
		buf_reset(&c);
		if (charset_from_utf8(cs, text, tlen, &c) == 0) {
			buf_reset(&a);
			if (charset_to_utf8(cs, c.data ? c.data : "", c.len,
			    &a) == 0)
				FUZZ_CHECK(text_utf8_valid(buf_cstr(&a),
				    a.len));
		}
	}
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	free(cs);
	free(text);
	return 0;
}
