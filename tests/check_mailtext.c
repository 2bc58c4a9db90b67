/*
 * check_mailtext - unit tests of the mail text layer: charset, encword,
 * text.
 *
 * The byte samples were produced with iconv(1) and Python's codecs on
 * Debian 12 and are embedded as C escapes, so the tests do not depend on
 * the converter they check.  CP50220 samples (NEC row 13, half-width
 * katakana) are built by hand: glibc's iconv cannot write them, which is
 * the reason charset.c exists.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "encword.h"
#include "text.h"
#include "xmalloc.h"

/* "会議のお知らせ" */
#define KAIGI		"\xe4\xbc\x9a\xe8\xad\xb0\xe3\x81\xae\xe3\x81\x8a" \
			"\xe7\x9f\xa5\xe3\x82\x89\xe3\x81\x9b"
/* iconv -t ISO-2022-JP */
#define KAIGI_JIS	"\x1b\x24\x42\x32\x71\x35\x44\x24\x4e\x24\x2a\x43" \
			"\x4e\x24\x69\x24\x3b\x1b\x28\x42"
/* "会議のお知らせ①ｶﾀｶﾅ" | iconv -t CP932 */
#define KAIGI_SJIS	"\x89\xef\x8b\x63\x82\xcc\x82\xa8\x92\x6d\x82\xe7" \
			"\x82\xb9\x87\x40\xb6\xc0\xb6\xc5"
/* "会議のお知らせ" | iconv -t EUC-JP */
#define KAIGI_EUC	"\xb2\xf1\xb5\xc4\xa4\xce\xa4\xaa\xc3\xce\xa4\xe9" \
			"\xa4\xbb"
#define MARU1		"\xe2\x91\xa0"		/* ① */
#define MARU2		"\xe2\x91\xa1"		/* ② */
#define KABU		"\xe3\x88\xb1"		/* ㈱ */
#define HW_KATAKANA	"\xef\xbd\xb6\xef\xbe\x80\xef\xbd\xb6\xef\xbe\x85"
						/* ｶﾀｶﾅ */
#define SMALL_ROMAN1	"\xe2\x85\xb0"		/* ⅰ (IBM extension) */
#define KOU		"\xe7\xba\x8a"		/* 纊 (IBM ext. kanji) */
#define NIHONGO		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"	/* 日本語 */
#define PARTY		"\xf0\x9f\x8e\x89"	/* 🎉 */
#define FFFD		"\xef\xbf\xbd"

/* Converts and returns a C string owned by a static buffer. */
/* Results of the helpers below, freed after each test. */
static struct buf last, conv, dec;

static void
free_results(void)
{
	buf_free(&last);
	buf_free(&conv);
	buf_free(&dec);
}

static const char *
to_utf8(const char *cs, const char *in, size_t len, int *rc)
{
	buf_free(&conv);
	*rc = charset_to_utf8(cs, in, len, &conv);
	return buf_cstr(&conv);
}

static const char *
from_utf8(const char *cs, const char *in, int *rc)
{
	buf_free(&last);
	*rc = charset_from_utf8(cs, in, strlen(in), &last);
	return buf_cstr(&last);
}

static const char *
decode(const char *raw, int *rc)
{
	buf_free(&dec);
	*rc = encword_decode(raw, &dec);
	return buf_cstr(&dec);
}

/* ---------------------------------------------------------------- */

