/*
 * encword - RFC 2047 encoded words; see encword.h.
 *
 * Encoding cuts the text into words at spaces.  Words of printable ASCII
 * stay as they are; every other word, with the spaces between it and
 * its neighbours of the same kind, becomes one run of "B" words in
 * UTF-8.  The spaces of a run travel inside the encoded text, because a
 * decoder drops white space between adjacent encoded words; between a
 * run and a plain word they stay literal, and a line is folded there.
 *
 * Decoding is done here rather than by libetpan's
 * mailmime_encoded_phrase_parse, which converts each word on its own:
 * Japanese clients split ISO-2022-JP and UTF-8 text across words in the
 * middle of a character, so the octets of adjacent words in one charset
 * are joined first and converted once.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "text.h"
#include "xmalloc.h"

#define ENCWORD_PREFIX		"=?UTF-8?B?"
#define ENCWORD_OVERHEAD	12	/* "=?UTF-8?B?" and "?=" */
#define ENCWORD_MAXDATA		45	/* 60 base64 characters */
#define ENCWORD_MINDATA		12	/* below this, fold instead */
#define ENCWORD_CSMAX		64	/* longest charset label accepted */

enum encword_toktype {
	TK_SPACE,	/* a run of spaces */
	TK_PLAIN,	/* a word that can stay as it is */
	TK_ENC		/* a word that must be encoded */
};

struct encword_tok {
	size_t			off;
	size_t			len;
	enum encword_toktype	type;
};

/* Where the output line stands while encoding. */
struct encword_line {
	struct buf	*out;
	size_t		 col;	/* octets on the current line */
	int		 text;	/* the line holds more than white space */
};

/* A parsed encoded word of the input. */
struct encword_word {
	size_t	cs, cslen;	/* charset label, without any *language */
	int	enc;		/* 'B' or 'Q' */
	size_t	text, textlen;
	size_t	end;		/* just past "?=" */
};

/* Decoded octets of adjacent encoded words in one charset. */
struct encword_pend {
	char		cs[ENCWORD_CSMAX + 1];
	struct buf	octets;
	int		active;
};

static size_t	encword_tokens(const char *, struct encword_tok **);
static int	encword_is_plain(const char *, size_t);
static void	encword_emit_plain(struct encword_line *, const char *,
		    size_t, const char *, size_t);
static void	encword_emit_run(struct encword_line *, const char *, size_t,
		    const char *, size_t);
static size_t	encword_room(size_t);
static size_t	encword_take(const char *, size_t, size_t);
static int	encword_is_atoms(const char *);
static int	encword_parse(const char *, size_t, size_t,
		    struct encword_word *);
static void	encword_unb64(const char *, size_t, struct buf *);
static void	encword_unq(const char *, size_t, struct buf *);
static int	encword_hex(int);
static void	encword_flush(struct encword_pend *, struct buf *, int *,
		    int *);
static void	encword_literal(const char *, size_t, struct buf *, int *);
static void	encword_put(struct buf *, const char *, size_t);
static int	encword_all_space(const char *, size_t);

/*
 * Splits s into alternating runs of spaces and words.  A word next to
 * leading or trailing spaces is marked for encoding, so those spaces
 * (which header parsers trim when literal) survive inside encoded text.
 */
static size_t
encword_tokens(const char *s, struct encword_tok **toks)
{
	struct encword_tok *t = NULL;
	size_t n = 0, cap = 0, i = 0, start;

	while (s[i] != '\0') {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			t = xrealloc(t, cap * sizeof(*t));
		}
		start = i;
		if (s[i] == ' ') {
			while (s[i] == ' ')
				i++;
			t[n].type = TK_SPACE;
		} else {
			while (s[i] != '\0' && s[i] != ' ')
				i++;
			t[n].type = encword_is_plain(s + start, i - start) ?
			    TK_PLAIN : TK_ENC;
		}
		t[n].off = start;
		t[n].len = i - start;
		n++;
	}
	if (n == 1 && t[0].type == TK_SPACE)
		t[0].type = TK_ENC;	/* nothing but spaces */
	if (n >= 2 && t[0].type == TK_SPACE)
		t[1].type = TK_ENC;
	if (n >= 2 && t[n - 1].type == TK_SPACE)
		t[n - 2].type = TK_ENC;
	*toks = t;
	return n;
}

