/*
 * charset - mail charsets to and from UTF-8; see charset.h.
 *
 * This file owns the public entry points, the table of charset labels,
 * every conversion done through iconv, the guessing of unlabelled text
 * and the libetpan hook.  The ISO-2022-JP family has a file of its own,
 * charset_jis.c (shared names in charset_jis.h).
 *
 * Three paths:
 *
 * - The ISO-2022-JP family is decoded and encoded by charset_jis.c:
 *   glibc has no CP50220, so the escape states are tracked by hand there
 *   and the table work is left to iconv's CP932 through this file's
 *   helpers.
 *
 * - Everything else goes through iconv under an alias table (Shift_JIS
 *   and friends read as CP932, EUC-JP as EUC-JP-MS with EUC-JP behind it,
 *   GB2312 as GBK: the supersets real senders use).
 *
 * - Unlabelled 8-bit text (and "us-ascii" that is not) is guessed: UTF-8
 *   if valid, else CP932 or EUC-JP, whichever reads without errors and
 *   with fewer half-width katakana and private-use characters (what the
 *   wrong one of the two produces).
 *
 * Nothing is dropped silently: an octet that cannot be read becomes
 * U+FFFD, a character that cannot be written becomes "?".  iconv
 * descriptors are opened and closed within each call (glibc caches the
 * tables, so this is cheap), which keeps every function thread-safe.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libetpan/charconv.h>

#include "buf.h"
#include "charset.h"
#include "charset_jis.h"
#include "text.h"

#define CHARSET_NAMEMAX	64

enum charset_kind {
	CK_ASCII,	/* us-ascii: 8-bit content is guessed */
	CK_UTF8,
	CK_JIS,		/* the ISO-2022-JP family: charset_jis.c */
	CK_CP932,
	CK_EUCJP,
	CK_GUESS,	/* "unknown-8bit" and the like */
	CK_ICONV	/* anything else, by name */
};

struct charset_alias {
	const char		*name;
	enum charset_kind	 kind;
	const char		*iconv;	/* CK_ICONV: name to give iconv */
};

static int	charset_lookup(const char *, enum charset_kind *, char *,
		    size_t);
static int	charset_decode(const char *, const char *, size_t,
		    struct buf *, size_t *);
static void	charset_utf8_copy(const char *, size_t, struct buf *,
		    size_t *, const char *);
static int	charset_iconv_one(iconv_t, const char *, size_t,
		    struct buf *);
static int	charset_iconv_by_name(const char *, const char *,
		    const char *, const char *, size_t, struct buf *,
		    size_t *, size_t (*)(const unsigned char *, size_t),
		    const char *);
static size_t	charset_skip_utf8(const unsigned char *, size_t);
static size_t	charset_oddities(const char *, size_t);
static int	charset_all_replaced(const char *, size_t);
static void	charset_utf8_fix(struct buf *, size_t, size_t *);
static int	charset_etpan_conv(const char *, const char *, const char *,
		    size_t, char *, size_t *);

