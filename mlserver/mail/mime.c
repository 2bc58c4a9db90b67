/*
 * mime - the small MIME toolbox for rewriting posts; see mime.h.
 *
 * Content-Type values are parsed by libetpan (quoted strings, comments
 * and the rest of RFC 2045's grammar); splitting a multipart body and
 * walking header fields are done here on offsets, so that what is not
 * changed is copied octet for octet.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "mime.h"
#include "xmalloc.h"

static void	 mime_type_name(const struct mailmime_content *, char *,
		    size_t);
static int	 mime_is_delim(const char *, size_t, size_t, const char *,
		    size_t, int *);
static void	 mime_multi_add(struct mime_multi *, size_t *, size_t,
		    size_t);

/* Where the body starts: after the first empty line (LF or CRLF). */
size_t
mime_header_end(const char *s, size_t len)
{
	size_t i;

	if (len > 0 && s[0] == '\n')
		return 1;
	if (len > 1 && s[0] == '\r' && s[1] == '\n')
		return 2;
	for (i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < len && s[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

/* 1 if the field name (namelen octets) is want, ignoring case. */
int
mime_field_is(const char *name, size_t namelen, const char *want)
{
	return strlen(want) == namelen && strncasecmp(name, want, namelen) == 0;
}

/*
 * Copies the header fields of hdr[0..len) (no empty line) to out, each
 * whole field (with its continuation lines) only when fn returns 1.  A
 * line that is neither a field nor a continuation is kept as it is.
 */
void
mime_fields_keep(struct buf *out, const char *hdr, size_t len,
    mime_field_fn *fn, void *arg)
{
	size_t i = 0, end, colon;

	while (i < len) {
		end = i;
		do {
			while (end < len && hdr[end] != '\n')
				end++;
			if (end < len)
				end++;
		} while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'));
		for (colon = i; colon < end && hdr[colon] != ':' &&
		    hdr[colon] != '\n' && hdr[colon] != ' '; colon++)
			;
		if (colon == end || hdr[colon] != ':' ||
		    fn(hdr + i, colon - i, hdr + i, end - i, arg))
			buf_add(out, hdr + i, end - i);
		i = end;
	}
}

/* How many header fields of s (a message or part) are called name. */
size_t
mime_field_count(const char *s, size_t len, const char *name)
{
	size_t hend = mime_header_end(s, len), n = strlen(name), i, count = 0;

	for (i = 0; i + n < hend; i++) {
		if (i > 0 && s[i - 1] != '\n')
			continue;
		if (s[i + n] == ':' && strncasecmp(s + i, name, n) == 0)
			count++;
	}
	return count;
}

/*
 * The unfolded value of the first field called name in the header of
 * s, without leading blanks, or NULL.  Allocated.
 */
char *
mime_field_value(const char *s, size_t len, const char *name)
{
	size_t hend = mime_header_end(s, len), n = strlen(name), i, j;
	struct buf b = BUF_INIT;

	for (i = 0; i + n < hend; i++) {
		if ((i > 0 && s[i - 1] != '\n') || s[i + n] != ':' ||
		    strncasecmp(s + i, name, n) != 0)
			continue;
		for (j = i + n + 1; j < hend && (s[j] == ' ' || s[j] == '\t');
		    j++)
			;
		for (; j < hend; j++) {
			if (s[j] == '\r')
				continue;
			if (s[j] == '\n') {
				if (j + 1 < hend && (s[j + 1] == ' ' ||
				    s[j + 1] == '\t'))
					continue;
				break;
			}
			buf_addc(&b, s[j]);
		}
		buf_cstr(&b);
		return buf_release(&b);
	}
	return NULL;
}

static void
mime_type_name(const struct mailmime_content *ct, char *out, size_t outsz)
{
	static const char *const discrete[] = {
		"error", "text", "image", "audio", "video", "application"
	};
	const char *type = "application", *sub = ct->ct_subtype ?
	    ct->ct_subtype : "octet-stream";
	const struct mailmime_type *t = ct->ct_type;
	size_t i;

	if (t->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		int d = t->tp_data.tp_discrete_type->dt_type;

		if (d == MAILMIME_DISCRETE_TYPE_EXTENSION)
			type = t->tp_data.tp_discrete_type->dt_extension;
		else if (d > 0 && d < 6)
			type = discrete[d];
	} else if (t->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE) {
		int c = t->tp_data.tp_composite_type->ct_type;

		if (c == MAILMIME_COMPOSITE_TYPE_MESSAGE)
			type = "message";
		else if (c == MAILMIME_COMPOSITE_TYPE_MULTIPART)
			type = "multipart";
		else
			type = t->tp_data.tp_composite_type->ct_token;
	}
	snprintf(out, outsz, "%s/%s", type ? type : "application", sub);
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/*
 * Parses a Content-Type value.  A value that cannot be parsed is taken
 * as application/octet-stream (RFC 2045, 5.2), so nobody treats
 * unknown data as text.
 */
void
mime_ctype_parse(const char *value, struct mime_ctype *ct)
{
	struct mailmime_content *c = NULL;
	size_t idx = 0;
	char *p;

	memset(ct, 0, sizeof(*ct));
	if (value == NULL) {
		snprintf(ct->type, sizeof(ct->type), "text/plain");
		return;
	}
	ct->given = 1;
	if (mailmime_content_parse(value, strlen(value), &idx, &c) !=
	    MAILIMF_NO_ERROR || c == NULL) {
		snprintf(ct->type, sizeof(ct->type), "application/octet-stream");
		return;
	}
	mime_type_name(c, ct->type, sizeof(ct->type));
	if ((p = mailmime_content_param_get(c, "charset")) != NULL)
		ct->charset = xstrdup(p);
	if ((p = mailmime_content_param_get(c, "boundary")) != NULL)
		ct->boundary = xstrdup(p);
	mailmime_content_free(c);
}

/* The Content-Type of a message or part (its header and body). */
void
mime_ctype_of(const char *part, size_t len, struct mime_ctype *ct)
{
	char *v = mime_field_value(part, len, "Content-Type");

	mime_ctype_parse(v, ct);
	free(v);
}

void
mime_ctype_free(struct mime_ctype *ct)
{
	free(ct->charset);
	free(ct->boundary);
	memset(ct, 0, sizeof(*ct));
}

/*
 * 1 if type ("image/png") matches pattern: "image/png", "image" followed
 * by a slash and a star, "image", or "*".  Case is ignored.
 */
int
mime_type_match(const char *type, const char *pattern)
{
	const char *slash = strchr(type, '/');
	size_t major = slash ? (size_t)(slash - type) : strlen(type);

	if (strcmp(pattern, "*") == 0 || strcmp(pattern, "*/*") == 0)
		return 1;
	if (strchr(pattern, '/') == NULL)
		return strlen(pattern) == major &&
		    strncasecmp(type, pattern, major) == 0;
	if (strlen(pattern) == major + 2 && pattern[major] == '/' &&
	    pattern[major + 1] == '*')
		return strncasecmp(type, pattern, major) == 0;
	return strcasecmp(type, pattern) == 0;
}

/*
 * 1 if body[i..) starts a delimiter line for boundary (RFC 2046: "--B",
 * then "--" for the close delimiter, then only white space to the end
 * of the line); *close says which.
 */
static int
mime_is_delim(const char *body, size_t len, size_t i, const char *b,
    size_t blen, int *close)
{
	size_t j;

	if (i + 2 + blen > len || body[i] != '-' || body[i + 1] != '-' ||
	    memcmp(body + i + 2, b, blen) != 0)
		return 0;
	j = i + 2 + blen;
	*close = 0;
	if (j + 1 < len && body[j] == '-' && body[j + 1] == '-') {
		*close = 1;
		j += 2;
	}
	while (j < len && (body[j] == ' ' || body[j] == '\t' ||
	    body[j] == '\r'))
		j++;
	return j == len || body[j] == '\n';
}

static void
mime_multi_add(struct mime_multi *m, size_t *cap, size_t delim,
    size_t start)
{
	if (m->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		m->delim = xrealloc(m->delim, *cap * sizeof(size_t));
		m->start = xrealloc(m->start, *cap * sizeof(size_t));
		m->end = xrealloc(m->end, *cap * sizeof(size_t));
	}
	m->delim[m->n] = delim;
	m->start[m->n] = start;
	m->end[m->n] = start;
	m->n++;
}

/*
 * Finds the parts of a multipart body.  Returns 0, or -1 when there is
 * no delimiter line at all (then m is empty).  The newline before a
 * delimiter belongs to the delimiter, so a part ends before it.
 */
int
mime_split(const char *body, size_t len, const char *boundary,
    struct mime_multi *m)
{
	size_t blen = strlen(boundary), i = 0, cap = 0, eol;
	int close;

	memset(m, 0, sizeof(*m));
	m->close = len;
	while (i < len) {
		for (eol = i; eol < len && body[eol] != '\n'; eol++)
			;
		if (mime_is_delim(body, len, i, boundary, blen, &close)) {
			if (m->n > 0) {
				size_t e = i;

				if (e > m->start[m->n - 1] &&
				    body[e - 1] == '\n')
					e--;
				if (e > m->start[m->n - 1] &&
				    body[e - 1] == '\r')
					e--;
				if (e < m->start[m->n - 1])
					e = m->start[m->n - 1];
				m->end[m->n - 1] = e;
			}
			if (close) {
				m->close = i;
				m->closed = 1;
				break;
			}
			mime_multi_add(m, &cap, i, eol < len ? eol + 1 : len);
		}
		i = eol + 1;
	}
	if (!m->closed && m->n > 0)
		m->end[m->n - 1] = len;
	return m->n > 0 || m->closed ? 0 : -1;
}

void
mime_multi_free(struct mime_multi *m)
{
	free(m->delim);
	free(m->start);
	free(m->end);
	memset(m, 0, sizeof(*m));
}

/* The Content-Transfer-Encoding of a part, lower case, "7bit" if none. */
void
mime_cte_of(const char *part, size_t len, char *out, size_t outsz)
{
	char *v = mime_field_value(part, len, "Content-Transfer-Encoding");
	size_t i, k = 0;

	if (v == NULL) {
		snprintf(out, outsz, "7bit");
		return;
	}
	for (i = 0; v[i] && k + 1 < outsz; i++) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == ';' || v[i] == '(')
			break;
		out[k++] = (char)tolower((unsigned char)v[i]);
	}
	out[k] = '\0';
	if (k == 0)
		snprintf(out, outsz, "7bit");
	free(v);
}

/*
 * Appends data decoded from transfer encoding cte (base64,
 * quoted-printable; anything else is copied).  0, or -1 when libetpan
 * cannot decode it.
 */
int
mime_decode(const char *cte, const char *data, size_t len, struct buf *out)
{
	int mech;
	size_t idx = 0, rlen = 0;
	char *r = NULL;

	if (strcasecmp(cte, "base64") == 0)
		mech = MAILMIME_MECHANISM_BASE64;
	else if (strcasecmp(cte, "quoted-printable") == 0)
		mech = MAILMIME_MECHANISM_QUOTED_PRINTABLE;
	else {
		buf_add(out, data, len);
		return 0;
	}
	if (mailmime_part_parse(data, len, &idx, mech, &r, &rlen) !=
	    MAILIMF_NO_ERROR)
		return -1;
	buf_add(out, r, rlen);
	mmap_string_unref(r);
	if (out->data == NULL)
		buf_add(out, "", 0);
	return 0;
}

/*
 * Appends data as quoted-printable (RFC 2045, 6.7): line breaks stay
 * line breaks (LF or CRLF in, LF out), other controls, '=' and 8-bit
 * octets become =XX, as do blanks at the end of a line; lines are cut
 * with soft breaks to stay within 76 characters.
 */
void
mime_qp_encode(struct buf *out, const char *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;
	unsigned char c;
	char enc[3];
	size_t n;

	for (i = 0; i < len; i++) {
		c = (unsigned char)data[i];
		if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		if (c == '\n') {
			buf_addc(out, '\n');
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' ||
		    c == '\t') && i + 1 < len && data[i + 1] != '\n' &&
		    data[i + 1] != '\r')) {
			enc[0] = (char)c;
			n = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			n = 3;
		}
		if (col + n > 75) {
			buf_add(out, "=\n", 2);
			col = 0;
		}
		buf_add(out, enc, n);
		col += n;
	}
}

/* Appends data with every CRLF made LF (the form rewriting works on). */
void
mime_lf(struct buf *out, const char *data, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i + 1 < len; i++) {
		if (data[i] == '\r' && data[i + 1] == '\n') {
			buf_add(out, data + start, i - start);
			start = i + 1;
		}
	}
	buf_add(out, data + start, len - start);
	if (out->data == NULL)
		buf_add(out, "", 0);
}