/* Printable ASCII that no decoder could take for an encoded word. */
static int
encword_is_plain(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[i] < 0x21 || w[i] > 0x7e)
			return 0;
		if (w[i] == '=' && i + 1 < n && w[i + 1] == '?')
			return 0;
	}
	return 1;
}

/* Plain word w after literal spaces sp, folding before sp if too long. */
static void
encword_emit_plain(struct encword_line *l, const char *sp, size_t splen,
    const char *w, size_t wlen)
{
	if (l->text && l->col + splen + wlen > ENCWORD_LINELEN) {
		if (splen > 0) {
			buf_addc(l->out, '\n');
			l->col = 0;
		} else if (1 + wlen <= ENCWORD_LINELEN) {
			buf_add(l->out, "\n ", 2);
			l->col = 1;
		}
	}
	buf_add(l->out, sp, splen);
	buf_add(l->out, w, wlen);
	l->col += splen + wlen;
	l->text = 1;
}

/*
 * Text s[0..len) as encoded words, the first after literal spaces sp,
 * the others after one space.  Each word is filled to what the line
 * still holds; when that is too little, the line is folded first.
 */
static void
encword_emit_run(struct encword_line *l, const char *sp, size_t splen,
    const char *s, size_t len)
{
	size_t seplen, take;
	int first = 1;

	while (len > 0) {
		seplen = first ? splen : 1;
		take = encword_take(s, len, encword_room(l->col + seplen));
		if (l->text && (take == 0 ||
		    (take < len && take < ENCWORD_MINDATA))) {
			if (seplen > 0) {
				buf_addc(l->out, '\n');
				l->col = 0;
			} else {
				buf_add(l->out, "\n ", 2);
				l->col = 1;
			}
			l->text = 0;
			take = encword_take(s, len,
			    encword_room(l->col + seplen));
		}
		if (take == 0)
			take = 1;	/* cannot happen; progress anyway */
		if (first)
			buf_add(l->out, sp, splen);
		else
			buf_addc(l->out, ' ');
		buf_adds(l->out, ENCWORD_PREFIX);
		base64_encode(l->out, s, take, 0);
		buf_add(l->out, "?=", 2);
		l->col += seplen + ENCWORD_OVERHEAD + (take + 2) / 3 * 4;
		l->text = 1;
		s += take;
		len -= take;
		first = 0;
	}
}

/* Octets of text an encoded word starting at column col may carry. */
static size_t
encword_room(size_t col)
{
	size_t room, groups;

	if (col + ENCWORD_OVERHEAD + 4 > ENCWORD_LINELEN)
		return 0;
	room = ENCWORD_LINELEN - col - ENCWORD_OVERHEAD;
	groups = room / 4;
	if (groups > ENCWORD_MAXDATA / 3)
		groups = ENCWORD_MAXDATA / 3;
	return groups * 3;
}

/* The longest prefix of s[0..len) within max octets, whole characters. */
static size_t
encword_take(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	return text_utf8_prefix(s, max);
}

/*
 * Appends the body of an unstructured header field (Subject) for UTF-8
 * text; used octets are already on the first line ("Subject: ").
 */
void
encword_encode(struct buf *out, const char *utf8, size_t used)
{
	struct encword_line l = { out, used, used > 0 };
	struct encword_tok *t;
	size_t n, i, j, sp, splen, end, first;

	n = encword_tokens(utf8, &t);
	for (i = 0; i < n; ) {
		sp = splen = 0;
		if (t[i].type == TK_SPACE && i > 0 && i + 1 < n) {
			/* Spaces between words: literal, a place to fold. */
			sp = t[i].off;
			splen = t[i].len;
			i++;
		}
		first = i;
		if (t[i].type == TK_SPACE && i == 0 && n > 1)
			i++;	/* leading spaces open the run of t[1] */
		if (t[i].type != TK_ENC) {
			encword_emit_plain(&l, utf8 + sp, splen,
			    utf8 + t[i].off, t[i].len);
			i++;
			continue;
		}
		/*
		 * Extend the run over spaces that join it to the next
		 * encoded word, and over trailing spaces.
		 */
		for (j = i; j + 2 < n && t[j + 1].type == TK_SPACE &&
		    t[j + 2].type == TK_ENC; j += 2)
			;
		if (j + 2 == n && t[j + 1].type == TK_SPACE)
			j++;
		end = t[j].off + t[j].len;
		encword_emit_run(&l, utf8 + sp, splen, utf8 + t[first].off,
		    end - t[first].off);
		i = j + 1;
	}
	free(t);
	if (out->data == NULL)
		buf_add(out, "", 0);
}

