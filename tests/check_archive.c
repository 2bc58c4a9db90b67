/*
 * check_archive - the archive's pages and files without a daemon:
 * escaping (html.c), hidden addresses, mboxrd, a Japanese ISO-2022-JP
 * message decoded on its page, HTML parts never rendered, attachments
 * saved under safe names, thread nesting and atomic writes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "archive_render.h"
#include "buf.h"
#include "html.h"
#include "testutil.h"

static char *
escaped(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	html_escape(&b, s, len);
	buf_cstr(&b);
	return buf_release(&b);
}

START_TEST(t_escape)
{
	char *s;

	s = escaped("<a href=\"x\">&'", 14);
	ck_assert_str_eq(s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	free(s);
	/* Invalid UTF-8, overlong forms, surrogates, controls: U+FFFD. */
	s = escaped("a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\x01" "e", 12);
	ck_assert_str_eq(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
	    "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "d\xef\xbf\xbd" "e");
	free(s);
	/* A character cut short at the end of the input. */
	s = escaped("\xe6\x97", 2);
	ck_assert_str_eq(s, "\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = escaped("日本語\r\n①\t", strlen("日本語\r\n①\t"));
	ck_assert_str_eq(s, "日本語\n①\t");
	free(s);
}
END_TEST

START_TEST(t_addr)
{
	struct buf b = BUF_INIT;

	html_addr(&b, "taro@example.jp");
	ck_assert_str_eq(buf_cstr(&b), "taro at example\xe2\x80\xa6");
	buf_reset(&b);
	html_addr(&b, "\"<x>\"@localhost");
	ck_assert_str_eq(buf_cstr(&b), "&quot;&lt;x&gt;&quot; at localhost");
	ck_assert_ptr_null(strchr(buf_cstr(&b), '@'));
	buf_free(&b);
}
END_TEST

START_TEST(t_begin_end)
{
	struct buf b = BUF_INIT;
	const char *s;

	html_begin(&b, "ja", "件名 <b>", "../");
	html_end(&b);
	s = buf_cstr(&b);
	ck_assert_ptr_nonnull(strstr(s, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(s, "<html lang=\"ja\">"));
	ck_assert_ptr_nonnull(strstr(s, "<meta charset=\"utf-8\">"));
	ck_assert_ptr_nonnull(strstr(s, "name=\"viewport\""));
	ck_assert_ptr_nonnull(strstr(s, "<title>件名 &lt;b&gt;</title>"));
	ck_assert_ptr_nonnull(strstr(s, "href=\"../style.css\""));
	ck_assert_ptr_null(strstr(s, "<script"));
	buf_free(&b);
}
END_TEST

START_TEST(t_mboxrd)
{
	static const char raw[] = "Subject: x\n\nFrom me\n>From you\n"
	    "not From\n>>From x\nlast";
	struct buf b = BUF_INIT;
	const char *s;

	archive_mboxrd(&b, "taro@example.jp", 0, raw, strlen(raw));
	s = buf_cstr(&b);
	ck_assert_str_eq(s, "From taro@example.jp Thu Jan  1 00:00:00 1970\n"
	    "Subject: x\n\n>From me\n>>From you\nnot From\n>>>From x\n"
	    "last\n\n");
	buf_free(&b);
}
END_TEST

START_TEST(t_safe_name)
{
	struct buf b = BUF_INIT;

	archive_safe_name(&b, "../../evil.html");
	ck_assert_str_eq(buf_cstr(&b), "evil.html.bin");
	buf_reset(&b);
	archive_safe_name(&b, "議事録 12月.pdf");
	ck_assert_str_eq(buf_cstr(&b), "_12_.pdf");
	buf_reset(&b);
	archive_safe_name(&b, NULL);
	ck_assert_str_eq(buf_cstr(&b), "part.bin");
	buf_reset(&b);
	archive_safe_name(&b, "a.SVG");
	ck_assert_str_eq(buf_cstr(&b), "a.SVG.bin");
	buf_free(&b);
}
END_TEST

static struct archive_entry
entry(long long n, const char *subject, const char *msgid,
    const char *parent)
{
	struct archive_entry e;

	memset(&e, 0, sizeof(e));
	e.n = n;
	strcpy(e.month, "2026-12");
	e.date = (char *)"2026-12-05 14:00";
	e.subject = (char *)subject;
	e.from_addr = (char *)"taro@example.jp";
	e.from_name = (char *)"山田太郎";
	e.msgid = (char *)msgid;
	e.parent = (char *)parent;
	return e;
}

START_TEST(t_page_iso2022jp)
{
	/* 日本語 and NEC row 13's ① (CP50220), as Japanese clients send. */
	static const char raw[] =
	    "From: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <taro@example.jp>\n"
	    "Subject: test\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=ISO-2022-JP\n"
	    "Content-Transfer-Encoding: 7bit\n\n"
	    "\x1b$BF|K\\8l\x1b(B <b>\n\x1b$B-!\x1b(B\n";
	struct archive_entry e = entry(7, "<script>件名</script>", "a", "");
	struct buf b = BUF_INIT;
	const char *s;

	ck_assert_int_eq(archive_render_page(&b, "ja", "setagaya", &e, raw,
	    strlen(raw), NULL), 0);
	s = buf_cstr(&b);
	ck_assert_ptr_nonnull(strstr(s, "日本語 &lt;b&gt;\n①"));
	ck_assert_ptr_nonnull(strstr(s, "&lt;script&gt;件名&lt;/script&gt;"));
	ck_assert_ptr_null(strstr(s, "<script"));
	ck_assert_ptr_null(strstr(s, "taro@example.jp"));
	ck_assert_ptr_nonnull(strstr(s, "山田太郎 (taro at example"));
	buf_free(&b);
}
END_TEST

START_TEST(t_page_charsets)
{
	/* 日本 in Shift_JIS, EUC-JP, UTF-8 in base64, and undeclared. */
	static const char *const raws[] = {
	    "Content-Type: text/plain; charset=Shift_JIS\n"
	    "Content-Transfer-Encoding: 8bit\n\n\x93\xfa\x96\x7b\n",
	    "Content-Type: text/plain; charset=EUC-JP\n\n\xc6\xfc\xcb\xdc\n",
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n5pel5pysCg==\n",
	    "Subject: x\n\n\x1b$BF|K\\\x1b(B\n",
	};
	struct archive_entry e = entry(2, "x", "a", "");
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		buf_reset(&b);
		ck_assert_int_eq(archive_render_page(&b, "ja", "setagaya", &e,
		    raws[i], strlen(raws[i]), NULL), 0);
		ck_assert_msg(strstr(buf_cstr(&b), ">日本\n</pre>") != NULL,
		    "message %zu: %s", i, buf_cstr(&b));
	}
	buf_free(&b);
}
END_TEST

START_TEST(t_page_html_and_attachment)
{
	static const char raw[] =
	    "Subject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"B1\"\n\n"
	    "--B1\n"
	    "Content-Type: multipart/alternative; boundary=\"B2\"\n\n"
	    "--B2\nContent-Type: text/plain; charset=utf-8\n\n"
	    "plain words\n"
	    "--B2\nContent-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "<b>bold</b><script>alert(1)</script><a href=3D\"javascript:x\">"
	    "y</a>\n"
	    "--B2--\n"
	    "--B1\nContent-Type: text/html; name=\"../../evil.html\"\n"
	    "Content-Disposition: attachment; filename=\"../../evil.html\"\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "PHNjcmlwdD54PC9zY3JpcHQ+\n"
	    "--B1--\n";
	struct archive_entry e = entry(3, "x", "a", "");
	struct buf b = BUF_INIT;
	char *dir = tu_tmpdir(), path[512], data[64];
	const char *s;
	FILE *fp;
	size_t n;

	ck_assert_ptr_nonnull(dir);
	ck_assert_int_eq(archive_render_page(&b, "en", "meguro", &e, raw,
	    strlen(raw), dir), 0);
	s = buf_cstr(&b);
	ck_assert_ptr_nonnull(strstr(s, "plain words"));
	/* The HTML part is shown as its source, never as markup. */
	ck_assert_ptr_nonnull(strstr(s, "&lt;b&gt;bold&lt;/b&gt;"));
	ck_assert_ptr_null(strstr(s, "<b>"));
	ck_assert_ptr_null(strstr(s, "<script"));
	ck_assert_ptr_null(strstr(s, "href=\"javascript"));
	/* The attachment: listed, saved under a name of ours, inert. */
	ck_assert_ptr_nonnull(strstr(s, "href=\"3-5-evil.html.bin\""));
	ck_assert_ptr_nonnull(strstr(s, "../../evil.html</a> (text/html, "
	    "18 bytes)"));
	snprintf(path, sizeof(path), "%s/3-5-evil.html.bin", dir);
	fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	n = fread(data, 1, sizeof(data) - 1, fp);
	fclose(fp);
	data[n] = '\0';
	ck_assert_str_eq(data, "<script>x</script>");
	tu_rmdir(dir);
	free(dir);
	buf_free(&b);
}
END_TEST

START_TEST(t_page_malformed)
{
	/* HTML only, and a multipart that never closes or has no parts. */
	static const char *const raws[] = {
	    "Subject: x\nContent-Type: text/html\n\n"
	    "<img src=x onerror=alert(1)><a href=\"javascript:y\">z</a>\n",
	    "Subject: x\nContent-Type: multipart/mixed; boundary=Q\n\n"
	    "--Q\nContent-Type: text/plain\n\nunclosed <i>\n--Q\n"
	    "Content-Type: text/html\n\n<svg onload=alert(1)>",
	    "Subject: x\nContent-Type: multipart/mixed\n\n<b>no boundary",
	    "Subject: x\nContent-Type: multipart/mixed; boundary=Z\n\n"
	    "<script>nothing</script>",
	    "",
	};
	struct archive_entry e = entry(1, "x", "a", "");
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		buf_reset(&b);
		ck_assert_int_eq(archive_render_page(&b, "en", "meguro", &e,
		    raws[i], strlen(raws[i]), NULL), 0);
		ck_assert_ptr_null(strstr(buf_cstr(&b), "<img"));
		ck_assert_ptr_null(strstr(buf_cstr(&b), "<svg"));
		ck_assert_ptr_null(strstr(buf_cstr(&b), "<script"));
		ck_assert_ptr_null(strstr(buf_cstr(&b), "<i>"));
		ck_assert_ptr_null(strstr(buf_cstr(&b), "<b>"));
		ck_assert_ptr_null(strstr(buf_cstr(&b), "href=\"javascript"));
	}
	buf_reset(&b);
	archive_render_page(&b, "en", "meguro", &e, raws[1], strlen(raws[1]),
	    NULL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "unclosed &lt;i&gt;"));
	buf_reset(&b);
	archive_render_page(&b, "en", "meguro", &e, raws[2], strlen(raws[2]),
	    NULL);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&b), "&lt;b&gt;no boundary"));
	buf_free(&b);
}
END_TEST