START_TEST(t_ascii_utf8)
{
	size_t bad;
	struct buf b = BUF_INIT;
	int rc;

	ck_assert_str_eq(to_utf8("us-ascii", "Hello", 5, &rc), "Hello");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("UTF-8", KAIGI, strlen(KAIGI), &rc), KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("utf8", "a\xff" "b", 3, &rc),
	    "a" FFFD "b");
	ck_assert_int_eq(rc, 0);
	/* Nothing readable at all. */
	ck_assert_str_eq(to_utf8("utf-8", "\xff\xfe", 2, &rc), FFFD FFFD);
	ck_assert_int_eq(rc, -1);
	/* Truncated sequence at the end: replaced, not dropped. */
	ck_assert_int_eq(charset_to_utf8_ex("utf-8", "ab\xe4\xbc", 4, &b,
	    &bad), 0);
	ck_assert_str_eq(buf_cstr(&b), "ab" FFFD FFFD);
	ck_assert_uint_eq(bad, 2);
	buf_free(&b);
	/* "us-ascii" on UTF-8 text is a common mistake: read it. */
	ck_assert_str_eq(to_utf8("US-ASCII", KAIGI, strlen(KAIGI), &rc),
	    KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8(NULL, "x", 1, &rc), "x");
	ck_assert_str_eq(to_utf8("utf-8", "", 0, &rc), "");
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(t_jis_plain)
{
	static const char *labels[] = { "ISO-2022-JP", "iso-2022-jp",
	    "csISO2022JP", "ISO-2022-JP-2", "cp50220", "CP50221",
	    "\"iso-2022-jp\"" };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		ck_assert_str_eq(to_utf8(labels[i], KAIGI_JIS,
		    strlen(KAIGI_JIS), &rc), KAIGI);
		ck_assert_int_eq(rc, 0);
	}
	/* Lines end in ASCII; text around the kanji survives. */
	ck_assert_str_eq(to_utf8("iso-2022-jp",
	    "Re: " KAIGI_JIS "\r\nline 2\r\n", 4 + strlen(KAIGI_JIS) + 10,
	    &rc), "Re: " KAIGI "\r\nline 2\r\n");
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(t_jis_cp50220)
{
	/* ①②㈱ (NEC row 13) then ｶﾀｶﾅ by ESC ( I, as Outlook writes. */
	static const char in[] = "\x1b$B\x2d\x21\x2d\x22\x2d\x6a"
	    "\x1b(I\x36\x40\x36\x45\x1b(B ok";
	/* The same katakana by SO/SI after ESC ( J (CP50222). */
	static const char so[] = "\x1b(J\x0e\x36\x40\x36\x45\x0f" "abc";
	/* 8-bit JIS katakana. */
	static const char k8[] = "\x1b$B\x2d\x21\x1b(B\xb6\xc0\xb6\xc5";
	/* ⅰ and 纊: the NEC-selected IBM extensions (rows 89-92). */
	static const char ibm[] = "\x1b$B\x7c\x71\x79\x21\x1b(B";
	/* JIS X 0212 丂 (ISO-2022-JP-1). */
	static const char x0212[] = "\x1b$(D\x30\x21\x1b(B";
	int rc;

	ck_assert_str_eq(to_utf8("ISO-2022-JP", in, sizeof(in) - 1, &rc),
	    MARU1 MARU2 KABU HW_KATAKANA " ok");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("ISO-2022-JP", so, sizeof(so) - 1, &rc),
	    HW_KATAKANA "abc");
	ck_assert_str_eq(to_utf8("CP50222", k8, sizeof(k8) - 1, &rc),
	    MARU1 HW_KATAKANA);
	ck_assert_str_eq(to_utf8("iso-2022-jp", ibm, sizeof(ibm) - 1, &rc),
	    SMALL_ROMAN1 KOU);
	ck_assert_str_eq(to_utf8("iso-2022-jp", x0212, sizeof(x0212) - 1,
	    &rc), "\xe4\xb8\x82");
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(t_jis_mislabelled)
{
	size_t bad;
	struct buf b = BUF_INIT;
	int rc;

	/* UTF-8 (and ASCII) under an ISO-2022-JP label. */
	ck_assert_str_eq(to_utf8("ISO-2022-JP", KAIGI, strlen(KAIGI), &rc),
	    KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("ISO-2022-JP", "plain", 5, &rc), "plain");
	/* Shift_JIS under an ISO-2022-JP label. */
	ck_assert_str_eq(to_utf8("ISO-2022-JP", KAIGI_SJIS,
	    strlen(KAIGI_SJIS), &rc), KAIGI MARU1 HW_KATAKANA);
	/* A pair cut off by the end, an unknown escape: replaced. */
	ck_assert_int_eq(charset_to_utf8_ex("iso-2022-jp",
	    "\x1b$B\x32\x71\x35", 6, &b, &bad), 0);
	ck_assert_str_eq(buf_cstr(&b), "\xe4\xbc\x9a" FFFD);
	ck_assert_uint_eq(bad, 1);
	buf_reset(&b);
	ck_assert_int_eq(charset_to_utf8_ex("iso-2022-jp", "a\x1b%Zb", 5,
	    &b, &bad), 0);
	ck_assert_str_eq(buf_cstr(&b), "a" FFFD "%Zb");
	buf_free(&b);
}
END_TEST