static const struct charset_alias charset_aliases[] = {
	{ "us-ascii",		CK_ASCII,	NULL },
	{ "ascii",		CK_ASCII,	NULL },
	{ "ansi_x3.4-1968",	CK_ASCII,	NULL },
	{ "iso646-us",		CK_ASCII,	NULL },
	{ "us",			CK_ASCII,	NULL },
	{ "utf-8",		CK_UTF8,	NULL },
	{ "utf8",		CK_UTF8,	NULL },
	{ "iso-2022-jp",	CK_JIS,		NULL },
	{ "iso-2022-jp-1",	CK_JIS,		NULL },
	{ "iso-2022-jp-2",	CK_JIS,		NULL },
	{ "iso-2022-jp-3",	CK_JIS,		NULL },
	{ "iso-2022-jp-2004",	CK_JIS,		NULL },
	{ "iso-2022-jp-ms",	CK_JIS,		NULL },
	{ "iso2022jp",		CK_JIS,		NULL },
	{ "csiso2022jp",	CK_JIS,		NULL },
	{ "csiso2022jp2",	CK_JIS,		NULL },
	{ "cp50220",		CK_JIS,		NULL },
	{ "cp50221",		CK_JIS,		NULL },
	{ "cp50222",		CK_JIS,		NULL },
	{ "x-windows-iso2022jp", CK_JIS,	NULL },
	{ "jis",		CK_JIS,		NULL },
	{ "shift_jis",		CK_CP932,	NULL },
	{ "shift-jis",		CK_CP932,	NULL },
	{ "sjis",		CK_CP932,	NULL },
	{ "x-sjis",		CK_CP932,	NULL },
	{ "ms_kanji",		CK_CP932,	NULL },
	{ "csshiftjis",		CK_CP932,	NULL },
	{ "windows-31j",	CK_CP932,	NULL },
	{ "cswindows31j",	CK_CP932,	NULL },
	{ "cp932",		CK_CP932,	NULL },
	{ "ms932",		CK_CP932,	NULL },
	{ "x-ms-cp932",		CK_CP932,	NULL },
	{ "euc-jp",		CK_EUCJP,	NULL },
	{ "eucjp",		CK_EUCJP,	NULL },
	{ "x-euc-jp",		CK_EUCJP,	NULL },
	{ "cseucpkdfmtjapanese", CK_EUCJP,	NULL },
	{ "euc-jp-ms",		CK_EUCJP,	NULL },
	{ "eucjp-ms",		CK_EUCJP,	NULL },
	{ "eucjp-win",		CK_EUCJP,	NULL },
	{ "cp51932",		CK_EUCJP,	NULL },
	{ "unknown-8bit",	CK_GUESS,	NULL },
	{ "x-unknown",		CK_GUESS,	NULL },
	{ "unknown",		CK_GUESS,	NULL },
	/* Labels whose senders really use a superset. */
	{ "gb2312",		CK_ICONV,	"GBK" },
	{ "gb_2312-80",		CK_ICONV,	"GBK" },
	{ "ks_c_5601-1987",	CK_ICONV,	"CP949" },
	{ "iso-8859-8-i",	CK_ICONV,	"ISO-8859-8" },
	{ "iso-8859-8-e",	CK_ICONV,	"ISO-8859-8" },
};

/*
 * Finds what a charset label means.  Surrounding blanks and quotes are
 * ignored (some clients write charset="\"iso-2022-jp\"" one level too
 * deep).  For CK_ICONV, ic receives the name to give iconv.  Returns -1
 * for a label no real charset has.
 */
static int
charset_lookup(const char *name, enum charset_kind *kind, char *ic,
    size_t icsz)
{
	char n[CHARSET_NAMEMAX];
	size_t len, i;

	if (name == NULL)
		name = "us-ascii";
	while (*name == ' ' || *name == '\t' || *name == '"')
		name++;
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t' ||
	    name[len - 1] == '"'))
		len--;
	if (len == 0) {
		*kind = CK_ASCII;
		return 0;
	}
	if (len >= sizeof(n) || len >= icsz)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* iconv would take "UTF-8//IGNORE" as an option; refuse. */
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',')
			return -1;
	}
	memcpy(n, name, len);
	n[len] = '\0';
	for (i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]);
	    i++) {
		if (strcasecmp(n, charset_aliases[i].name) != 0)
			continue;
		*kind = charset_aliases[i].kind;
		if (charset_aliases[i].iconv)
			snprintf(ic, icsz, "%s", charset_aliases[i].iconv);
		else
			memcpy(ic, n, len + 1);
		return 0;
	}
	*kind = CK_ICONV;
	memcpy(ic, n, len + 1);
	return 0;
}

/*
 * The one decoding switch.  Appends the UTF-8 text and counts replaced
 * pieces in *nbad.  Returns -1, having appended nothing, only for a
 * charset it does not know.
 */
