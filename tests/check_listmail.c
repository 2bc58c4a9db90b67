/*
 * Unit tests: what a list does to a post on its way out, and to its own
 * mail: the subject prefix (subject.c, encword_cs.c), the footer on
 * every MIME structure (footer.c), DMARC record reading (dmarc.c), and
 * the Japanese corpus of tests/corpus/ja checked byte for byte against
 * its NAME.out and parsed back with libetpan.
 *
 * MLS_CORPUS_UPDATE=1 writes the NAME.out files instead of comparing
 * (then read them before committing).
 */
#include <check.h>
#include <dirent.h>

#include <libetpan/libetpan.h>

#include "base64.h"
#include "buf.h"
#include "charset.h"
#include "config.h"
#include "dmarc.h"
#include "encword.h"
#include "encword_cs.h"
#include "footer.h"
#include "mime.h"
#include "post.h"
#include "subject.h"
#include "testutil.h"
#include "text.h"

#define FOOTER_UTF8							\
	"\n--------\n世田谷パートナーズの会 ①㈱髙\n"			\
	"投稿: corpus@lists.example.org\n"

/* ---------------------------------------------------------------- helpers */

static char *
slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	if (len)
		*len = b.len;
	buf_cstr(&b);
	return buf_release(&b);
}

/* Decodes a header value with libetpan's own decoder (word by word). */
static char *
etpan_decode(const char *value)
{
	size_t idx = 0;
	char *out = NULL;

	charset_install_libetpan();
	ck_assert_int_eq(mailmime_encoded_phrase_parse("utf-8", value,
	    strlen(value), &idx, "utf-8", &out), MAILIMF_NO_ERROR);
	return out;
}

/* Every encoded word within 75 octets, every line within 78. */
static void
check_lengths(const char *field)
{
	const char *p = field, *eol, *w, *end;

	for (; *p; p = *eol ? eol + 1 : eol) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		ck_assert_msg(eol - p <= 78, "line too long: %.*s",
		    (int)(eol - p), p);
		for (w = p; (w = strstr(w, "=?")) != NULL && w < eol; w = end) {
			end = strstr(w + 2, "?=");
			ck_assert_ptr_nonnull(end);
			/* "=?CS?B?" then the text, then "?=". */
			end = strstr(strchr(strchr(w + 2, '?') + 1, '?') + 1,
			    "?=") + 2;
			ck_assert_msg(end - w <= 75, "word of %d octets",
			    (int)(end - w));
		}
	}
}

/* The text of a field written by subject_field, decoded by libetpan. */
static char *
subject_of(const char *field)
{
	struct buf v = BUF_INIT;
	char *out;

	ck_assert(strncmp(field, "Subject: ", 9) == 0);
	for (const char *p = field + 9; *p; p++)
		if (*p != '\n')
			buf_addc(&v, *p);
	out = etpan_decode(buf_cstr(&v));
	buf_free(&v);
	return out;
}

/* ---------------------------------------------------------------- subject */