START_TEST(t_sjis_euc)
{
	static const char *sjis[] = { "Shift_JIS", "SJIS", "x-sjis",
	    "Windows-31J", "CP932", "shift-jis" };
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sjis) / sizeof(sjis[0]); i++) {
		ck_assert_str_eq(to_utf8(sjis[i], KAIGI_SJIS,
		    strlen(KAIGI_SJIS), &rc), KAIGI MARU1 HW_KATAKANA);
		ck_assert_int_eq(rc, 0);
	}
	ck_assert_str_eq(to_utf8("EUC-JP", KAIGI_EUC, strlen(KAIGI_EUC),
	    &rc), KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("euc-jp", "\xad\xa1", 2, &rc), MARU1);
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(t_iconv_other)
{
	int rc;

	ck_assert_str_eq(to_utf8("ISO-8859-1", "caf\xe9", 4, &rc),
	    "caf\xc3\xa9");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(to_utf8("windows-1252", "\x80", 1, &rc),
	    "\xe2\x82\xac");
	ck_assert_str_eq(to_utf8("GB2312", "\xc4\xe3\xba\xc3", 4, &rc),
	    "\xe4\xbd\xa0\xe5\xa5\xbd");
	ck_assert_int_eq(rc, 0);
	/* Unknown: -1, but the text is still there. */
	ck_assert_str_eq(to_utf8("x-no-such-charset", "abc", 3, &rc), "abc");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(to_utf8("utf-8//IGNORE", "abc", 3, &rc), "abc");
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(charset_known("iso-2022-jp"), 1);
	ck_assert_int_eq(charset_known("KOI8-R"), 1);
	ck_assert_int_eq(charset_known("x-no-such-charset"), 0);
}
END_TEST

START_TEST(t_guess)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(charset_guess_to_utf8(KAIGI_EUC, strlen(KAIGI_EUC),
	    &b), 0);
	ck_assert_str_eq(buf_cstr(&b), KAIGI);
	buf_reset(&b);
	ck_assert_int_eq(charset_guess_to_utf8(KAIGI_SJIS,
	    strlen(KAIGI_SJIS), &b), 0);
	ck_assert_str_eq(buf_cstr(&b), KAIGI MARU1 HW_KATAKANA);
	buf_reset(&b);
	ck_assert_int_eq(charset_guess_to_utf8(KAIGI_JIS, strlen(KAIGI_JIS),
	    &b), 0);
	ck_assert_str_eq(buf_cstr(&b), KAIGI);
	buf_free(&b);
}
END_TEST

