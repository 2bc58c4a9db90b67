/*
 * charset_jis - the ISO-2022-JP family to and from UTF-8, for charset.c;
 * see charset_jis.h.
 *
 * This file owns the escape-sequence machinery of ISO-2022-JP and its
 * Windows flavours (CP50220/50221/50222) and the JIS <-> Shift_JIS
 * arithmetic.  glibc has no CP50220, so the escape states are tracked by
 * hand: each JIS X 0208 pair is moved arithmetically to its Shift_JIS
 * code and the run is converted from "CP932", whose tables hold NEC
 * row 13, the NEC-selected IBM extensions and half-width katakana.  The
 * rarer sets (JIS X 0212, JIS X 0213, GB 2312, KS C 5601 of
 * ISO-2022-JP-2/-3) go through their EUC forms.  Writing ISO-2022-JP is
 * the same road backwards, with IBM extension codes moved to their
 * NEC-selected twins (the codes a JIS pair can reach) and half-width
 * katakana widened, as CP50220 does.
 *
 * The iconv calls themselves go through charset.c's helpers, with
 * descriptors opened and closed within each call, so every function here
 * is thread-safe as well.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "charset_jis.h"
#include "text.h"

/* ISO-2022-JP decoding: the graphic sets an escape can designate. */
enum jis_set {
	JS_ASCII,	/* also JIS X 0201 Roman, read as ASCII as clients do */
	JS_KANA,	/* JIS X 0201 katakana */
	JS_X0208,
	JS_X0212,
	JS_X0213_1,
	JS_X0213_2,
	JS_GB2312,
	JS_KSC5601,
	JS_G1_KANA,	/* ESC ) I: what SO shifts to (CP50222) */
	JS_G2_LATIN1,	/* ESC . A, used by ESC N (ISO-2022-JP-2) */
	JS_G2_GREEK,	/* ESC . F */
	JS_NOP		/* ESC & @: announcer, nothing to do */
};

/* Converters the decoder batches its output for. */
enum jis_pend {
	JP_CP932,
	JP_EUCJP,
	JP_X0213,
	JP_GB,
	JP_KR,
	JP_GREEK,
	JP_COUNT,
	JP_NONE = JP_COUNT
};

struct jis_dec {
	struct buf	*out;
	struct buf	 pend;		/* octets waiting for iconv */
	enum jis_pend	 kind;		/* what pend holds */
	iconv_t		 cd[JP_COUNT];	/* opened when first needed */
	size_t		 nbad;
};

static size_t	charset_jis_escape(const unsigned char *, size_t, int *);
static void	charset_jis_pend(struct jis_dec *, enum jis_pend,
		    const unsigned char *, size_t);
static void	charset_jis_flush(struct jis_dec *);
static void	charset_jis_direct(struct jis_dec *, const char *, size_t);
static void	charset_jis_bad(struct jis_dec *);
static void	charset_jis_pair(struct jis_dec *, int, unsigned char,
		    unsigned char);
static uint32_t	charset_kana_widen(uint32_t, const char *, size_t,
		    size_t *);
static int	charset_sjis_of(iconv_t, uint32_t, unsigned *);
static unsigned	charset_ibm_to_nec(unsigned);
static void	charset_jis_to_sjis(unsigned, unsigned, unsigned char *);
static int	charset_sjis_to_jis(unsigned, unsigned char *);

static const struct {
	char	seq[4];		/* what follows ESC */
	int	set;
} charset_jis_escapes[] = {
	{ "(B",	JS_ASCII },	{ "(J",	JS_ASCII },	{ "(H",	JS_ASCII },
	{ "(I",	JS_KANA },	{ "$@",	JS_X0208 },	{ "$B",	JS_X0208 },
	{ "$(@", JS_X0208 },	{ "$(B", JS_X0208 },	{ "$(D", JS_X0212 },
	{ "$(O", JS_X0213_1 },	{ "$(Q", JS_X0213_1 },	{ "$(P", JS_X0213_2 },
	{ "$A",	JS_GB2312 },	{ "$(A", JS_GB2312 },	{ "$(C", JS_KSC5601 },
	{ ")I",	JS_G1_KANA },	{ ".A",	JS_G2_LATIN1 },	{ ".F",	JS_G2_GREEK },
	{ "&@",	JS_NOP },
};

