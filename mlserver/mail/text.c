/*
 * text - small UTF-8 primitives for mail text; see text.h.
 *
 * The decoder is strict (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF.  Mail is hostile input, and a lenient decoder
 * lets "/" hide as an overlong C0 AF past any later check.
 */
#include <string.h>

#include "text.h"

static size_t	text_utf8_seqlen(unsigned char);

/*
 * The length a lead byte announces, or 0 for a byte that cannot start a
 * character (continuation bytes, C0/C1, F5..FF).
 */
static size_t
text_utf8_seqlen(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/*
 * Decodes the character at s (at most len octets available).  Returns its
 * length in octets and stores the code point in *cp (if cp is not NULL),
 * or returns 0 if the octets there are not a complete, valid character.
 */
size_t
text_utf8_char(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i;
	uint32_t c;

	if (len == 0)
		return 0;
	n = text_utf8_seqlen(u[0]);
	if (n == 0 || n > len)
		return 0;
	if (n == 1) {
		c = u[0];
	} else {
		c = u[0] & (0x7f >> n);
		for (i = 1; i < n; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (u[i] & 0x3f);
		}
		if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	if (cp)
		*cp = c;
	return n;
}

/* Appends the UTF-8 form of cp; anything not a scalar value becomes U+FFFD. */
void
text_utf8_put(struct buf *out, uint32_t cp)
{
	char b[4];

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_addc(out, (int)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 3);
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(out, b, 4);
	}
}

/* 1 if s[0..len) is entirely valid UTF-8 (NUL octets included), else 0. */
int
text_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = text_utf8_char(s + i, len - i, NULL)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * The length of the longest prefix of the NUL-terminated s that is at
 * most maxoctets long and does not end inside a character.  Invalid
 * octets count as characters of their own, so the result only backs off
 * over a sequence that a valid lead byte announced.
 */
size_t
text_utf8_prefix(const char *s, size_t maxoctets)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strnlen(s, maxoctets), i, k;

	if (n < maxoctets || (u[n] & 0xc0) != 0x80)
		return n;
	/* u[n] continues a character: find where that character starts. */
	for (i = n, k = 0; i > 0 && k < 3; k++) {
		i--;
		if ((u[i] & 0xc0) != 0x80) {
			if (text_utf8_seqlen(u[i]) > n - i)
				return i;
			return n;
		}
	}
	return n;
}

/*
 * Appends utf8 with the full-width forms of ASCII (U+FF01..U+FF5E) and
 * the ideographic space (U+3000) replaced by their ASCII counterparts.
 * Everything else, invalid octets included, is copied unchanged.
 */
void
text_fold_width(struct buf *out, const char *utf8)
{
	size_t len = strlen(utf8), i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = text_utf8_char(utf8 + i, len - i, &cp);
		if (n == 0) {
			buf_addc(out, utf8[i++]);
			continue;
		}
		if (cp >= 0xff01 && cp <= 0xff5e)
			buf_addc(out, (int)(cp - 0xff01 + 0x21));
		else if (cp == 0x3000)
			buf_addc(out, ' ');
		else
			buf_add(out, utf8 + i, n);
		i += n;
	}
}