START_TEST(t_from_utf8)
{
	struct buf b = BUF_INIT;
	int rc;

	ck_assert_str_eq(from_utf8("ISO-2022-JP", KAIGI, &rc), KAIGI_JIS);
	ck_assert_int_eq(rc, 0);
	/* Each line ends in ASCII. */
	ck_assert_str_eq(from_utf8("iso-2022-jp", KAIGI "\n" KAIGI "\nx",
	    &rc), KAIGI_JIS "\n" KAIGI_JIS "\nx");
	/* CP50220: NEC row 13, IBM extensions moved to NEC-selected. */
	ck_assert_str_eq(from_utf8("iso-2022-jp",
	    MARU1 KABU SMALL_ROMAN1 KOU, &rc),
	    "\x1b$B\x2d\x21\x2d\x6a\x7c\x71\x79\x21\x1b(B");
	ck_assert_int_eq(rc, 0);
	/* Half-width katakana widened, with dakuten: ｶﾞｷﾞﾊﾟｳﾞ -> ガギパヴ */
	from_utf8("iso-2022-jp", "\xef\xbd\xb6\xef\xbe\x9e\xef\xbd\xb7\xef"
	    "\xbe\x9e\xef\xbe\x8a\xef\xbe\x9f\xef\xbd\xb3\xef\xbe\x9e", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(charset_to_utf8("iso-2022-jp", last.data, last.len,
	    &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "\xe3\x82\xac\xe3\x82\xae\xe3\x83\x91"
	    "\xe3\x83\xb4");
	buf_reset(&b);
	/* Round trip of everything CP50220 can carry. */
	from_utf8("iso-2022-jp", "Re: " KAIGI MARU1 MARU2 KABU " (2024)",
	    &rc);
	ck_assert_int_eq(rc, 0);
	charset_to_utf8("iso-2022-jp", last.data, last.len, &b);
	ck_assert_str_eq(buf_cstr(&b),
	    "Re: " KAIGI MARU1 MARU2 KABU " (2024)");
	buf_free(&b);
	/* The JIS X 0201 yen sign has a JIS X 0208 twin. */
	ck_assert_str_eq(from_utf8("iso-2022-jp", "\xc2\xa5" "100", &rc),
	    "\x1b$B\x21\x6f\x1b(B100");
	ck_assert_int_eq(rc, 0);
	/* Not representable: "?" and -1. */
	ck_assert_str_eq(from_utf8("iso-2022-jp", "a" PARTY "b", &rc), "a?b");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(from_utf8("iso-2022-jp", KAIGI PARTY, &rc),
	    KAIGI_JIS "?");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(from_utf8("Shift_JIS", KAIGI MARU1 HW_KATAKANA,
	    &rc), KAIGI_SJIS);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(from_utf8("euc-jp", KAIGI, &rc), KAIGI_EUC);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(from_utf8("EUC-JP", MARU1, &rc), "\xad\xa1");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(from_utf8("shift_jis", PARTY "x", &rc), "?x");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(from_utf8("UTF-8", KAIGI, &rc), KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(from_utf8("utf-8", "a\xff", &rc), "a?");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(from_utf8("us-ascii", "a" KAIGI "b", &rc),
	    "a???????b");
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(from_utf8("iso-8859-1", "caf\xc3\xa9", &rc),
	    "caf\xe9");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(from_utf8("x-no-such-charset", "abc", &rc), "");
	ck_assert_int_eq(rc, -1);
	buf_free(&last);
}
END_TEST

START_TEST(t_libetpan_hook)
{
	/* =?ISO-2022-JP?B?...?= of "①②㈱": glibc alone cannot read it. */
	static const char subj[] =
	    "=?ISO-2022-JP?B?GyRCLSEtIi1qGyhC?= " "=?utf-8?B?5pel5pys6Kqe?=";
	size_t idx = 0, rlen;
	char *res = NULL;
	int r;

	charset_install_libetpan();
	r = mailmime_encoded_phrase_parse("utf-8", subj, strlen(subj), &idx,
	    "utf-8", &res);
	ck_assert_int_eq(r, MAILIMF_NO_ERROR);
	ck_assert_str_eq(res, MARU1 MARU2 KABU NIHONGO);
	free(res);
	res = NULL;
	r = charconv("utf-8", "iso-2022-jp", KAIGI_JIS, strlen(KAIGI_JIS),
	    &res);
	ck_assert_int_eq(r, MAIL_CHARCONV_NO_ERROR);
	ck_assert_str_eq(res, KAIGI);
	free(res);
	r = charconv_buffer("UTF-8", "Shift_JIS", KAIGI_SJIS,
	    strlen(KAIGI_SJIS), &res, &rlen);
	ck_assert_int_eq(r, MAIL_CHARCONV_NO_ERROR);
	ck_assert_uint_eq(rlen, strlen(KAIGI MARU1 HW_KATAKANA));
	ck_assert(memcmp(res, KAIGI MARU1 HW_KATAKANA, rlen) == 0);
	charconv_buffer_free(res);
	/* Other directions: iconv inside the hook. */
	r = charconv_buffer("iso-8859-1", "utf-8", "caf\xc3\xa9", 5, &res,
	    &rlen);
	ck_assert_int_eq(r, MAIL_CHARCONV_NO_ERROR);
	ck_assert_uint_eq(rlen, 4);
	ck_assert(memcmp(res, "caf\xe9", 4) == 0);
	charconv_buffer_free(res);
	r = charconv("utf-8", "x-no-such-charset", "abc", 3, &res);
	ck_assert_int_ne(r, MAIL_CHARCONV_NO_ERROR);
	/* Worst case growth stays within libetpan's 6 * length buffer. */
	r = charconv("utf-8", "iso-2022-jp", "\xff\xff\xff\xff", 4, &res);
	ck_assert_int_eq(r, MAIL_CHARCONV_NO_ERROR);
	ck_assert_str_eq(res, FFFD FFFD FFFD FFFD);
	free(res);
	extended_charconv = NULL;
}
END_TEST

/* ---------------------------------------------------------------- */

START_TEST(t_decode_words)
{
	int rc;

	ck_assert_str_eq(decode("=?ISO-2022-JP?B?GyRCMnE1RCROJCpDTiRpJDsbKEI="
	    "?=", &rc), KAIGI);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(decode("=?iso-2022-jp?b?GyRCMnE1RCROJCpDTiRpJDsbKEI="
	    "?=", &rc), KAIGI);
	/* Folded over two words. */
	ck_assert_str_eq(decode(" =?ISO-2022-JP?B?GyRCMnE1RCROGyhC?=\r\n"
	    "\t=?ISO-2022-JP?B?GyRCJCpDTiRpJDsbKEI=?=\r\n", &rc), KAIGI);
	/* Mixed ASCII and encoded words; spaces around plain text stay. */
	ck_assert_str_eq(decode("Re: [ml:0123] =?ISO-2022-JP?B?GyRCMnE1RCRO"
	    "JCpDTiRpJDsbKEI=?= (2024)", &rc), "Re: [ml:0123] " KAIGI
	    " (2024)");
	ck_assert_str_eq(decode("=?UTF-8?B?5pel5pys6Kqe?= abc", &rc),
	    NIHONGO " abc");
	/* Q with underscores and a literal "=". */
	ck_assert_str_eq(decode("=?UTF-8?Q?Hello_World_=E4=BC=9A=E8=AD=B0?=",
	    &rc), "Hello World \xe4\xbc\x9a\xe8\xad\xb0");
	ck_assert_str_eq(decode("=?us-ascii?q?a=3Db_=5F?=", &rc), "a=b _");
	/* UTF-8 split mid-character across two words. */
	ck_assert_str_eq(decode("=?UTF-8?B?5Lya6A==?= =?UTF-8?B?rbDjga7jgYrn"
	    "n6XjgonjgZs=?=", &rc), KAIGI);
	/* Shift_JIS split mid-character, labels in different case. */
	ck_assert_str_eq(decode("=?Shift_JIS?B?ie+L?=\n =?shift_jis?B?Y4LMg"
	    "qiSbYLngrk=?=", &rc), KAIGI);
	ck_assert_str_eq(decode("=?EUC-JP?B?svG1xKTOpKrDzqTppLs=?=", &rc),
	    KAIGI);
	/* CP50220 in an encoded word. */
	ck_assert_str_eq(decode("=?ISO-2022-JP?B?GyRCLSEtIi1qGyhC?=", &rc),
	    MARU1 MARU2 KABU);
	/* Two charsets next to each other: space between them dropped. */
	ck_assert_str_eq(decode("=?EUC-JP?B?svG1xKTOpKrDzqTppLs=?= "
	    "=?UTF-8?B?5pel5pys6Kqe?=", &rc), KAIGI NIHONGO);
	/* RFC 2231 language tag. */
	ck_assert_str_eq(decode("=?UTF-8*ja?B?5pel5pys6Kqe?=", &rc),
	    NIHONGO);
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(t_decode_raw)
{
	int rc;

	ck_assert_str_eq(decode("plain subject", &rc), "plain subject");
	ck_assert_str_eq(decode("", &rc), "");
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(decode(KAIGI " =?UTF-8?B?5pel5pys6Kqe?=", &rc),
	    KAIGI " " NIHONGO);
	ck_assert_str_eq(decode("Re: " KAIGI_SJIS, &rc),
	    "Re: " KAIGI MARU1 HW_KATAKANA);
	ck_assert_str_eq(decode("[ml] " KAIGI_EUC, &rc), "[ml] " KAIGI);
	ck_assert_str_eq(decode(KAIGI_JIS, &rc), KAIGI);
	/* Broken words stay literal. */
	ck_assert_str_eq(decode("=?UTF-8?B?5pel", &rc), "=?UTF-8?B?5pel");
	ck_assert_str_eq(decode("a =?UTF-8?X?abc?= b", &rc),
	    "a =?UTF-8?X?abc?= b");
	ck_assert_str_eq(decode("=??B?abc?=", &rc), "=??B?abc?=");
	/* Unknown charset: best effort, -1. */
	ck_assert_str_eq(decode("=?x-bogus?Q?abc?=", &rc), "abc");
	ck_assert_int_eq(rc, -1);
	/* NUL from an encoded word must not cut the string. */
	ck_assert_str_eq(decode("=?UTF-8?Q?a=00b?=", &rc), "a" FFFD "b");
	ck_assert_int_eq(rc, 0);
}
END_TEST

/*
 * Checks the form of an encoded header body: line lengths (the first
 * line after used octets), folding by LF + white space, every encoded
 * word within 75 octets and holding whole UTF-8 characters only.
 */
static void
check_form(const char *s, size_t used, int strict)
{
	const char *line = s, *nl, *p, *e;
	size_t len, col = used;
	struct buf w = BUF_INIT;
	char one[4096];

	for (;;) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (strict)
			ck_assert_msg(col + len <= ENCWORD_LINELEN,
			    "line of %zu octets: %.*s", col + len, (int)len,
			    line);
		if (line != s)
			ck_assert_msg(line[0] == ' ' || line[0] == '\t',
			    "continuation without white space");
		if (nl == NULL)
			break;
		line = nl + 1;
		col = 0;
	}
	for (p = s; (p = strstr(p, "=?")) != NULL; p = e + 2) {
		e = strstr(p + 2, "?=");
		ck_assert_ptr_nonnull(e);
		if (strncmp(p, "=?UTF-8?B?", 10) != 0)
			continue;
		if ((size_t)(e - p) + 2 > ENCWORD_MAXLEN)
			ck_abort_msg("encoded word of %zu octets",
			    (size_t)(e - p) + 2);
		snprintf(one, sizeof(one), "%.*s", (int)(e - p + 2), p);
		buf_reset(&w);
		ck_assert_int_eq(encword_decode(one, &w), 0);
		ck_assert_msg(!strstr(buf_cstr(&w), FFFD),
		    "word splits a character: %s", one);
	}
	buf_free(&w);
}

/* encode -> form check -> decode, which must give back the input. */
static void
roundtrip(const char *in, size_t used, int strict)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT;

	encword_encode(&enc, in, used);
	check_form(buf_cstr(&enc), used, strict);
	ck_assert_int_eq(encword_decode(buf_cstr(&enc), &dec), 0);
	ck_assert_msg(strcmp(buf_cstr(&dec), in) == 0,
	    "round trip:\n in:  [%s]\n enc: [%s]\n out: [%s]", in,
	    buf_cstr(&enc), buf_cstr(&dec));
	buf_free(&enc);
	buf_free(&dec);
}

START_TEST(t_encode_ascii)
{
	struct buf b = BUF_INIT, u = BUF_INIT;
	const char *p;
	static const char longs[] = "This is a rather long subject line "
	    "about the next meeting of the association, which will be held "
	    "in the community hall on Saturday afternoon at three o'clock";

	encword_encode(&b, "Hello world", 9);
	ck_assert_str_eq(buf_cstr(&b), "Hello world");
	buf_reset(&b);
	encword_encode(&b, longs, 9);
	ck_assert_ptr_null(strstr(buf_cstr(&b), "=?"));
	check_form(buf_cstr(&b), 9, 1);
	/* Unfolding (removing the LFs) gives the text back. */
	for (p = buf_cstr(&b); *p; p++)
		if (*p != '\n')
			buf_addc(&u, *p);
	ck_assert_str_eq(buf_cstr(&u), longs);
	ck_assert_ptr_nonnull(strchr(buf_cstr(&b), '\n'));
	buf_free(&b);
	buf_free(&u);
	roundtrip(longs, 9, 1);
	roundtrip("a =?foo?= that looks encoded", 9, 1);
	roundtrip("  leading and trailing  ", 9, 1);
	roundtrip("tab\there", 9, 1);
	roundtrip("", 9, 1);
}
END_TEST

START_TEST(t_encode_japanese)
{
	struct buf in = BUF_INIT;
	int i;

	roundtrip(KAIGI, 9, 1);
	for (i = 0; i < 20; i++)
		buf_adds(&in, KAIGI);
	roundtrip(buf_cstr(&in), 9, 1);
	roundtrip(buf_cstr(&in), 70, 1);
	roundtrip(buf_cstr(&in), 0, 1);
	buf_reset(&in);
	buf_adds(&in, "Re: [ml:42] ");
	for (i = 0; i < 6; i++)
		buf_adds(&in, KAIGI " and " NIHONGO " text ");
	buf_adds(&in, MARU1 KABU HW_KATAKANA);
	roundtrip(buf_cstr(&in), 9, 1);
	buf_reset(&in);
	for (i = 0; i < 40; i++)
		buf_adds(&in, PARTY);
	roundtrip(buf_cstr(&in), 9, 1);
	buf_reset(&in);
	for (i = 0; i < 30; i++)
		buf_adds(&in, "a" PARTY " ");
	roundtrip(buf_cstr(&in), 9, 1);
	buf_free(&in);
	roundtrip(KAIGI "  " NIHONGO, 9, 1);
	roundtrip("x " KAIGI " y", 9, 1);
	roundtrip(" " KAIGI, 9, 1);
}
END_TEST

/*
 * Random texts from a mixed alphabet, fixed seed: the round trip and
 * the form must hold for all of them.
 */
START_TEST(t_encode_random)
{
	static const char *alpha[] = { "a", "Z", " ", " ", "  ", "=", "?",
	    "_", "=?", "\"", "\t", KAIGI, NIHONGO, PARTY, MARU1, HW_KATAKANA,
	    "\xc3\xa9", "verylongwordwithoutanyspaces", "\xe3\x80\x80" };
	struct buf in = BUF_INIT;
	unsigned seed = 12345;
	int i, j, n;

	for (i = 0; i < 500; i++) {
		buf_reset(&in);
		seed = seed * 1103515245 + 12345;
		n = (int)((seed >> 16) % 40);
		for (j = 0; j < n; j++) {
			seed = seed * 1103515245 + 12345;
			buf_adds(&in, alpha[(seed >> 16) %
			    (sizeof(alpha) / sizeof(alpha[0]))]);
		}
		/* Line lengths only hold where white space allows a fold. */
		roundtrip(buf_cstr(&in), 9, 0);
		roundtrip(buf_cstr(&in), 40, 0);
	}
	buf_free(&in);
}
END_TEST

START_TEST(t_phrase)
{
	struct buf b = BUF_INIT, d = BUF_INIT;
	const char *p;
	int i;

	encword_phrase(&b, "John Smith");
	ck_assert_str_eq(buf_cstr(&b), "John Smith");
	buf_reset(&b);
	encword_phrase(&b, "John Q. Public");
	ck_assert_str_eq(buf_cstr(&b), "\"John Q. Public\"");
	buf_reset(&b);
	encword_phrase(&b, "a\"b\\c");
	ck_assert_str_eq(buf_cstr(&b), "\"a\\\"b\\\\c\"");
	buf_reset(&b);
	encword_phrase(&b, "=?x?= trap");
	ck_assert_int_eq(encword_decode(buf_cstr(&b), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "=?x?= trap");
	buf_reset(&b);
	buf_reset(&d);
	encword_phrase(&b, "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e");
	ck_assert_str_eq(buf_cstr(&b), "=?UTF-8?B?5bGx55SwIOWkqumDjg==?=");
	buf_reset(&b);
	for (i = 0; i < 10; i++)
		buf_adds(&d, KAIGI " ");
	p = xstrdup(buf_cstr(&d));
	buf_reset(&d);
	encword_phrase(&b, p);
	ck_assert_ptr_null(strchr(buf_cstr(&b), '\n'));
	check_form(buf_cstr(&b), 0, 0);
	ck_assert_int_eq(encword_decode(buf_cstr(&b), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), p);
	free((void *)p);
	buf_free(&b);
	buf_free(&d);
}
END_TEST

/* ---------------------------------------------------------------- */

/* Conversions from several threads at once must not disturb each other. */
static void *
worker(void *arg)
{
	static const char cp50220[] = "\x1b$B\x2d\x21\x2d\x6a\x1b(I\x36\x40"
	    "\x1b(B";
	struct buf a = BUF_INIT, b = BUF_INIT;
	long bad = 0;
	int i;

	(void)arg;
	for (i = 0; i < 200; i++) {
		buf_reset(&a);
		buf_reset(&b);
		charset_to_utf8("iso-2022-jp", cp50220, sizeof(cp50220) - 1,
		    &a);
		if (strcmp(buf_cstr(&a), MARU1 KABU "\xef\xbd\xb6\xef\xbe\x80")
		    != 0)
			bad++;
		charset_to_utf8("euc-jp", KAIGI_EUC, strlen(KAIGI_EUC), &b);
		if (strcmp(buf_cstr(&b), KAIGI) != 0)
			bad++;
		buf_reset(&a);
		charset_from_utf8("iso-2022-jp", KAIGI, strlen(KAIGI), &a);
		if (strcmp(buf_cstr(&a), KAIGI_JIS) != 0)
			bad++;
	}
	buf_free(&a);
	buf_free(&b);
	return (void *)bad;
}

START_TEST(t_threads)
{
	pthread_t th[4];
	void *bad;
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, NULL), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
}
END_TEST

START_TEST(t_text)
{
	struct buf b = BUF_INIT;

	/* "ＨＥＬＰ　ｍｅ" */
	text_fold_width(&b, "\xef\xbc\xa8\xef\xbc\xa5\xef\xbc\xac\xef\xbc\xb0"
	    "\xe3\x80\x80\xef\xbd\x8d\xef\xbd\x85");
	ck_assert_str_eq(buf_cstr(&b), "HELP me");
	buf_reset(&b);
	/* "！" U+FF01 and "～" U+FF5E are the ends of the range. */
	text_fold_width(&b, KAIGI "\xef\xbc\x81\xef\xbd\x9e" HW_KATAKANA
	    "\xff");
	ck_assert_str_eq(buf_cstr(&b), KAIGI "!~" HW_KATAKANA "\xff");
	buf_free(&b);

	ck_assert_int_eq(text_utf8_valid(KAIGI PARTY, strlen(KAIGI PARTY)), 1);
	ck_assert_int_eq(text_utf8_valid("\xc0\xaf", 2), 0);
	ck_assert_int_eq(text_utf8_valid("\xe0\x80\xaf", 3), 0);
	ck_assert_int_eq(text_utf8_valid("\xed\xa0\x80", 3), 0);
	ck_assert_int_eq(text_utf8_valid("\xf4\x90\x80\x80", 4), 0);
	ck_assert_int_eq(text_utf8_valid("\xe4\xbc", 2), 0);
	ck_assert_int_eq(text_utf8_valid("", 0), 1);

	ck_assert_uint_eq(text_utf8_prefix(KAIGI, 4), 3);
	ck_assert_uint_eq(text_utf8_prefix(KAIGI, 5), 3);
	ck_assert_uint_eq(text_utf8_prefix(KAIGI, 6), 6);
	ck_assert_uint_eq(text_utf8_prefix("ab", 10), 2);
	ck_assert_uint_eq(text_utf8_prefix(PARTY, 3), 0);
	ck_assert_uint_eq(text_utf8_prefix("a" PARTY, 4), 1);
	ck_assert_uint_eq(text_utf8_prefix("a" PARTY, 5), 5);
	ck_assert_uint_eq(text_utf8_prefix("\x80\x80\x80\x80\x80", 3), 3);
}
END_TEST

static Suite *
mailtext_suite(void)
{
	Suite *s = suite_create("mailtext");
	TCase *tc;

	tc = tcase_create("charset");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, free_results);
	tcase_add_test(tc, t_ascii_utf8);
	tcase_add_test(tc, t_jis_plain);
	tcase_add_test(tc, t_jis_cp50220);
	tcase_add_test(tc, t_jis_mislabelled);
	tcase_add_test(tc, t_sjis_euc);
	tcase_add_test(tc, t_iconv_other);
	tcase_add_test(tc, t_guess);
	tcase_add_test(tc, t_from_utf8);
	tcase_add_test(tc, t_libetpan_hook);
	tcase_add_test(tc, t_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("encword");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, free_results);
	tcase_add_test(tc, t_decode_words);
	tcase_add_test(tc, t_decode_raw);
	tcase_add_test(tc, t_encode_ascii);
	tcase_add_test(tc, t_encode_japanese);
	tcase_add_test(tc, t_encode_random);
	tcase_add_test(tc, t_phrase);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, t_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mailtext_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