static const struct {
	const char	*iconv;
	size_t		(*skip)(const unsigned char *, size_t);
} charset_jis_conv[JP_COUNT] = {
	[JP_CP932] =	{ "CP932",		charset_skip_cp932 },
	[JP_EUCJP] =	{ "EUC-JP",		charset_skip_euc },
	[JP_X0213] =	{ "EUC-JISX0213",	charset_skip_euc },
	[JP_GB] =	{ "EUC-CN",		charset_skip_euc },
	[JP_KR] =	{ "EUC-KR",		charset_skip_euc },
	[JP_GREEK] =	{ "ISO-8859-7",		charset_skip_one },
};

/*
 * CP932 holds the IBM extensions twice: at FA40..FC4B and (mostly) as
 * "NEC-selected" codes at ED40..EEFC, or in NEC row 13 / JIS row 2.
 * iconv writes the FAxx codes, which no JIS pair can reach; these runs
 * (generated from the CP932 table, counting codes in the order Shift_JIS
 * enumerates them) move each to the twin that CP50220 writes.
 */
static const struct {
	uint16_t	ibm;
	uint16_t	nec;
	uint16_t	count;
} charset_ibm_nec[] = {
	{ 0xfa40, 0xeeef, 10 },	/* small roman numerals */
	{ 0xfa4a, 0x8754, 10 },	/* roman numerals (NEC row 13) */
	{ 0xfa54, 0x81ca, 1 },	/* not sign */
	{ 0xfa55, 0xeefa, 3 },
	{ 0xfa58, 0x878a, 1 },	/* (kabu) */
	{ 0xfa59, 0x8782, 1 },	/* numero */
	{ 0xfa5a, 0x8784, 1 },	/* telephone sign */
	{ 0xfa5b, 0x81e6, 1 },	/* because */
	{ 0xfa5c, 0xed40, 360 },	/* kanji */
};

/* Half-width katakana U+FF61..U+FF9F and their full-width forms. */
static const uint16_t charset_kana_full[] = {
	0x3002, 0x300c, 0x300d, 0x3001, 0x30fb, 0x30f2, 0x30a1, 0x30a3,
	0x30a5, 0x30a7, 0x30a9, 0x30e3, 0x30e5, 0x30e7, 0x30c3, 0x30fc,
	0x30a2, 0x30a4, 0x30a6, 0x30a8, 0x30aa, 0x30ab, 0x30ad, 0x30af,
	0x30b1, 0x30b3, 0x30b5, 0x30b7, 0x30b9, 0x30bb, 0x30bd, 0x30bf,
	0x30c1, 0x30c4, 0x30c6, 0x30c8, 0x30ca, 0x30cb, 0x30cc, 0x30cd,
	0x30ce, 0x30cf, 0x30d2, 0x30d5, 0x30d8, 0x30db, 0x30de, 0x30df,
	0x30e0, 0x30e1, 0x30e2, 0x30e4, 0x30e6, 0x30e8, 0x30e9, 0x30ea,
	0x30eb, 0x30ec, 0x30ed, 0x30ef, 0x30f3, 0x309b, 0x309c,
};

/* 1 if the text holds an ISO-2022 escape or shift (unlabelled JIS). */
int
charset_has_escape(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (in[i] == 0x1b || in[i] == 0x0e)
			return 1;
	return 0;
}

/*
 * Decodes the ISO-2022-JP family as Japanese clients write it: the
 * RFC 1468 sets, CP50220/50221/50222 (NEC and IBM characters through
 * CP932; half-width katakana by ESC ( I, by SO/SI or as 8-bit octets),
 * and the extra sets of ISO-2022-JP-1/-2/-3/-2004.  8-bit octets that
 * form UTF-8 are taken as UTF-8, since a label of ISO-2022-JP on UTF-8
 * text is a common client mistake; 8-bit text without any escape is
 * guessed as a whole.
 */