static int
charset_decode(const char *charset, const char *in, size_t len,
    struct buf *out, size_t *nbad)
{
	enum charset_kind kind;
	char ic[CHARSET_NAMEMAX];
	size_t i;

	if (charset_lookup(charset, &kind, ic, sizeof(ic)) == -1)
		return -1;
	switch (kind) {
	case CK_ASCII:
		for (i = 0; i < len; i++)
			if ((unsigned char)in[i] >= 0x80)
				break;
		if (i == len)
			buf_add(out, in, len);
		else
			charset_guess(in, len, out, nbad);
		return 0;
	case CK_UTF8:
		charset_utf8_copy(in, len, out, nbad, TEXT_REPLACEMENT);
		return 0;
	case CK_JIS:
		charset_jis_decode(in, len, out, nbad);
		return 0;
	case CK_CP932:
		return charset_iconv_by_name("UTF-8", "CP932", NULL, in, len,
		    out, nbad, charset_skip_cp932, TEXT_REPLACEMENT);
	case CK_EUCJP:
		return charset_iconv_by_name("UTF-8", "EUC-JP-MS", "EUC-JP",
		    in, len, out, nbad, charset_skip_euc, TEXT_REPLACEMENT);
	case CK_GUESS:
		charset_guess(in, len, out, nbad);
		return 0;
	case CK_ICONV:
		break;
	}
	return charset_iconv_by_name("UTF-8", ic, NULL, in, len, out, nbad,
	    charset_skip_one, TEXT_REPLACEMENT);
}

/* Copies the valid UTF-8 of in, writing repl for each invalid octet. */
static void
charset_utf8_copy(const char *in, size_t len, struct buf *out,
    size_t *nbad, const char *repl)
{
	size_t i = 0, start, n;

	while (i < len) {
		start = i;
		while (i < len && (n = text_utf8_char(in + i, len - i,
		    NULL)) > 0)
			i += n;
		buf_add(out, in + start, i - start);
		if (i < len) {
			buf_adds(out, repl);
			(*nbad)++;
			i++;
		}
	}
}

int
charset_iconv_open(iconv_t *cd, const char *to, const char *from)
{
	*cd = iconv_open(to, from);
	return *cd == ICONV_NONE ? -1 : 0;
}

/*
 * Converts all of in with cv->cd.  Where cd stops (EILSEQ, or EINVAL for
 * a sequence cut short at the end), cv->skip says how many octets form
 * the unit it choked on; that unit goes to cv->alt if there is one, else
 * becomes cv->repl, and the conversion goes on after it.
 */
void
charset_iconv_run(const struct charset_conv *cv, const char *in,
    size_t len, struct buf *out, size_t *nbad)
{
	char tmp[1024], *ip = (char *)(uintptr_t)in, *op;
	size_t il = len, ol, r, n;
	int err;

	iconv(cv->cd, NULL, NULL, NULL, NULL);
	while (il > 0) {
		op = tmp;
		ol = sizeof(tmp);
		r = iconv(cv->cd, &ip, &il, &op, &ol);
		err = errno;
		buf_add(out, tmp, (size_t)(op - tmp));
		if (r != (size_t)-1 || err == E2BIG)
			continue;
		n = cv->skip((const unsigned char *)ip, il);
		if (cv->alt == ICONV_NONE ||
		    charset_iconv_one(cv->alt, ip, n, out) == -1) {
			buf_adds(out, cv->repl);
			(*nbad)++;
		}
		ip += n;
		il -= n;
	}
	op = tmp;
	ol = sizeof(tmp);
	iconv(cv->cd, NULL, NULL, &op, &ol);
	buf_add(out, tmp, (size_t)(op - tmp));
}

/* Converts exactly in[0..len) with cd, or appends nothing and fails. */
static int
charset_iconv_one(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char tmp[64], *ip = (char *)(uintptr_t)in, *op = tmp;
	size_t il = len, ol = sizeof(tmp);

	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return -1;
	iconv(cd, NULL, NULL, &op, &ol);
	buf_add(out, tmp, (size_t)(op - tmp));
	return 0;
}