START_TEST(t_subject_normalize)
{
	static const char *const cases[][2] = {
		{ "会議", "[世田谷] 会議" },
		{ "Re: 会議", "[世田谷] Re: 会議" },
		{ "RE: Re: re: 会議", "[世田谷] Re: 会議" },
		{ "Re: [世田谷] RE: 次回", "[世田谷] Re: 次回" },
		{ "[世田谷] Re: [世田谷] Re: 次回", "[世田谷] Re: 次回" },
		{ "AW: Antw: SV: VS: x", "[世田谷] Re: x" },
		{ "返信: 返信：確認", "[世田谷] Re: 確認" },
		{ "Ｒｅ： ＲＥ：確認", "[世田谷] Re: 確認" },
		{ "Re[2]: Re(3): Re^4: x", "[世田谷] Re: x" },
		{ "Fwd: [世田谷] x", "[世田谷] Fwd: x" },
		{ "FW: Fw: fwd: 転送: x", "[世田谷] Fwd: x" },
		{ "Re: Fwd: Re: x", "[世田谷] Re: Fwd: x" },
		{ "Fwd: Re: x", "[世田谷] Fwd: Re: x" },
		{ "　Re:　x", "[世田谷] Re: x" },
		{ "Report: x", "[世田谷] Report: x" },
		{ "Rex: y", "[世田谷] Rex: y" },
		{ "Re[]: y", "[世田谷] Re[]: y" },
		{ "", "[世田谷]" },
		{ "Re: ", "[世田谷] Re:" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		subject_normalize(&b, cases[i][0], "[世田谷]");
		ck_assert_msg(strcmp(buf_cstr(&b), cases[i][1]) == 0,
		    "\"%s\" -> \"%s\", want \"%s\"", cases[i][0], buf_cstr(&b),
		    cases[i][1]);
	}
	buf_reset(&b);
	subject_normalize(&b, "re: [ML] x", "[ml] ");
	ck_assert_str_eq(buf_cstr(&b), "[ml] Re: x");
	buf_free(&b);
}
END_TEST

START_TEST(t_subject_iso2022jp)
{
	/* "Re: 会議①" in ISO-2022-JP, as a Japanese client writes it. */
	struct buf raw = BUF_INIT, out = BUF_INIT, enc = BUF_INIT;
	char *dec;

	charset_from_utf8("ISO-2022-JP", "Re: 会議①㈱髙", strlen("Re: 会議①㈱髙"),
	    &enc);
	buf_adds(&raw, "=?ISO-2022-JP?B?");
	base64_encode(&raw, enc.data, enc.len, 0);
	buf_adds(&raw, "?=");
	subject_field(&out, buf_cstr(&raw), "[世田谷]", NULL);
	/* It stays ISO-2022-JP: no UTF-8 word for an old phone to garble. */
	ck_assert_ptr_nonnull(strstr(out.data, "=?ISO-2022-JP?B?"));
	ck_assert_ptr_null(strstr(out.data, "UTF-8"));
	dec = subject_of(out.data);
	ck_assert_str_eq(dec, "[世田谷] Re: 会議①㈱髙");
	free(dec);
	check_lengths(out.data);
	buf_free(&raw);
	buf_free(&out);
	buf_free(&enc);
}
END_TEST

START_TEST(t_subject_long_and_fallback)
{
	static const char *const texts[] = {
		"令和八年度　世田谷パートナーズの会　第十二回定例会議の開催日程と"
		"会場（区民会館第二会議室）についてのご案内およびご出欠のお願い",
		"ｶﾀｶﾅ半角の件名ｶﾞｷﾞｸﾞ",		/* widened by JIS: UTF-8 */
		"絵文字🎉の件名",			/* not in JIS: UTF-8 */
		"Plain ASCII subject that is long enough to need folding at "
		"some point because it goes on and on and on",
	};
	struct buf out = BUF_INIT;
	size_t i;
	char *dec;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		buf_reset(&out);
		buf_adds(&out, "Subject: ");
		encword_cs_encode(&out, texts[i], 9, "ISO-2022-JP");
		check_lengths(out.data);
		dec = subject_of(out.data);
		ck_assert_str_eq(dec, texts[i]);
		free(dec);
		if (i == 1 || i == 2)
			ck_assert_ptr_nonnull(strstr(out.data, "=?UTF-8?B?"));
		if (i == 0) {
			ck_assert_ptr_nonnull(strstr(out.data, "\n "));
			ck_assert_ptr_null(strstr(out.data, "UTF-8"));
		}
	}
	buf_free(&out);
}
END_TEST

/* Each ISO-2022-JP word decodes on its own: no character is split. */
START_TEST(t_words_whole)
{
	const char *text = "①②③④⑤⑥⑦⑧⑨⑩㈱㈲髙﨑德 漢字かなカナ混じりの長い件名です";
	struct buf out = BUF_INIT, joined = BUF_INIT;
	const char *p;
	char *w, *dec;

	encword_cs_encode(&out, text, 9, "ISO-2022-JP");
	for (p = out.data; (p = strstr(p, "=?")) != NULL; ) {
		const char *end = strstr(p, "?=");

		end = strstr(strchr(strchr(p + 2, '?') + 1, '?') + 1, "?=") + 2;
		w = strndup(p, (size_t)(end - p));
		dec = etpan_decode(w);
		ck_assert(text_utf8_valid(dec, strlen(dec)));
		ck_assert_ptr_null(strstr(dec, TEXT_REPLACEMENT));
		buf_adds(&joined, dec);
		free(dec);
		free(w);
		p = end;
	}
	ck_assert_str_eq(buf_cstr(&joined), text);
	buf_free(&out);
	buf_free(&joined);
}
END_TEST