void
charset_jis_decode(const char *in, size_t len, struct buf *out,
    size_t *nbad)
{
	const unsigned char *u = (const unsigned char *)in;
	struct jis_dec d;
	int g0 = JS_ASCII, g2 = JS_NOP, shifted = 0, set, j;
	unsigned char c, b;
	size_t i = 0, n;

	if (!charset_has_escape(in, len)) {
		for (i = 0; i < len; i++)
			if (u[i] >= 0x80)
				break;
		if (i < len) {
			charset_guess(in, len, out, nbad);
			return;
		}
		i = 0;
	}
	memset(&d, 0, sizeof(d));
	d.out = out;
	d.kind = JP_NONE;
	for (j = 0; j < JP_COUNT; j++)
		d.cd[j] = ICONV_NONE;

	while (i < len) {
		c = u[i];
		if (c == 0x1b && i + 2 < len && u[i + 1] == 'N') {
			/* Single shift: one G2 character. */
			b = u[i + 2] | 0x80;
			if (g2 == JS_G2_LATIN1 && b >= 0xa0) {
				charset_jis_flush(&d);
				text_utf8_put(out, b);
			} else if (g2 == JS_G2_GREEK && b >= 0xa0)
				charset_jis_pend(&d, JP_GREEK, &b, 1);
			else
				charset_jis_bad(&d);
			i += 3;
			continue;
		}
		if (c == 0x1b) {
			n = charset_jis_escape(u + i + 1, len - i - 1, &set);
			if (n == 0) {
				charset_jis_bad(&d);
				i++;
				continue;
			}
			i += 1 + n;
			if (set == JS_G2_LATIN1 || set == JS_G2_GREEK)
				g2 = set;
			else if (set != JS_G1_KANA && set != JS_NOP)
				g0 = set;
			continue;
		}
		if (c == 0x0e || c == 0x0f) {
			shifted = c == 0x0e;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if ((n = text_utf8_char(in + i, len - i, NULL)) > 1) {
				charset_jis_direct(&d, in + i, n);
				i += n;
			} else if (c >= 0xa1 && c <= 0xdf) {
				/* 8-bit JIS katakana, as CP50222 allows. */
				charset_jis_pend(&d, JP_CP932, &c, 1);
				i++;
			} else {
				charset_jis_bad(&d);
				i++;
			}
			continue;
		}
		/* Controls and space mean themselves in every set. */
		set = shifted ? JS_KANA : g0;
		if (c <= 0x20 || c == 0x7f || set == JS_ASCII) {
			charset_jis_pend(&d, JP_CP932, &c, 1);
			i++;
			continue;
		}
		if (set == JS_KANA) {
			b = c + 0x80;
			if (c <= 0x5f)
				charset_jis_pend(&d, JP_CP932, &b, 1);
			else
				charset_jis_bad(&d);
			i++;
			continue;
		}
		if (i + 1 >= len || u[i + 1] < 0x21 || u[i + 1] > 0x7e) {
			charset_jis_bad(&d);
			i++;
			continue;
		}
		charset_jis_pair(&d, set, c, u[i + 1]);
		i += 2;
	}
	charset_jis_flush(&d);
	for (j = 0; j < JP_COUNT; j++)
		if (d.cd[j] != ICONV_NONE)
			iconv_close(d.cd[j]);
	buf_free(&d.pend);
	*nbad += d.nbad;
}

/*
 * Recognizes the escape sequence whose body (what follows ESC) starts at
 * p.  Returns the body's length and stores what it designates in *set,
 * or returns 0 for an unknown sequence.
 */
static size_t
charset_jis_escape(const unsigned char *p, size_t len, int *set)
{
	size_t i, n;

	for (i = 0; i < sizeof(charset_jis_escapes) /
	    sizeof(charset_jis_escapes[0]); i++) {
		n = strlen(charset_jis_escapes[i].seq);
		if (n <= len && memcmp(p, charset_jis_escapes[i].seq, n) == 0) {
			*set = charset_jis_escapes[i].set;
			return n;
		}
	}
	return 0;
}

/* Queues octets for the converter kind, flushing another kind first. */
static void
charset_jis_pend(struct jis_dec *d, enum jis_pend kind,
    const unsigned char *p, size_t n)
{
	if (d->kind != kind)
		charset_jis_flush(d);
	d->kind = kind;
	buf_add(&d->pend, p, n);
}