/* 1 if s is atext atoms separated by single spaces (RFC 5322 phrase). */
static int
encword_is_atoms(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == ' ')
		return 0;
	for (p = s; *p; p++) {
		if (*p == ' ') {
			if (p[1] == ' ' || p[1] == '\0')
				return 0;
			continue;
		}
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("!#$%&'*+-/=?^_`{|}~", *p) != NULL)
			continue;
		return 0;
	}
	return strstr(s, "=?") == NULL;
}

/*
 * Appends a display name: atoms as they are, other printable ASCII as a
 * quoted-string, anything else as encoded words (B, UTF-8, each within
 * 75 octets) separated by single spaces.
 */
void
encword_phrase(struct buf *out, const char *utf8)
{
	size_t len = strlen(utf8), take;
	const char *p;

	if (out->data == NULL)
		buf_add(out, "", 0);
	if (len == 0)
		return;
	if (encword_is_atoms(utf8)) {
		buf_add(out, utf8, len);
		return;
	}
	for (p = utf8; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			break;
	if (*p == '\0' && strstr(utf8, "=?") == NULL) {
		buf_addc(out, '"');
		for (p = utf8; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(out, '\\');
			buf_addc(out, *p);
		}
		buf_addc(out, '"');
		return;
	}
	for (p = utf8; len > 0; p += take, len -= take) {
		take = encword_take(p, len, ENCWORD_MAXDATA);
		if (take == 0)
			take = 1;
		if (p != utf8)
			buf_addc(out, ' ');
		buf_adds(out, ENCWORD_PREFIX);
		base64_encode(out, p, take, 0);
		buf_add(out, "?=", 2);
	}
}

/*
 * Parses "=?charset[*lang]?B|Q?text?=" at s[i].  Returns 1 and fills w,
 * or 0 if the octets there are not an encoded word.
 */
static int
encword_parse(const char *s, size_t n, size_t i, struct encword_word *w)
{
	size_t j = i + 2, star = 0;

	if (i + 2 > n || s[i] != '=' || s[i + 1] != '?')
		return 0;
	w->cs = j;
	for (; j < n && s[j] != '?'; j++) {
		if (s[j] <= 0x20 || s[j] >= 0x7f)
			return 0;
		if (s[j] == '*' && star == 0)
			star = j;
	}
	w->cslen = (star ? star : j) - w->cs;
	if (j + 3 > n || w->cslen == 0 || w->cslen > ENCWORD_CSMAX ||
	    s[j + 2] != '?')
		return 0;
	switch (s[j + 1]) {
	case 'B':
	case 'b':
		w->enc = 'B';
		break;
	case 'Q':
	case 'q':
		w->enc = 'Q';
		break;
	default:
		return 0;
	}
	j += 3;
	w->text = j;
	for (; j + 1 < n && !(s[j] == '?' && s[j + 1] == '='); j++)
		if (s[j] <= 0x20 || s[j] >= 0x7f || s[j] == '?')
			return 0;
	if (j + 1 >= n)
		return 0;
	w->textlen = j - w->text;
	w->end = j + 2;
	return 1;
}

/* Lenient base64: stray characters are skipped, padding may be missing. */
static void
encword_unb64(const char *s, size_t n, struct buf *out)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i;
	char c;

	for (i = 0; i < n && s[i] != '='; i++) {
		c = s[i];
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addc(out, (int)((acc >> bits) & 0xff));
			acc &= (1u << bits) - 1;
		}
	}
}