START_TEST(t_thread)
{
	struct archive_entry v[3];
	struct buf b = BUF_INIT;
	const char *s, *a1, *ul, *a2, *a3;

	v[0] = entry(1, "first", "m1@x", "");
	v[1] = entry(2, "Re: first", "m2@x", "m1@x");
	v[2] = entry(3, "other", "m3@x", "gone@x");
	archive_render_thread(&b, "en", "meguro", "2026-12", v, 3);
	s = buf_cstr(&b);
	a1 = strstr(s, "href=\"1.html\"");
	a2 = strstr(s, "href=\"2.html\"");
	a3 = strstr(s, "href=\"3.html\"");
	ck_assert_ptr_nonnull(a1);
	ck_assert_ptr_nonnull(a2);
	ck_assert_ptr_nonnull(a3);
	ul = strstr(a1, "<ul>");
	/* 2 sits in a list opened inside 1's item; 3 starts a thread. */
	ck_assert_ptr_nonnull(ul);
	ck_assert(ul < a2);
	ck_assert(strstr(a2, "</ul>") < a3);
	buf_free(&b);
}
END_TEST

START_TEST(t_write)
{
	struct buf b = BUF_INIT, p = BUF_INIT;
	char *dir = tu_tmpdir();
	struct stat sb;

	ck_assert_ptr_nonnull(dir);
	buf_adds(&b, "<p>x</p>\n");
	buf_printf(&p, "%s/a/b/index.html", dir);
	ck_assert_int_eq(html_write(buf_cstr(&p), &b), 0);
	ck_assert_int_eq(stat(buf_cstr(&p), &sb), 0);
	ck_assert_int_eq((int)sb.st_size, 9);
	ck_assert_int_eq(html_write_style(dir), 0);
	buf_reset(&p);
	buf_printf(&p, "%s/style.css", dir);
	ck_assert_int_eq(stat(buf_cstr(&p), &sb), 0);
	ck_assert_int_gt((int)sb.st_size, 100);
	tu_rmdir(dir);
	free(dir);
	buf_free(&b);
	buf_free(&p);
}
END_TEST

static Suite *
archive_suite(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("html");

	tcase_add_test(tc, t_escape);
	tcase_add_test(tc, t_addr);
	tcase_add_test(tc, t_begin_end);
	tcase_add_test(tc, t_write);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_test(tc, t_mboxrd);
	tcase_add_test(tc, t_safe_name);
	tcase_add_test(tc, t_page_iso2022jp);
	tcase_add_test(tc, t_page_charsets);
	tcase_add_test(tc, t_page_html_and_attachment);
	tcase_add_test(tc, t_page_malformed);
	tcase_add_test(tc, t_thread);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(archive_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