static void
charset_jis_flush(struct jis_dec *d)
{
	struct charset_conv cv;
	enum jis_pend k = d->kind;

	if (k == JP_NONE || d->pend.len == 0)
		goto done;
	if (d->cd[k] == ICONV_NONE && charset_iconv_open(&d->cd[k], "UTF-8",
	    charset_jis_conv[k].iconv) == -1) {
		/* Cannot happen with glibc; still, say something was lost. */
		buf_adds(d->out, TEXT_REPLACEMENT);
		d->nbad++;
		goto done;
	}
	cv.cd = d->cd[k];
	cv.alt = ICONV_NONE;
	cv.skip = charset_jis_conv[k].skip;
	cv.repl = TEXT_REPLACEMENT;
	charset_iconv_run(&cv, d->pend.data, d->pend.len, d->out, &d->nbad);
done:
	buf_reset(&d->pend);
	d->kind = JP_NONE;
}

static void
charset_jis_direct(struct jis_dec *d, const char *p, size_t n)
{
	charset_jis_flush(d);
	buf_add(d->out, p, n);
}

static void
charset_jis_bad(struct jis_dec *d)
{
	charset_jis_flush(d);
	buf_adds(d->out, TEXT_REPLACEMENT);
	d->nbad++;
}

/* One two-octet character (both 0x21..0x7E) of a double-byte set. */
static void
charset_jis_pair(struct jis_dec *d, int set, unsigned char j1,
    unsigned char j2)
{
	unsigned char b[3];

	switch (set) {
	case JS_X0208:
		charset_jis_to_sjis(j1, j2, b);
		charset_jis_pend(d, JP_CP932, b, 2);
		return;
	case JS_X0212:
	case JS_X0213_2:
		b[0] = 0x8f;
		b[1] = j1 | 0x80;
		b[2] = j2 | 0x80;
		charset_jis_pend(d, set == JS_X0212 ? JP_EUCJP : JP_X0213,
		    b, 3);
		return;
	default:
		b[0] = j1 | 0x80;
		b[1] = j2 | 0x80;
		charset_jis_pend(d, set == JS_X0213_1 ? JP_X0213 :
		    set == JS_GB2312 ? JP_GB : JP_KR, b, 2);
		return;
	}
}

/*
 * JIS X 0208 row/cell pair to Shift_JIS: two rows share one lead byte,
 * odd rows take trail bytes 0x40..0x9E (skipping 0x7F), even rows
 * 0x9F..0xFC.  Rows 89..92 (NEC-selected IBM extensions) and row 13
 * come out as CP932 has them.
 */
static void
charset_jis_to_sjis(unsigned j1, unsigned j2, unsigned char *s)
{
	unsigned s1 = ((j1 - 0x21) >> 1) + 0x81, s2;

	if (s1 > 0x9f)
		s1 += 0x40;
	if (j1 & 1) {
		s2 = j2 + 0x1f;
		if (s2 >= 0x7f)
			s2++;
	} else
		s2 = j2 + 0x7e;
	s[0] = (unsigned char)s1;
	s[1] = (unsigned char)s2;
}

/* The reverse; -1 for codes beyond row 94 (user-defined, IBM). */
static int
charset_sjis_to_jis(unsigned code, unsigned char *j)
{
	unsigned s1 = code >> 8, s2 = code & 0xff, j1, j2;

	if (s1 >= 0xe0 && s1 <= 0xef)
		s1 -= 0x40;
	else if (s1 < 0x81 || s1 > 0x9f)
		return -1;
	if (s2 < 0x40 || s2 == 0x7f || s2 > 0xfc)
		return -1;
	j1 = (s1 - 0x81) * 2 + 0x21;
	if (s2 >= 0x9f) {
		j1++;
		j2 = s2 - 0x7e;
	} else {
		j2 = s2 - 0x1f;
		if (s2 >= 0x80)
			j2--;
	}
	j[0] = (unsigned char)j1;
	j[1] = (unsigned char)j2;
	return 0;
}

/* Position of a Shift_JIS code in the order the codes are enumerated. */
#define SJIS_INDEX(c)	(((c) >> 8) * 188 + ((c) & 0xff) - 0x40 - \
			    (((c) & 0xff) > 0x7f))