static int
encword_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 2047 Q: "_" is a space, "=XX" an octet; a stray "=" stays. */
static void
encword_unq(const char *s, size_t n, struct buf *out)
{
	size_t i;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			buf_addc(out, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
		    (h = encword_hex(s[i + 1])) >= 0 &&
		    (l = encword_hex(s[i + 2])) >= 0) {
			buf_addc(out, h << 4 | l);
			i += 2;
		} else
			buf_addc(out, s[i]);
	}
}

/* Appends text, turning NUL (which would cut a C string) into U+FFFD. */
static void
encword_put(struct buf *out, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '\0')
			continue;
		buf_add(out, s + start, i - start);
		buf_adds(out, TEXT_REPLACEMENT);
		start = i + 1;
	}
	buf_add(out, s + start, n - start);
}

/* Converts and appends the joined octets of pending encoded words. */
static void
encword_flush(struct encword_pend *p, struct buf *out, int *good, int *bad)
{
	struct buf u = BUF_INIT;

	if (!p->active)
		return;
	if (charset_to_utf8(p->cs, p->octets.data ? p->octets.data : "",
	    p->octets.len, &u) == 0)
		(*good)++;
	else
		(*bad)++;
	encword_put(out, u.data, u.len);
	buf_free(&u);
	buf_reset(&p->octets);
	p->active = 0;
}

/* Text outside encoded words: ASCII as is, 8-bit guessed. */
static void
encword_literal(const char *s, size_t n, struct buf *out, int *good)
{
	struct buf u = BUF_INIT;
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || s[i] == 0x1b)
			break;
	if (i == n) {
		encword_put(out, s, n);
	} else {
		(void)charset_guess_to_utf8(s, n, &u);
		encword_put(out, u.data, u.len);
		buf_free(&u);
	}
	if (!encword_all_space(s, n))
		(*good)++;
}

static int
encword_all_space(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/*
 * Decodes a raw header value, folded or not, into UTF-8.  Returns 0, or
 * -1 if encoded words were there and none of them could be read (out
 * still gets the best effort).
 */
int
encword_decode(const char *raw, struct buf *out)
{
	struct buf u = BUF_INIT;
	struct encword_pend p;
	struct encword_word w;
	size_t i, lit, n, a, b;
	int good = 0, bad = 0;

	if (out->data == NULL)
		buf_add(out, "", 0);
	if (raw == NULL)
		return -1;
	/* Unfold: CRLF (or LF) before white space is not part of the value. */
	for (i = 0; raw[i] != '\0'; i++)
		if (raw[i] != '\r' && raw[i] != '\n')
			buf_addc(&u, raw[i]);
	for (a = 0; a < u.len && (u.data[a] == ' ' || u.data[a] == '\t'); a++)
		;
	for (b = u.len; b > a && (u.data[b - 1] == ' ' ||
	    u.data[b - 1] == '\t'); b--)
		;
	memset(&p, 0, sizeof(p));
	buf_init(&p.octets);
	for (i = lit = a; i < b; ) {
		if (u.data[i] != '=' || !encword_parse(u.data, b, i, &w)) {
			i++;
			continue;
		}
		n = i - lit;
		if (!(p.active && encword_all_space(u.data + lit, n))) {
			encword_flush(&p, out, &good, &bad);
			encword_literal(u.data + lit, n, out, &good);
		}
		if (p.active && (strlen(p.cs) != w.cslen ||
		    strncasecmp(p.cs, u.data + w.cs, w.cslen) != 0))
			encword_flush(&p, out, &good, &bad);
		if (!p.active) {
			memcpy(p.cs, u.data + w.cs, w.cslen);
			p.cs[w.cslen] = '\0';
			p.active = 1;
		}
		if (w.enc == 'B')
			encword_unb64(u.data + w.text, w.textlen, &p.octets);
		else
			encword_unq(u.data + w.text, w.textlen, &p.octets);
		i = lit = w.end;
	}
	encword_flush(&p, out, &good, &bad);
	if (b > lit)
		encword_literal(u.data + lit, b - lit, out, &good);
	buf_free(&p.octets);
	buf_free(&u);
	return bad > 0 && good == 0 ? -1 : 0;
}