/* Header recoding for the server's own mail (compose, charset). */
START_TEST(t_recode_header)
{
	struct buf hdr = BUF_INIT, out = BUF_INIT;
	char *v;

	buf_adds(&hdr, "From: ");
	encword_phrase(&hdr, "世田谷パートナーズの会");
	buf_adds(&hdr, " <setagaya-request@lists.example.org>\nTo: "
	    "<a@b.jp>\nSubject: ");
	encword_encode(&hdr, "【世田谷】ご依頼の処理結果", 9);
	buf_adds(&hdr, "\nMessage-ID: <x@y>\n");
	encword_cs_recode(&out, hdr.data, hdr.len, "ISO-2022-JP");
	ck_assert_ptr_null(strstr(out.data, "UTF-8"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nTo: <a@b.jp>\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "\nMessage-ID: <x@y>\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "?= <setagaya-request@lists.example.org>\n"));
	v = mime_field_value(out.data, out.len, "Subject");
	{
		char *d = etpan_decode(v);

		ck_assert_str_eq(d, "【世田谷】ご依頼の処理結果");
		free(d);
	}
	free(v);
	for (size_t i = 0; i < out.len; i++)
		ck_assert((unsigned char)out.data[i] < 0x80);
	buf_free(&hdr);
	buf_free(&out);
}
END_TEST

/* ---------------------------------------------------------------- footer */

/* The UTF-8 text of the last text/plain part of msg, via libetpan. */
static char *
last_text(const char *msg, size_t len)
{
	struct mailmime *mime = NULL, *found = NULL, *stack[64];
	size_t idx = 0, n = 0, rlen = 0;
	struct buf u = BUF_INIT;
	char *r = NULL, *cs;
	clistiter *it;
	int enc = MAILMIME_MECHANISM_8BIT;

	ck_assert_int_eq(mailmime_parse(msg, len, &idx, &mime),
	    MAILIMF_NO_ERROR);
	stack[n++] = mime;
	while (n > 0) {
		struct mailmime *m = stack[--n];

		if (m->mm_type == MAILMIME_MESSAGE && m->mm_data.mm_message.
		    mm_msg_mime && n < 63) {
			stack[n++] = m->mm_data.mm_message.mm_msg_mime;
			continue;
		}
		if (m->mm_type == MAILMIME_MULTIPLE) {
			for (it = clist_begin(m->mm_data.mm_multipart.
			    mm_mp_list); it; it = clist_next(it))
				if (n < 63)
					stack[n++] = clist_content(it);
			continue;
		}
		if (m->mm_content_type && m->mm_content_type->ct_subtype &&
		    strcasecmp(m->mm_content_type->ct_subtype, "plain") == 0 &&
		    found == NULL)
			found = m;	/* the stack walks the last first */
	}
	ck_assert_ptr_nonnull(found);
	if (found->mm_mime_fields)
		for (it = clist_begin(found->mm_mime_fields->fld_list); it;
		    it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);

			if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING)
				enc = f->fld_data.fld_encoding->enc_type;
		}
	idx = 0;
	ck_assert_int_eq(mailmime_part_parse(found->mm_data.mm_single->
	    dt_data.dt_text.dt_data, found->mm_data.mm_single->dt_data.
	    dt_text.dt_length, &idx, enc, &r, &rlen), MAILIMF_NO_ERROR);
	cs = mailmime_content_charset_get(found->mm_content_type);
	charset_to_utf8(cs, r, rlen, &u);
	mmap_string_unref(r);
	mailmime_free(mime);
	return buf_release(&u);
}

/* s without its CRs (libetpan decodes quoted-printable breaks as CRLF). */
static char *
no_cr(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++)
		if (*p != '\r')
			*w++ = *p;
	*w = '\0';
	return s;
}

/* The MIME type of the top and its parts, "mixed(alternative(...))". */
static void
structure(struct mailmime *m, struct buf *out)
{
	clistiter *it;

	if (m->mm_type == MAILMIME_MESSAGE) {
		structure(m->mm_data.mm_message.mm_msg_mime, out);
		return;
	}
	buf_adds(out, m->mm_content_type && m->mm_content_type->ct_subtype ?
	    m->mm_content_type->ct_subtype : "?");
	if (m->mm_type != MAILMIME_MULTIPLE)
		return;
	buf_addc(out, '(');
	for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
	    it = clist_next(it)) {
		structure(clist_content(it), out);
		if (clist_next(it))
			buf_addc(out, ',');
	}
	buf_addc(out, ')');
}