/*
 * Opens from -> to and runs the conversion.  alt, if not NULL, names a
 * second charset for the side that is not UTF-8, tried on each unit the
 * first rejects.  Returns -1 if iconv does not know the charsets.
 */
static int
charset_iconv_by_name(const char *to, const char *from, const char *alt,
    const char *in, size_t len, struct buf *out, size_t *nbad,
    size_t (*skip)(const unsigned char *, size_t), const char *repl)
{
	struct charset_conv cv;

	if (charset_iconv_open(&cv.cd, to, from) == -1)
		return -1;
	cv.alt = ICONV_NONE;
	if (alt && strcasecmp(to, "UTF-8") == 0)
		(void)charset_iconv_open(&cv.alt, to, alt);
	else if (alt)
		(void)charset_iconv_open(&cv.alt, alt, from);
	cv.skip = skip;
	cv.repl = repl;
	charset_iconv_run(&cv, in, len, out, nbad);
	iconv_close(cv.cd);
	if (cv.alt != ICONV_NONE)
		iconv_close(cv.alt);
	return 0;
}

size_t
charset_skip_one(const unsigned char *p, size_t n)
{
	(void)p;
	(void)n;
	return 1;
}

/* A lead byte with a plausible trail byte is one unit: skip both. */
size_t
charset_skip_cp932(const unsigned char *p, size_t n)
{
	if (n >= 2 && ((p[0] >= 0x81 && p[0] <= 0x9f) ||
	    (p[0] >= 0xe0 && p[0] <= 0xfc)) &&
	    p[1] >= 0x40 && p[1] <= 0xfc && p[1] != 0x7f)
		return 2;
	return 1;
}

size_t
charset_skip_euc(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0x8f && p[1] >= 0xa1 && p[1] <= 0xfe &&
	    p[2] >= 0xa1 && p[2] <= 0xfe)
		return 3;
	if (n >= 2 && (p[0] == 0x8e || (p[0] >= 0xa1 && p[0] <= 0xfe)) &&
	    p[1] >= 0xa1 && p[1] <= 0xfe)
		return 2;
	return 1;
}

/* A valid but unrepresentable character is skipped whole. */
static size_t
charset_skip_utf8(const unsigned char *p, size_t n)
{
	size_t k = text_utf8_char((const char *)p, n, NULL);

	return k ? k : 1;
}

/*
 * Reads 8-bit text whose label is missing or wrong: ISO-2022-JP if it
 * has escapes, UTF-8 if valid, else the better of CP932 and EUC-JP.
 * Both of those accept much of the other's text (EUC-JP kana read as
 * CP932 are half-width katakana and user-defined characters), so of two
 * clean readings the one with fewer such oddities wins, CP932 on a tie.
 * If neither is clean, the reading with fewest replacements is taken.
 */
void
charset_guess(const char *in, size_t len, struct buf *out, size_t *nbad)
{
	struct buf sj = BUF_INIT, eu = BUF_INIT, u8 = BUF_INIT, *pick;
	size_t bsj = 0, beu = 0, bu8 = 0, bad;

	if (charset_has_escape(in, len)) {
		charset_jis_decode(in, len, out, nbad);
		return;
	}
	if (text_utf8_valid(in, len)) {
		buf_add(out, in, len);
		return;
	}
	(void)charset_iconv_by_name("UTF-8", "CP932", NULL, in, len, &sj,
	    &bsj, charset_skip_cp932, TEXT_REPLACEMENT);
	(void)charset_iconv_by_name("UTF-8", "EUC-JP-MS", "EUC-JP", in, len,
	    &eu, &beu, charset_skip_euc, TEXT_REPLACEMENT);
	if (bsj == 0 && (beu > 0 || charset_oddities(sj.data, sj.len) <=
	    charset_oddities(eu.data, eu.len))) {
		pick = &sj;
		bad = bsj;
	} else if (beu == 0) {
		pick = &eu;
		bad = beu;
	} else {
		charset_utf8_copy(in, len, &u8, &bu8, TEXT_REPLACEMENT);
		pick = &sj;
		bad = bsj;
		if (beu < bad) {
			pick = &eu;
			bad = beu;
		}
		if (bu8 < bad) {
			pick = &u8;
			bad = bu8;
		}
	}
	buf_add(out, pick->data, pick->len);
	*nbad += bad;
	buf_free(&sj);
	buf_free(&eu);
	buf_free(&u8);
}

