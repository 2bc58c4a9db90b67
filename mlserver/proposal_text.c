/*
 * proposal_text - a proposal's words read out of a mail's text: the
 * optional "テーマ:" / "Theme:" line, the text without signature and
 * (for replies) quotes, the answer under a command line, and the first
 * line of a reply given as a reason.
 *
 * Kept apart from proposals.c because this is string work on what mail
 * clients send, with no store under it: it grows with every client's
 * way of quoting, signing and marking lines, and it is tested (and can
 * be fuzzed) without a database, while proposals.c keeps the record and
 * its state machine.  Lines are read as command.c reads them, so a
 * command found there is found here too.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "proposal_text.h"
#include "text.h"
#include "xmalloc.h"

static void	 line_normalise(struct buf *, const char *, size_t);
static int	 line_is_stop(const char *);
static int	 line_is_signature(const char *, size_t);
static int	 line_is_quote(const char *, size_t);
static int	 line_is_attribution(const char *, size_t);
static int	 line_blank(const char *, size_t);
static int	 quote_follows(const char *);
static char	*text_lf(const char *);

/* text with CRLF and lone CR made LF.  Allocated. */
static char *
text_lf(const char *s)
{
	struct buf b = BUF_INIT;

	for (; s && *s; s++) {
		if (*s == '\r') {
			if (s[1] != '\n')
				buf_addc(&b, '\n');
			continue;
		}
		buf_addc(&b, *s);
	}
	return buf_release(&b);
}

/* A line as command.c reads it: width folded, marks and blanks gone. */
static void
line_normalise(struct buf *out, const char *s, size_t n)
{
	struct buf raw = BUF_INIT, folded = BUF_INIT;
	const char *p;
	size_t len;

	buf_add(&raw, s, n);
	text_fold_width(&folded, buf_cstr(&raw));
	p = buf_cstr(&folded);
	while (*p == '>' || *p == '#' || *p == '|' || *p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	while (len && strchr(" \t\r", p[len - 1]))
		len--;
	buf_add(out, p, len);
	buf_free(&raw);
	buf_free(&folded);
}

static int
line_is_stop(const char *norm)
{
	return strcasecmp(norm, "end") == 0 || strcmp(norm, "以上") == 0;
}

static int
line_is_signature(const char *s, size_t n)
{
	return n >= 2 && strncmp(s, "--", 2) == 0 &&
	    strspn(s + 2, " \r") >= n - 2;
}

static int
line_is_quote(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && (s[i] == '>' || s[i] == '|');
}

/* "On ... wrote:", "... さんは書きました:" and the like. */
static int
line_is_attribution(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return (n >= 1 && s[n - 1] == ':') ||
	    (n >= 3 && memcmp(s + n - 3, "：", 3) == 0);
}

static int
line_blank(const char *s, size_t n)
{
	return strspn(s, " \t") >= n;
}

/* Whether the next line that is not blank is a quote. */
static int
quote_follows(const char *q)
{
	while (*q) {
		const char *e = strchr(q, '\n');
		size_t m = e ? (size_t)(e - q) : strlen(q);

		if (!line_blank(q, m))
			return line_is_quote(q, m);
		q = e ? e + 1 : q + m;
	}
	return 0;
}

/*
 * Split an optional first line "テーマ: X" / "Theme: X" from a
 * proposal's text.  Returns the text without it (allocated) and the
 * theme in *theme (allocated, "" when none).
 */
char *
proposal_theme_split(const char *text, char **theme)
{
	static const char *const labels[] = { "テーマ", "theme", NULL };
	char *lf = text_lf(text), *p = lf, *eol, *rest;
	size_t i, n;

	*theme = xstrdup("");
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	eol = strchr(p, '\n');
	n = eol ? (size_t)(eol - p) : strlen(p);
	for (i = 0; labels[i]; i++) {
		size_t k = strlen(labels[i]);
		const char *v;

		if (n <= k || strncasecmp(p, labels[i], k) != 0)
			continue;
		v = p + k;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == ':')
			v++;
		else if (strncmp(v, "：", 3) == 0)
			v += 3;
		else
			continue;
		while (*v == ' ' || *v == '\t' || strncmp(v, "\xe3\x80\x80",
		    3) == 0)
			v += *v == ' ' || *v == '\t' ? 1 : 3;
		free(*theme);
		*theme = xstrndup(v, (size_t)(p + n - v));
		n = strlen(*theme);
		while (n && ((*theme)[n - 1] == ' ' || (*theme)[n - 1] == '\t'))
			(*theme)[--n] = '\0';
		rest = xstrdup(eol ? eol + 1 : "");
		free(lf);
		return rest;
	}
	return lf;
}

/*
 * The words a person wrote: line ends made LF, the signature and what
 * follows it cut, trailing blanks and the blank lines at either end
 * removed, runs of blank lines made one.  drop_quotes also removes
 * quoted lines ("> ...") and the attribution line before a quote, so a
 * reply to a proposal keeps only the reply.  Allocated.
 */
char *
proposal_text_clean(const char *text, int drop_quotes)
{
	char *lf = text_lf(text);
	const char *p = lf;
	struct buf out = BUF_INIT;
	int blanks = 0;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *next = eol ? eol + 1 : p + n;

		if (line_is_signature(p, n))
			break;
		if (drop_quotes && line_is_quote(p, n)) {
			p = next;
			continue;
		}
		if (drop_quotes && line_is_attribution(p, n) &&
		    quote_follows(next)) {
			p = next;
			continue;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0) {
			blanks++;
		} else {
			if (out.len && blanks)
				buf_adds(&out, "\n\n");
			else if (out.len)
				buf_addc(&out, '\n');
			buf_add(&out, p, n);
			blanks = 0;
		}
		p = next;
	}
	free(lf);
	if (out.data == NULL)
		return xstrdup("");
	return buf_release(&out);
}

/*
 * The text that follows a command line in a mail's text (the answer
 * under "answer REF STATE"), up to "end", "以上" or a signature.  When
 * line is not in the text (it was the Subject), the whole text is
 * meant.  Allocated, "" when there is none.
 */
char *
proposal_text_after(const char *text, const char *line)
{
	char *lf = text_lf(text);
	const char *p = lf, *start = lf;
	struct buf norm = BUF_INIT, part = BUF_INIT;
	char *out;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		buf_reset(&norm);
		line_normalise(&norm, p, n);
		p = eol ? eol + 1 : p + n;
		if (strcasecmp(buf_cstr(&norm), line) == 0) {
			start = p;
			break;
		}
	}
	/* Up to the first stop line. */
	for (p = start; *p; ) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		buf_reset(&norm);
		line_normalise(&norm, p, n);
		if (line_is_stop(buf_cstr(&norm)) || line_is_signature(p, n))
			break;
		buf_add(&part, p, n);
		buf_addc(&part, '\n');
		p = eol ? eol + 1 : p + n;
	}
	out = proposal_text_clean(buf_cstr(&part), 0);
	buf_free(&norm);
	buf_free(&part);
	free(lf);
	return out;
}

/*
 * The first line a person wrote in a reply (a reason given when
 * refusing by reply), at most 300 octets; NULL when there is none.
 */
char *
proposal_first_line(const char *text)
{
	char *clean = proposal_text_clean(text ? text : "", 1);
	char *eol = strchr(clean, '\n'), *out = NULL;
	size_t n;

	if (eol)
		*eol = '\0';
	n = text_utf8_prefix(clean, 300);
	if (n > 0)
		out = xstrndup(clean, n);
	free(clean);
	return out;
}