static char *
structure_of(const char *msg, size_t len)
{
	struct mailmime *mime = NULL;
	struct buf b = BUF_INIT;
	size_t idx = 0;

	ck_assert_int_eq(mailmime_parse(msg, len, &idx, &mime),
	    MAILIMF_NO_ERROR);
	structure(mime, &b);
	mailmime_free(mime);
	return buf_release(&b);
}

/* FOOTER_UTF8 added to msg, with the list's charset lcs. */
static enum footer_how
add(struct buf *msg, const char *lcs)
{
	return footer_add(msg, FOOTER_UTF8, lcs, "T");
}

START_TEST(t_footer_text_plain)
{
	struct buf m = BUF_INIT, f = BUF_INIT;
	char *t;

	/* UTF-8, 8bit: appended as it is. */
	buf_adds(&m, "Subject: a\nContent-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n本文\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_INLINE);
	ck_assert_str_eq(buf_cstr(&m), "Subject: a\nContent-Type: text/plain; "
	    "charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n本文\n"
	    FOOTER_UTF8);

	/* ISO-2022-JP: the footer in ISO-2022-JP, octet for octet. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/plain; charset=ISO-2022-JP\n\n"
	    "\033$B$3$s$K$A$O\033(B");	/* no final newline */
	ck_assert_int_eq(add(&m, NULL), FOOTER_INLINE);
	charset_from_utf8("ISO-2022-JP", FOOTER_UTF8, strlen(FOOTER_UTF8), &f);
	ck_assert_int_eq(m.len, strlen("Content-Type: text/plain; "
	    "charset=ISO-2022-JP\n\n\033$B$3$s$K$A$O\033(B\n") + f.len);
	ck_assert(memcmp(m.data + m.len - f.len, f.data, f.len) == 0);
	t = last_text(m.data, m.len);
	ck_assert_str_eq(t, "こんにちは\n" FOOTER_UTF8);
	free(t);
	for (size_t i = 0; i < m.len; i++)
		ck_assert((unsigned char)m.data[i] < 0x80);

	/* Shift_JIS, unlabelled (no MIME at all): guessed, same charset. */
	buf_reset(&m);
	buf_reset(&f);
	buf_adds(&m, "Subject: x\n\n");
	charset_from_utf8("Shift_JIS", "会議です。\n", strlen("会議です。\n"),
	    &m);
	ck_assert_int_eq(add(&m, NULL), FOOTER_INLINE);
	charset_from_utf8("Shift_JIS", FOOTER_UTF8, strlen(FOOTER_UTF8), &f);
	ck_assert(memcmp(m.data + m.len - f.len, f.data, f.len) == 0);

	/* EUC-JP labelled, 7bit declared: 8-bit text becomes 8bit. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/plain; charset=EUC-JP\n"
	    "Content-Transfer-Encoding: 7bit\n\nabc\n");
	ck_assert_int_eq(footer_add(&m, "世田谷です\n", NULL, "T"),
	    FOOTER_INLINE);
	ck_assert_str_eq(buf_cstr(&m), "Content-Type: text/plain; "
	    "charset=EUC-JP\nContent-Transfer-Encoding: 8bit\n\nabc\n"
	    "\xc0\xa4\xc5\xc4\xc3\xab\xa4\xc7\xa4\xb9\n");
	t = last_text(m.data, m.len);
	ck_assert_str_eq(t, "abc\n世田谷です\n");
	free(t);
	/* EUC-JP readers differ on ① and ㈱: a part of its own. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/plain; charset=EUC-JP\n\nabc\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_WRAPPED);
	buf_free(&m);
	buf_free(&f);
}
END_TEST

START_TEST(t_footer_encodings)
{
	struct buf m = BUF_INIT;
	char *t;

	/* base64 with CRLF text: decoded, extended with CRLF, re-encoded. */
	buf_adds(&m, "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "5Lya6K2w44Gn44GZ44CCDQo=\n");	/* "会議です。\r\n" */
	ck_assert_int_eq(add(&m, NULL), FOOTER_INLINE);
	t = last_text(m.data, m.len);
	{
		struct buf want = BUF_INIT;

		buf_adds(&want, "会議です。\r\n");
		for (const char *p = FOOTER_UTF8; *p; p++) {
			if (*p == '\n')
				buf_addc(&want, '\r');
			buf_addc(&want, *p);
		}
		ck_assert_str_eq(t, buf_cstr(&want));
		buf_free(&want);
	}
	free(t);
	for (const char *p = strstr(m.data, "\n\n") + 2; *p; ) {
		const char *eol = strchr(p, '\n');

		ck_assert(eol && eol - p <= 76);
		p = eol + 1;
	}

	/* Quoted-printable ending in a soft break. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "=E4=BC=9A=E8=AD=B0=\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_INLINE);
	t = no_cr(last_text(m.data, m.len));
	ck_assert_str_eq(t, "会議\n" FOOTER_UTF8);
	free(t);
	ck_assert_ptr_nonnull(strstr(m.data, "=E4=BC=9A=E8=AD=B0=\n\n"));

	/* An unknown transfer encoding: left alone, footer apart. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/plain\n"
	    "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 a\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_WRAPPED);
	t = structure_of(m.data, m.len);
	ck_assert_str_eq(t, "mixed(plain,plain)");
	free(t);
	buf_free(&m);
}
END_TEST

START_TEST(t_footer_structures)
{
	static const char mixed[] =
	    "Subject: m\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain; charset=UTF-8\n\ntext\n"
	    "--b\nContent-Type: image/png\n\nPNG\n"
	    "--b--\nepilogue\n";
	static const char alt[] =
	    "Subject: a\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"a\"\n"
	    "Content-Transfer-Encoding: 7bit\n\n"
	    "--a\nContent-Type: text/plain\n\ntext\n"
	    "--a\nContent-Type: text/html\n\n<p>text</p>\n"
	    "--a--\n";
	static const char sig[] =
	    "Subject: s\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/signed; boundary=\"s\"; "
	    "protocol=\"application/pgp-signature\"\n\n"
	    "--s\nContent-Type: text/plain\n\nsigned\n"
	    "--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n";
	struct buf m = BUF_INIT;
	char *t;

	/* multipart/mixed: a new part before the close delimiter. */
	buf_adds(&m, mixed);
	ck_assert_int_eq(add(&m, NULL), FOOTER_PART);
	t = strstr(m.data, "--b--\n");
	ck_assert_ptr_nonnull(t);
	ck_assert(strncmp(m.data, mixed, strlen(mixed) - strlen("--b--\n"
	    "epilogue\n")) == 0);
	ck_assert_str_eq(t, "--b--\nepilogue\n");
	ck_assert_ptr_nonnull(strstr(m.data, "PNG\n--b\nContent-Type: "
	    "text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n"
	    "Content-Disposition: inline\n\n"));
	t = structure_of(m.data, m.len);
	ck_assert_str_eq(t, "mixed(plain,png,plain)");
	free(t);
	t = last_text(m.data, m.len);
	ck_assert_str_eq(t, FOOTER_UTF8);
	free(t);

	/* The list's charset for the footer part, when it carries it. */
	buf_reset(&m);
	buf_adds(&m, mixed);
	ck_assert_int_eq(add(&m, "ISO-2022-JP"), FOOTER_PART);
	ck_assert_ptr_nonnull(strstr(m.data, "charset=ISO-2022-JP\n"
	    "Content-Transfer-Encoding: 7bit\n"));
	t = last_text(m.data, m.len);
	ck_assert_str_eq(t, FOOTER_UTF8);
	free(t);

	/* multipart/alternative: wrapped, the alternatives untouched. */
	buf_reset(&m);
	buf_adds(&m, alt);
	ck_assert_int_eq(add(&m, NULL), FOOTER_WRAPPED);
#define WRAPPED_HEAD \
	    "Subject: a\nMIME-Version: 1.0\n" \
	    "Content-Type: multipart/mixed; boundary=\"=_mls_footer_T_0\"\n\n" \
	    "--=_mls_footer_T_0\n" \
	    "Content-Type: multipart/alternative; boundary=\"a\"\n" \
	    "Content-Transfer-Encoding: 7bit\n\n" \
	    "--a\nContent-Type: text/plain\n\ntext\n"
	ck_assert(strncmp(m.data, WRAPPED_HEAD, strlen(WRAPPED_HEAD)) == 0);
	ck_assert_ptr_nonnull(strstr(m.data, strstr(alt, "--a\n")));
	t = structure_of(m.data, m.len);
	ck_assert_str_eq(t, "mixed(alternative(plain,html),plain)");
	free(t);
	t = last_text(m.data, m.len);
	ck_assert_str_eq(t, FOOTER_UTF8);
	free(t);

	/* multipart/signed: nothing changes. */
	buf_reset(&m);
	buf_adds(&m, sig);
	ck_assert_int_eq(add(&m, NULL), FOOTER_SKIPPED);
	ck_assert_str_eq(buf_cstr(&m), sig);

	/* A lone text/html, and ASCII text with a Japanese footer. */
	buf_reset(&m);
	buf_adds(&m, "Content-Type: text/html; charset=UTF-8\n\n<p>x</p>\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_WRAPPED);
	t = structure_of(m.data, m.len);
	ck_assert_str_eq(t, "mixed(html,plain)");
	free(t);
	buf_reset(&m);
	buf_adds(&m, "Subject: x\nContent-Type: text/plain; charset=us-ascii\n"
	    "\nhello\n");
	ck_assert_int_eq(add(&m, NULL), FOOTER_WRAPPED);
	t = structure_of(m.data, m.len);
	ck_assert_str_eq(t, "mixed(plain,plain)");
	free(t);
	ck_assert_ptr_nonnull(strstr(m.data, "MIME-Version: 1.0\n"));

	/* No footer configured: nothing at all. */
	buf_reset(&m);
	buf_adds(&m, alt);
	ck_assert_int_eq(footer_add(&m, "", NULL, "T"), FOOTER_NONE);
	ck_assert_str_eq(buf_cstr(&m), alt);
	buf_free(&m);
}
END_TEST

/* ---------------------------------------------------------------- dmarc */

START_TEST(t_dmarc_records)
{
	char org[256];

	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=reject; rua=mailto:a@b", 0),
	    1);
	ck_assert_int_eq(dmarc_parse("v=DMARC1;p=quarantine", 0), 1);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=none", 0), 0);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=none; sp=reject", 1), 1);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p=reject; sp=none", 1), 0);
	ck_assert_int_eq(dmarc_parse("v=DMARC1; p = Reject ", 0), 1);
	dmarc_org_domain("mail.example.co.jp", org, sizeof(org));
	ck_assert_str_eq(org, "example.co.jp");
	dmarc_org_domain("a.b.example.com", org, sizeof(org));
	ck_assert_str_eq(org, "example.com");
	dmarc_org_domain("example.jp", org, sizeof(org));
	ck_assert_str_eq(org, "example.jp");
	dmarc_org_domain("x.example.jp", org, sizeof(org));
	ck_assert_str_eq(org, "example.jp");
	dmarc_org_domain("example.ac.uk", org, sizeof(org));
	ck_assert_str_eq(org, "example.ac.uk");
}
END_TEST