/* Counts half-width katakana and private-use characters in UTF-8 s. */
static size_t
charset_oddities(const char *s, size_t len)
{
	size_t i = 0, n, count = 0;
	uint32_t cp;

	while (i < len) {
		if ((n = text_utf8_char(s + i, len - i, &cp)) == 0) {
			i++;
			continue;
		}
		if ((cp >= 0xff61 && cp <= 0xff9f) ||
		    (cp >= 0xe000 && cp <= 0xf8ff))
			count++;
		i += n;
	}
	return count;
}

/* 1 if UTF-8 s holds nothing but U+FFFD characters. */
static int
charset_all_replaced(const char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = text_utf8_char(s + i, len - i, &cp)) == 0 ||
		    cp != 0xfffd)
			return 0;
		i += n;
	}
	return 1;
}

/*
 * Appends the UTF-8 conversion of in[0..len) in charset.  Returns 0, or
 * -1 if the charset is unknown or nothing of a non-empty input could be
 * read; out always gets the best effort (unknown charsets are guessed),
 * with U+FFFD for each piece that could not be read.
 */
int
charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out)
{
	return charset_to_utf8_ex(charset, in, len, out, NULL);
}

/*
 * Makes what was appended to out since start valid UTF-8.  iconv modules
 * do not all check what they write: glibc folds a label such as "ut]f-8"
 * to its UTF-8 module, which passes code points beyond U+10FFFF through
 * (found by tests/fuzz/fuzz_encword).  Everything after this module
 * takes its output for UTF-8, so each bad octet becomes U+FFFD here.
 */
static void
charset_utf8_fix(struct buf *out, size_t start, size_t *nbad)
{
	struct buf tmp = BUF_INIT;

	if (out->data == NULL ||
	    text_utf8_valid(out->data + start, out->len - start))
		return;
	buf_add(&tmp, out->data + start, out->len - start);
	out->len = start;
	out->data[start] = '\0';
	charset_utf8_copy(tmp.data, tmp.len, out, nbad, TEXT_REPLACEMENT);
	buf_free(&tmp);
}

/* As charset_to_utf8, also counting the U+FFFD it wrote in *nbad. */
int
charset_to_utf8_ex(const char *charset, const char *in, size_t len,
    struct buf *out, size_t *nbad)
{
	size_t bad = 0, start = out->len;
	int rc = 0;

	if (charset_decode(charset, in, len, out, &bad) == -1) {
		charset_guess(in, len, out, &bad);
		rc = -1;
	} else {
		charset_utf8_fix(out, start, &bad);
		if (bad > 0 && charset_all_replaced(out->data + start,
		    out->len - start))
			rc = -1;
	}
	if (nbad)
		*nbad = bad;
	if (out->data == NULL)
		buf_add(out, "", 0);	/* callers may take buf_cstr */
	return rc;
}

/*
 * Appends unlabelled 8-bit text as UTF-8 (see charset_guess).  Returns
 * 0 if it read cleanly, -1 if something had to be replaced by U+FFFD.
 */
int
charset_guess_to_utf8(const char *in, size_t len, struct buf *out)
{
	size_t bad = 0;

	charset_guess(in, len, out, &bad);
	if (out->data == NULL)
		buf_add(out, "", 0);
	return bad ? -1 : 0;
}

