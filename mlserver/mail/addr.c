/*
 * addr - envelope addresses: checking and the canonical form; see addr.h.
 *
 * The check is deliberately narrower than RFC 5322: a dot-atom local part
 * (or a quoted one without controls) and a domain of LDH labels or an
 * address literal.  Anything this accepts can be written into a spool
 * envelope, an SMTP command and a log line without escaping.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

static int	addr_local_ok(const char *, size_t);
static int	addr_domain_ok(const char *);
static int	addr_word_char(int);

static int
addr_local_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	if (s[0] == '"') {
		if (n < 2 || s[n - 1] != '"')
			return 0;
		/* RFC 5321 qtextSMTP: printable ASCII (found by fuzz_addr). */
		for (i = 1; i + 1 < n; i++)
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
			    s[i] == '\\')
				return 0;
		return 1;
	}
	if (s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && s[i + 1] == '.')
			return 0;
		if (isalnum(c) || strchr("!#$%&'*+-/=?^_`{|}~.", c))
			continue;
		return 0;
	}
	return 1;
}

static int
addr_domain_ok(const char *d)
{
	size_t label = 0, n = strlen(d);

	if (n == 0 || n > 253)
		return 0;
	if (d[0] == '[')
		return d[n - 1] == ']' && n > 2 &&
		    strspn(d + 1, "0123456789abcdefABCDEF.:Iv6") == n - 2;
	for (; *d; d++) {
		unsigned char c = (unsigned char)*d;

		if (c == '.') {
			if (label == 0 || d[-1] == '-')
				return 0;
			label = 0;
		} else if (isalnum(c) || (c == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0 && d[-1] != '-';
}

/*
 * Write the canonical form of in (which may carry surrounding blanks and
 * angle brackets) to out.  Returns 0, or -1 when in is not an address we
 * accept or does not fit.
 */
int
addr_canon(const char *in, char *out, size_t outsz)
{
	const char *end, *at;
	size_t n, i;

	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n >= 2 && in[0] == '<' && in[n - 1] == '>') {
		in++;
		n -= 2;
	}
	if (n == 0 || n > ADDR_MAX || n + 1 > outsz)
		return -1;
	end = in + n;
	at = NULL;
	for (const char *p = in; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL || !addr_local_ok(in, (size_t)(at - in)))
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	for (i = (size_t)(at - in) + 1; i < n; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	if (!addr_domain_ok(out + (at - in) + 1))
		return -1;
	return 0;
}

int
addr_valid(const char *s)
{
	char tmp[ADDR_MAX + 1];

	return addr_canon(s, tmp, sizeof(tmp)) == 0;
}

/* The domain part of a canonical address ("" when there is none). */
const char *
addr_domain(const char *s)
{
	const char *at = strrchr(s, '@');

	return at ? at + 1 : "";
}

/* Whether two addresses name one mailbox: domain compared without case. */
int
addr_same(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL)
		return strcasecmp(a, b) == 0;
	if (at_a - a != at_b - b || memcmp(a, b, (size_t)(at_a - a)) != 0)
		return 0;
	return strcasecmp(at_a, at_b) == 0;
}

/*
 * Whether text (a header field's value) names addr as a whole: the match
 * must not be part of a longer address, so a list "ya" is not taken for
 * "setagaya" in X-Loop: setagaya@D.  Case is ignored, as MTAs and list
 * servers differ in what they keep of it.
 */
int
addr_mentioned(const char *text, const char *addr)
{
	size_t n = strlen(addr);
	const char *p;

	if (n == 0)
		return 0;
	for (p = text; (p = strcasestr(p, addr)) != NULL; p++) {
		int before = p == text || !addr_word_char(p[-1]);
		int after = !addr_word_char(p[n]);

		if (before && after)
			return 1;
	}
	return 0;
}

/* A character that may continue an address on either side. */
static int
addr_word_char(int c)
{
	return c != '\0' && (isalnum((unsigned char)c) || (c & 0x80) ||
	    strchr(".!#$%&'*+-/=?^_`{|}~@", c) != NULL);
}