static unsigned
charset_ibm_to_nec(unsigned code)
{
	unsigned i, d, x;

	for (i = 0; i < sizeof(charset_ibm_nec) / sizeof(charset_ibm_nec[0]);
	    i++) {
		if (code < charset_ibm_nec[i].ibm)
			continue;
		d = SJIS_INDEX(code) - SJIS_INDEX(charset_ibm_nec[i].ibm);
		if (d >= charset_ibm_nec[i].count)
			continue;
		x = SJIS_INDEX(charset_ibm_nec[i].nec) + d;
		return (x / 188) << 8 | ((x % 188) + 0x40 + (x % 188 >= 0x3f));
	}
	return code;
}

/* The CP932 code of cp, if it has a two-octet one. */
static int
charset_sjis_of(iconv_t cd, uint32_t cp, unsigned *code)
{
	struct buf u = BUF_INIT;
	char sj[8], *ip, *op = sj;
	size_t il, ol = sizeof(sj);
	int rc = -1;

	text_utf8_put(&u, cp);
	ip = u.data;
	il = u.len;
	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0 &&
	    op - sj == 2) {
		*code = (unsigned char)sj[0] << 8 | (unsigned char)sj[1];
		rc = 0;
	}
	buf_free(&u);
	return rc;
}

/*
 * Widens half-width katakana cp (U+FF61..U+FF9F) as CP50220 does,
 * combining a following (han)dakuten mark: ｶﾞ becomes ガ.  *used grows by
 * the octets of a mark taken from next.
 */
static uint32_t
charset_kana_widen(uint32_t cp, const char *next, size_t len, size_t *used)
{
	uint32_t w = charset_kana_full[cp - 0xff61], mark;
	size_t n = text_utf8_char(next, len, &mark);

	if (n == 0 || (mark != 0xff9e && mark != 0xff9f))
		return w;
	if (mark == 0xff9e && w == 0x30a6) {		/* ウ -> ヴ */
		*used += n;
		return 0x30f4;
	}
	if (w >= 0x30cf && w <= 0x30db && (w - 0x30cf) % 3 == 0) {
		*used += n;				/* ハ行 */
		return w + (mark == 0xff9e ? 1 : 2);
	}
	if (mark == 0xff9e && ((w >= 0x30ab && w <= 0x30c1 && w % 2 == 1) ||
	    w == 0x30c4 || w == 0x30c6 || w == 0x30c8)) {
		*used += n;				/* カ..ト */
		return w + 1;
	}
	return w;
}

/*
 * Writes UTF-8 as ISO-2022-JP (CP50220 flavour): ASCII between
 * ESC ( B, everything else as JIS X 0208 pairs between ESC $ B, back to
 * ASCII before every control character so each line ends in ASCII.
 */
int
charset_jis_encode(const char *in, size_t len, struct buf *out)
{
	iconv_t cd;
	size_t i = 0, n;
	uint32_t cp;
	unsigned code;
	unsigned char j[2];
	int kanji = 0, rc = 0;

	if (charset_iconv_open(&cd, "CP932", "UTF-8") == -1)
		return -1;
	while (i < len) {
		n = text_utf8_char(in + i, len - i, &cp);
		if (n == 0) {
			cp = '?';
			n = 1;
			rc = -1;
		}
		i += n;
		if (cp >= 0xff61 && cp <= 0xff9f)
			cp = charset_kana_widen(cp, in + i, len - i, &i);
		else if (cp == 0xa5)
			cp = 0xffe5;	/* YEN SIGN: JIS X 0201's, not 0208's */
		else if (cp == 0x203e)
			cp = 0xffe3;	/* OVERLINE: likewise */
		if (cp >= 0x80 && charset_sjis_of(cd, cp, &code) == 0 &&
		    charset_sjis_to_jis(charset_ibm_to_nec(code), j) == 0) {
			if (!kanji)
				buf_add(out, "\033$B", 3);
			kanji = 1;
			buf_add(out, j, 2);
			continue;
		}
		if (cp >= 0x80) {
			cp = '?';
			rc = -1;
		}
		if (kanji)
			buf_add(out, "\033(B", 3);
		kanji = 0;
		buf_addc(out, (int)cp);
	}
	if (kanji)
		buf_add(out, "\033(B", 3);
	iconv_close(cd);
	return rc;
}