/* ---------------------------------------------------------------- corpus */

static const char *
srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s && *s ? s : "..";
}

START_TEST(t_corpus)
{
	struct buf path = BUF_INIT, errors = BUF_INIT, conf = BUF_INIT;
	struct buf out = BUF_INIT;
	struct config *cf = NULL;
	const struct list *l;
	char *dir = tu_tmpdir(), *cpath, *raw, *want, *subj, *t, *v;
	const char *update = getenv("MLS_CORPUS_UPDATE");
	struct dirent **names;
	size_t len, wlen;
	int n, i, checked = 0;

	buf_printf(&conf, "domain = \"lists.example.org\";\n"
	    "lists = ( { name = \"corpus\"; scope = \"network\"; "
	    "policy = \"open\"; description = \"コーパス\"; "
	    "subject_prefix = \"[世田谷]\"; footer = \"%s\"; } );\n",
	    "\\n--------\\n世田谷パートナーズの会 ①㈱髙\\n投稿: %{post}\\n");
	cpath = tu_write(dir, "c.conf", buf_cstr(&conf));
	ck_assert_int_eq(config_load(cpath, &cf, &errors), 0);
	l = config_list(cf, "corpus");
	buf_printf(&path, "%s/tests/corpus/ja", srcdir());
	n = scandir(buf_cstr(&path), &names, NULL, alphasort);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++) {
		char *name = names[i]->d_name, *dot = strrchr(name, '.');

		if (dot == NULL || strcmp(dot, ".eml") != 0) {
			free(names[i]);
			continue;
		}
		*dot = '\0';
		buf_reset(&path);
		buf_printf(&path, "%s/tests/corpus/ja/%s.eml", srcdir(), name);
		raw = slurp(buf_cstr(&path), &len);
		ck_assert_ptr_nonnull(raw);
		buf_reset(&out);
		{
			struct buf lf = BUF_INIT;

			mime_lf(&lf, raw, len);
			post_output(&out, cf, l, NULL, lf.data, lf.len, "TAG");
			buf_free(&lf);
		}
		buf_reset(&path);
		buf_printf(&path, "%s/tests/corpus/ja/%s.out", srcdir(), name);
		if (update && *update == '1') {
			FILE *fp = fopen(buf_cstr(&path), "wb");

			ck_assert_ptr_nonnull(fp);
			fwrite(out.data, 1, out.len, fp);
			fclose(fp);
		}
		want = slurp(buf_cstr(&path), &wlen);
		ck_assert_msg(want != NULL, "%s.out is missing", name);
		ck_assert_msg(wlen == out.len && memcmp(want, out.data,
		    wlen) == 0, "%s: output differs from %s.out:\n%s", name,
		    name, buf_cstr(&out));

		/* Parsed back: the subject, as libetpan decodes it... */
		buf_reset(&path);
		buf_printf(&path, "%s/tests/corpus/ja/%s.subject", srcdir(),
		    name);
		subj = slurp(buf_cstr(&path), NULL);
		ck_assert_ptr_nonnull(subj);
		*strchr(subj, '\n') = '\0';
		v = mime_field_value(out.data, out.len, "Subject");
		t = etpan_decode(v);
		ck_assert_msg(strcmp(t, subj) == 0, "%s: subject \"%s\", want "
		    "\"%s\"", name, t, subj);
		{
			/* The Subject field alone: first line and folds. */
			const char *f = strstr(out.data, "\nSubject: ") + 1;
			const char *e = f;

			do
				e = strchr(e, '\n') + 1;
			while (*e == ' ' || *e == '\t');
			char *sf = strndup(f, (size_t)(e - f - 1));

			check_lengths(sf);
			free(sf);
		}
		free(t);
		free(v);
		/* ...and the text ends with the footer (not when signed). */
		t = no_cr(last_text(out.data, out.len));
		if (strcmp(name, "signed") == 0)
			ck_assert_str_eq(t, "署名付きです。\n");
		else
			ck_assert_msg(strlen(t) >= strlen(FOOTER_UTF8) &&
			    strcmp(t + strlen(t) - strlen(FOOTER_UTF8),
			    FOOTER_UTF8) == 0, "%s: text without the footer: "
			    "%s", name, t);
		ck_assert_ptr_null(strstr(t, TEXT_REPLACEMENT));
		free(t);
		free(subj);
		free(want);
		free(raw);
		free(names[i]);
		checked++;
	}
	free(names);
	ck_assert_int_ge(checked, 15);
	config_free(cf);
	free(cpath);
	tu_rmdir(dir);
	free(dir);
	buf_free(&path);
	buf_free(&errors);
	buf_free(&conf);
	buf_free(&out);
}
END_TEST

static Suite *
listmail_suite(void)
{
	Suite *s = suite_create("listmail");
	TCase *tc;

	tc = tcase_create("subject");
	tcase_add_test(tc, t_subject_normalize);
	tcase_add_test(tc, t_subject_iso2022jp);
	tcase_add_test(tc, t_subject_long_and_fallback);
	tcase_add_test(tc, t_words_whole);
	tcase_add_test(tc, t_recode_header);
	suite_add_tcase(s, tc);
	tc = tcase_create("footer");
	tcase_add_test(tc, t_footer_text_plain);
	tcase_add_test(tc, t_footer_encodings);
	tcase_add_test(tc, t_footer_structures);
	suite_add_tcase(s, tc);
	tc = tcase_create("dmarc");
	tcase_add_test(tc, t_dmarc_records);
	suite_add_tcase(s, tc);
	tc = tcase_create("corpus");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_corpus);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(listmail_suite());
}