/*
 * Appends UTF-8 text converted to charset.  Returns -1 if a character
 * cannot be represented ("?" is written in its place) or the charset is
 * unknown (nothing is written); 0 otherwise.
 */
int
charset_from_utf8(const char *charset, const char *in, size_t len,
    struct buf *out)
{
	enum charset_kind kind;
	char ic[CHARSET_NAMEMAX];
	size_t bad = 0, i;
	const char *from = NULL, *alt = NULL;

	if (out->data == NULL)
		buf_add(out, "", 0);
	if (charset_lookup(charset, &kind, ic, sizeof(ic)) == -1)
		return -1;
	switch (kind) {
	case CK_UTF8:
	case CK_GUESS:
		charset_utf8_copy(in, len, out, &bad, "?");
		return bad ? -1 : 0;
	case CK_ASCII:
		for (i = 0; i < len; i++) {
			if ((unsigned char)in[i] < 0x80) {
				buf_addc(out, in[i]);
				continue;
			}
			buf_addc(out, '?');
			bad++;
			i += charset_skip_utf8((const unsigned char *)in + i,
			    len - i) - 1;
		}
		return bad ? -1 : 0;
	case CK_JIS:
		return charset_jis_encode(in, len, out);
	case CK_CP932:
		from = "CP932";
		break;
	case CK_EUCJP:
		from = "EUC-JP";
		alt = "EUC-JP-MS";	/* NEC row 13 and IBM characters */
		break;
	case CK_ICONV:
		from = ic;
		break;
	}
	if (charset_iconv_by_name(from, "UTF-8", alt, in, len, out, &bad,
	    charset_skip_utf8, "?") == -1)
		return -1;
	return bad ? -1 : 0;
}

/* 1 if charset_to_utf8 can read the charset, else 0. */
int
charset_known(const char *charset)
{
	enum charset_kind kind;
	char ic[CHARSET_NAMEMAX];
	iconv_t cd;

	if (charset_lookup(charset, &kind, ic, sizeof(ic)) == -1)
		return 0;
	if (kind != CK_ICONV)
		return 1;
	if (charset_iconv_open(&cd, "UTF-8", ic) == -1)
		return 0;
	iconv_close(cd);
	return 1;
}

/*
 * libetpan's conversion hook.  charconv() hands it a result buffer of
 * 6 * length + 1 octets with *result_len = 6 * length, after renaming
 * some labels (iso-2022-jp arrives as "iso-2022-jp-2", gb2312 as "GBK").
 * Conversions to UTF-8 go through charset_decode; others through iconv
 * here, because charconv_buffer() does not fall back to iconv when the
 * hook answers "unknown charset".  Nothing is written past *result_len.
 */
static int
charset_etpan_conv(const char *tocode, const char *fromcode,
    const char *str, size_t length, char *result, size_t *result_len)
{
	struct buf b = BUF_INIT;
	size_t bad = 0;
	int r;

	if (strcasecmp(tocode, "utf-8") == 0 || strcasecmp(tocode, "utf8") == 0)
		r = charset_decode(fromcode, str, length, &b, &bad);
	else
		r = charset_iconv_by_name(tocode, fromcode, NULL, str, length,
		    &b, &bad, charset_skip_one, "?");
	if (r == -1) {
		buf_free(&b);
		return MAIL_CHARCONV_ERROR_UNKNOWN_CHARSET;
	}
	if (b.len > *result_len) {
		buf_free(&b);
		return MAIL_CHARCONV_ERROR_MEMORY;
	}
	if (b.len > 0)
		memcpy(result, b.data, b.len);
	*result_len = b.len;
	buf_free(&b);
	return MAIL_CHARCONV_NO_ERROR;
}

/*
 * Makes libetpan's own decoding (mailmime_encoded_phrase_parse and the
 * rest) read charsets through this module.  Call once at start-up,
 * before threads: it sets a global of libetpan.
 */
void
charset_install_libetpan(void)
{
	extended_charconv = charset_etpan_conv;
}
