/*
 * Unit tests: the message filters (filters/), one test case per filter,
 * their order in a chain, the approved mode, and the configuration
 * errors they report with FILE:LINE.  Chains are read from real
 * configuration files, as mlserverd reads them.
 */
#include <check.h>
#include <signal.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "config.h"
#include "filter.h"
#include "mime.h"
#include "testutil.h"

static char *dir;
static struct config *cf;
static struct buf conftext;

#define LISTS_HEAD							\
	"domain = \"lists.example.org\";\n"				\
	"lists = ( { name = \"test\"; scope = \"network\";\n"		\
	"  filters = (\n"

static void
setup(void)
{
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	cf = NULL;
	buf_init(&conftext);
}

static void
teardown(void)
{
	config_free(cf);
	cf = NULL;
	buf_free(&conftext);
	tu_rmdir(dir);
	free(dir);
}

/* Loads a config whose list "test" has the given filter entries. */
static char *
load_filters(const char *entries)
{
	struct buf errors = BUF_INIT;
	char *path;

	buf_reset(&conftext);
	buf_printf(&conftext, "%s%s\n  ); } );\n", LISTS_HEAD, entries);
	path = tu_write(dir, "test.conf", buf_cstr(&conftext));
	config_free(cf);
	cf = NULL;
	config_load(path, &cf, &errors);
	free(path);
	return buf_release(&errors);
}

static const struct filter_chain *
chain(const char *entries)
{
	char *err = load_filters(entries);

	ck_assert_msg(*err == '\0', "config errors: %s", err);
	free(err);
	ck_assert_ptr_nonnull(cf);
	ck_assert_ptr_nonnull(cf->lists[0].filters);
	return cf->lists[0].filters;
}

/* Runs a chain on msg; r must be freed. */
static void
run(const struct filter_chain *c, const char *msg, int approved,
    struct filter_result *r)
{
	struct filter_msg m;

	filter_msg_init(&m, msg, strlen(msg));
	m.sender = "poster@example.jp";
	m.from = "poster@example.jp";
	m.list = "test";
	m.list_addr = "test@lists.example.org";
	m.list_id = "test.lists.example.org";
	m.ja = 1;
	filter_run(c, &m, approved, r);
	filter_msg_free(&m);
}

#define SIMPLE								\
	"From: poster@example.jp\r\n"					\
	"To: test@lists.example.org\r\n"				\
	"Subject: hello\r\n"						\
	"Message-ID: <1@example.jp>\r\n"				\
	"\r\n"								\
	"body\r\n"

/* ---------------------------------------------------------------- size */

START_TEST(t_size)
{
	const struct filter_chain *c = chain("{ type = \"size\"; max = 200; }");
	struct filter_result r;
	struct buf big = BUF_INIT;

	run(c, SIMPLE, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	ck_assert_ptr_null(r.reason);
	/* The message passes unchanged (LF line ends). */
	ck_assert_str_eq(buf_cstr(&r.raw), "From: poster@example.jp\n"
	    "To: test@lists.example.org\nSubject: hello\n"
	    "Message-ID: <1@example.jp>\n\nbody\n");
	filter_result_free(&r);

	buf_adds(&big, SIMPLE);
	for (int i = 0; i < 30; i++)
		buf_adds(&big, "0123456789\r\n");
	run(c, buf_cstr(&big), 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_str_eq(r.by, "size");
	ck_assert_ptr_nonnull(strstr(r.reason, "上限 200 バイト"));
	filter_result_free(&r);

	c = chain("{ type = \"size\"; max = 200; action = \"reject\"; }");
	run(c, buf_cstr(&big), 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_REJECT);
	filter_result_free(&r);
	buf_free(&big);
}
END_TEST

/* ---------------------------------------------------------------- mime */

#define MIXED_HEAD							\
	"From: poster@example.jp\n"					\
	"Subject: files\n"						\
	"MIME-Version: 1.0\n"						\
	"Content-Type: multipart/mixed; boundary=\"XX\"\n"		\
	"\n"								\
	"preamble\n"
#define PART_TEXT							\
	"--XX\n"							\
	"Content-Type: text/plain; charset=UTF-8\n"			\
	"\n"								\
	"本文\n"
#define PART_EXE							\
	"--XX\n"							\
	"Content-Type: application/x-msdownload; name=\"a.exe\"\n"	\
	"Content-Transfer-Encoding: base64\n"				\
	"\n"								\
	"TVqQAAMAAAAEAAAA\n"
#define PART_PDF							\
	"--XX\n"							\
	"Content-Type: application/pdf\n"				\
	"Content-Transfer-Encoding: base64\n"				\
	"\n"								\
	"JVBERi0xLjQK\n"
#define MIXED_TAIL	"--XX--\nepilogue\n"

START_TEST(t_mime_strip)
{
	const struct filter_chain *c = chain("{ type = \"mime\"; "
	    "strip = [ \"application/x-msdownload\" ]; }");
	struct filter_result r;
	struct mailmime *mime = NULL;
	size_t idx = 0;

	run(c, MIXED_HEAD PART_TEXT PART_EXE PART_PDF MIXED_TAIL, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	/* Only the part and its delimiter line went; all else as it was. */
	ck_assert_str_eq(buf_cstr(&r.raw),
	    MIXED_HEAD PART_TEXT PART_PDF MIXED_TAIL);
	ck_assert_int_eq(mailmime_parse(r.raw.data, r.raw.len, &idx, &mime),
	    MAILIMF_NO_ERROR);
	ck_assert_int_eq(clist_count(mime->mm_data.mm_message.mm_msg_mime->
	    mm_data.mm_multipart.mm_mp_list), 2);
	mailmime_free(mime);
	filter_result_free(&r);

	/* The last part too; and a major type alone matches. */
	c = chain("{ type = \"mime\"; strip = [ \"application\" ]; }");
	run(c, MIXED_HEAD PART_TEXT PART_EXE PART_PDF MIXED_TAIL, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	ck_assert_str_eq(buf_cstr(&r.raw), MIXED_HEAD PART_TEXT MIXED_TAIL);
	filter_result_free(&r);

	/* "pass": everything else goes, but never text/plain. */
	c = chain("{ type = \"mime\"; pass = [ \"application/pdf\" ]; }");
	run(c, MIXED_HEAD PART_TEXT PART_EXE PART_PDF MIXED_TAIL, 0, &r);
	ck_assert_str_eq(buf_cstr(&r.raw),
	    MIXED_HEAD PART_TEXT PART_PDF MIXED_TAIL);
	filter_result_free(&r);
}
END_TEST

START_TEST(t_mime_refuse_signed_empty)
{
	const struct filter_chain *c = chain("{ type = \"mime\"; "
	    "refuse = [ \"application/x-msdownload\" ]; }");
	struct filter_result r;
	static const char signed_msg[] =
	    "From: poster@example.jp\n"
	    "Content-Type: multipart/signed; boundary=\"S\"; "
	    "protocol=\"application/pgp-signature\"\n"
	    "\n"
	    "--S\n"
	    "Content-Type: multipart/mixed; boundary=\"XX\"\n"
	    "\n"
	    PART_TEXT PART_EXE MIXED_TAIL
	    "--S\n"
	    "Content-Type: application/pgp-signature\n"
	    "\n"
	    "-----BEGIN PGP SIGNATURE-----\n"
	    "--S--\n";

	run(c, MIXED_HEAD PART_TEXT PART_EXE MIXED_TAIL, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_REJECT);
	ck_assert_ptr_nonnull(strstr(r.reason, "application/x-msdownload"));
	filter_result_free(&r);

	/* Inside a signature nothing is removed: held instead. */
	c = chain("{ type = \"mime\"; strip = [ \"application\" ]; }");
	run(c, signed_msg, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_ptr_nonnull(strstr(r.reason, "署名"));
	ck_assert_str_eq(buf_cstr(&r.raw), signed_msg);
	filter_result_free(&r);

	/* A single part of a stripped type leaves nothing: rejected. */
	run(c, "From: a@example.jp\nContent-Type: application/zip\n\nPK\n", 0,
	    &r);
	ck_assert_int_eq(r.verdict, FILTER_REJECT);
	filter_result_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- headers */

START_TEST(t_headers)
{
	const struct filter_chain *c = chain("{ type = \"headers\"; "
	    "drop = [ \"X-Mailer\" ]; }");
	struct filter_result r;

	run(c, "From: poster@example.jp\r\n"
	    "Disposition-Notification-To: poster@example.jp\r\n"
	    "Subject: s\r\n"
	    "Return-Receipt-To:\r\n poster@example.jp\r\n"
	    "X-Confirm-Reading-To: poster@example.jp\r\n"
	    "DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\n"
	    "x-mailer: Foo\r\n"
	    "\r\n"
	    "Return-Receipt-To: stays in the body\r\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	ck_assert_str_eq(buf_cstr(&r.raw), "From: poster@example.jp\n"
	    "Subject: s\n"
	    "DKIM-Signature: v=1; a=rsa-sha256;\n\tb=abc\n"
	    "\n"
	    "Return-Receipt-To: stays in the body\n");
	filter_result_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- loop */

START_TEST(t_loop)
{
	const struct filter_chain *c = chain("{ type = \"loop\"; }");
	struct filter_result r;
	struct buf m = BUF_INIT;
	int i;

	run(c, "X-Loop: TEST@lists.example.org\nFrom: a@b.jp\n\nx\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	filter_result_free(&r);
	run(c, "List-Id: テスト <test.lists.example.org>\nFrom: a@b.jp\n\nx\n",
	    0, &r);
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	filter_result_free(&r);
	/* Another list's X-Loop is no loop of ours. */
	run(c, "X-Loop: other@lists.example.org\nFrom: a@b.jp\n\nx\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);
	/* Nor is a list whose name ends in ours ("pretest" holds "test"). */
	run(c, "X-Loop: pretest@lists.example.org\nFrom: a@b.jp\n\nx\n", 0,
	    &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);
	run(c, "X-Loop: <test@lists.example.org>, x@y.jp\nFrom: a@b.jp\n\nx\n",
	    0, &r);
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	filter_result_free(&r);

	for (i = 0; i < 30; i++)
		buf_printf(&m, "Received: from h%d by h%d;\n\tMon, 1 Jan 2026\n",
		    i, i + 1);
	buf_adds(&m, "From: a@b.jp\n\nReceived: not a header\n");
	run(c, buf_cstr(&m), 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);	/* 30: fine */
	filter_result_free(&r);
	buf_reset(&m);
	for (i = 0; i < 31; i++)
		buf_printf(&m, "Received: from h%d by h%d\n", i, i + 1);
	buf_adds(&m, "From: a@b.jp\n\nx\n");
	run(c, buf_cstr(&m), 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	ck_assert_ptr_nonnull(strstr(r.reason, "31"));
	filter_result_free(&r);
	buf_free(&m);
}
END_TEST

/* ---------------------------------------------------------------- recipients */

START_TEST(t_recipients)
{
	const struct filter_chain *c = chain("{ type = \"recipients\"; "
	    "max = 4; }");
	struct filter_result r;

	run(c, "From: a@b.jp\nTo: test@lists.example.org, x@y.jp\n"
	    "Cc: \"Z\" <z@y.jp>, w@y.jp\n\nx\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);	/* 4 */
	filter_result_free(&r);
	run(c, "From: a@b.jp\nTo: test@lists.example.org, x@y.jp\n"
	    "Cc: \"Z\" <z@y.jp>\nCc: team: p@y.jp, q@y.jp;\n\nx\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);	/* 5: group counts */
	ck_assert_ptr_nonnull(strstr(r.reason, "5 件"));
	filter_result_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- command */

START_TEST(t_command)
{
	const struct filter_chain *c;
	struct filter_result r;
	struct buf big = BUF_INIT;
	time_t t0;

	/* The message on stdin; exit status 1 is "hold" by default. */
	c = chain("{ type = \"command\"; command = [ \"/bin/sh\", \"-c\", "
	    "\"grep -q VIAGRA && { echo 'spam score 9.9'; exit 1; }; "
	    "exit 0\" ]; }");
	run(c, SIMPLE, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);
	run(c, "From: a@b.jp\nSubject: VIAGRA\n\nx\n", 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_str_eq(r.reason, "spam score 9.9");
	filter_result_free(&r);

	/* Listed statuses; anything else is "action". */
	c = chain("{ type = \"command\"; command = [ \"/bin/sh\", \"-c\", "
	    "\"exit $((`wc -l` % 4))\" ]; reject = [ 2 ]; discard = [ 3 ]; "
	    "action = \"discard\"; }");
	run(c, "A: b\n\nx\n", 0, &r);		/* 3 lines */
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	filter_result_free(&r);
	run(c, "A: b\n\n", 0, &r);		/* 2 lines */
	ck_assert_int_eq(r.verdict, FILTER_REJECT);
	ck_assert_ptr_nonnull(strstr(r.reason, "終了コード 2"));
	filter_result_free(&r);
	run(c, "A: b\n\nx\ny\n", 0, &r);	/* 4 lines: 0 */
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);

	/* A command that does not read a big message: no SIGPIPE. */
	c = chain("{ type = \"command\"; command = [ \"/bin/true\" ]; }");
	buf_adds(&big, SIMPLE);
	for (int i = 0; i < 20000; i++)
		buf_adds(&big, "0123456789012345678901234567890123456789\n");
	run(c, buf_cstr(&big), 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);
	buf_free(&big);

	/* A command that hangs is killed at the timeout: "action". */
	c = chain("{ type = \"command\"; command = [ \"/bin/sleep\", \"30\" ]; "
	    "timeout = 1; }");
	t0 = time(NULL);
	run(c, SIMPLE, 0, &r);
	ck_assert_int_le(time(NULL) - t0, 3);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_ptr_nonnull(strstr(r.reason, "1 秒"));
	filter_result_free(&r);

	/* No shell: the argument is one argument, metacharacters and all. */
	c = chain("{ type = \"command\"; command = [ \"/bin/echo\", "
	    "\"$(touch /tmp/mls-filter-pwned); x\" ]; accept = [ ]; "
	    "hold = [ 0 ]; }");
	run(c, SIMPLE, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_str_eq(r.reason, "$(touch /tmp/mls-filter-pwned); x");
	ck_assert_int_ne(access("/tmp/mls-filter-pwned", F_OK), 0);
	filter_result_free(&r);

	/* A command that cannot run: "action". */
	c = chain("{ type = \"command\"; command = [ \"/nonexistent/spamc\" ]; "
	    "action = \"reject\"; }");
	run(c, SIMPLE, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_REJECT);
	filter_result_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- chains */

START_TEST(t_order)
{
	static const char msg[] =
	    "X-Loop: test@lists.example.org\n"
	    "Disposition-Notification-To: a@b.jp\n"
	    "From: a@b.jp\n\n"
	    "0123456789012345678901234567890123456789\n";
	const struct filter_chain *c;
	struct filter_result r;

	/* Too big and looping: the first filter in the list decides. */
	c = chain("{ type = \"size\"; max = 50; },\n"
	    "{ type = \"loop\"; }");
	run(c, msg, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	ck_assert_str_eq(r.by, "size");
	filter_result_free(&r);
	c = chain("{ type = \"loop\"; },\n"
	    "{ type = \"size\"; max = 50; }");
	run(c, msg, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_DISCARD);
	ck_assert_str_eq(r.by, "loop");
	filter_result_free(&r);

	/* A rewrite earlier in the chain is what later filters see. */
	c = chain("{ type = \"headers\"; },\n"
	    "{ type = \"command\"; command = [ \"/bin/sh\", \"-c\", "
	    "\"! grep -q Disposition\" ]; }");
	run(c, msg, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	filter_result_free(&r);
	c = chain("{ type = \"command\"; command = [ \"/bin/sh\", \"-c\", "
	    "\"! grep -q Disposition\" ]; },\n"
	    "{ type = \"headers\"; }");
	run(c, msg, 0, &r);
	ck_assert_int_eq(r.verdict, FILTER_HOLD);
	filter_result_free(&r);

	/* Approved by a moderator: only rewriting filters run. */
	c = chain("{ type = \"size\"; max = 50; },\n"
	    "{ type = \"headers\"; },\n"
	    "{ type = \"loop\"; }");
	run(c, msg, 1, &r);
	ck_assert_int_eq(r.verdict, FILTER_ACCEPT);
	ck_assert_ptr_null(strstr(buf_cstr(&r.raw), "Disposition"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&r.raw), "X-Loop"));
	filter_result_free(&r);
}
END_TEST

START_TEST(t_config_errors)
{
	char *err;

	err = load_filters("{ type = \"antivirus\"; }");
	ck_assert_ptr_nonnull(strstr(err, "test.conf:4: a filter needs a "
	    "\"type\""));
	ck_assert_ptr_null(cf);
	free(err);
	err = load_filters("{ type = \"size\"; maximum = 3; }");
	ck_assert_ptr_nonnull(strstr(err, "test.conf:4: unknown filter "
	    "setting \"maximum\""));
	free(err);
	err = load_filters("{ type = \"size\";\n  action = \"bounce\"; }");
	ck_assert_ptr_nonnull(strstr(err, "test.conf:5: \"action\" must be"));
	free(err);
	err = load_filters("{ type = \"command\"; command = [ \"spamc\" ]; }");
	ck_assert_ptr_nonnull(strstr(err, "/absolute/path"));
	free(err);
	err = load_filters("{ type = \"command\"; command = [ \"/bin/true\" ];\n"
	    "  hold = [ 1, 300 ]; }");
	ck_assert_ptr_nonnull(strstr(err, "test.conf:5: \"hold\": exit "
	    "statuses"));
	free(err);
	err = load_filters("{ type = \"mime\"; strip = \"image\"; }");
	ck_assert_ptr_nonnull(strstr(err, "must be a list of strings"));
	free(err);
	/* And a good one loads, in order. */
	err = load_filters("{ type = \"loop\"; }, { type = \"size\"; }");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(cf->lists[0].filters->n, 2);
	ck_assert_str_eq(cf->lists[0].filters->v[0].type->name, "loop");
	ck_assert(filter_chain_rewrites(cf->lists[0].filters) == 0);
	free(err);
}
END_TEST

/* The other settings of issue 5, checked by mlserverctl check too. */
START_TEST(t_config_list_mail)
{
	struct buf errors = BUF_INIT;
	char *path;

	path = tu_write(dir, "m.conf", "domain = \"lists.example.org\";\n"
	    "moderation = { expire = 3600; notice_interval = 60; };\n"
	    "dmarc = { resolver = \"127.0.0.1:5353\"; timeout = 1; };\n"
	    "lists = ( { name = \"a\"; scope = \"network\";\n"
	    "  footer = \"-- \\n%{list}\"; charset = \"iso-2022-jp\";\n"
	    "  from_munging = \"when_needed\"; } );\n");
	ck_assert_int_eq(config_load(path, &cf, &errors), 0);
	ck_assert_int_eq(cf->moderation.expire, 3600);
	ck_assert_int_eq(cf->moderation.notice_interval, 60);
	ck_assert_str_eq(cf->dmarc.resolver, "127.0.0.1:5353");
	ck_assert_str_eq(cf->lists[0].charset, "ISO-2022-JP");
	ck_assert_str_eq(cf->lists[0].footer, "-- \n%{list}");
	ck_assert_int_eq(cf->lists[0].from_munging, MUNGE_WHEN_NEEDED);
	ck_assert_ptr_null(cf->lists[0].filters);
	config_free(cf);
	cf = NULL;
	free(path);

	/* Defaults. */
	path = tu_write(dir, "d.conf", "domain = \"lists.example.org\";\n"
	    "lists = ( { name = \"a\"; scope = \"network\"; charset = "
	    "\"UTF-8\"; } );\n");
	ck_assert_int_eq(config_load(path, &cf, &errors), 0);
	ck_assert_int_eq(cf->moderation.expire, 14 * 86400);
	ck_assert_int_eq(cf->moderation.notice_interval, 86400);
	ck_assert_ptr_null(cf->dmarc.resolver);
	ck_assert_int_eq(cf->dmarc.timeout, 2);
	ck_assert_ptr_null(cf->lists[0].charset);
	ck_assert_int_eq(cf->lists[0].from_munging, MUNGE_NEVER);
	config_free(cf);
	cf = NULL;
	free(path);

	/* Mistakes, each with its line. */
	path = tu_write(dir, "e.conf", "domain = \"lists.example.org\";\n"
	    "moderation = { expire = 0; };\n"
	    "dmarc = { resolver = \"dns.example\"; };\n"
	    "lists = ( { name = \"a\"; scope = \"network\";\n"
	    "  charset = \"shift_jis\";\n"
	    "  from_munging = \"sometimes\"; } );\n");
	ck_assert_int_ne(config_load(path, &cf, &errors), 0);
	ck_assert_ptr_nonnull(strstr(errors.data, "e.conf:2: \"expire\""));
	ck_assert_ptr_nonnull(strstr(errors.data, "e.conf:3: \"resolver\""));
	ck_assert_ptr_nonnull(strstr(errors.data, "e.conf:5: \"charset\""));
	ck_assert_ptr_nonnull(strstr(errors.data,
	    "e.conf:6: \"from_munging\""));
	free(path);
	buf_free(&errors);
}
END_TEST

static Suite *
filters_suite(void)
{
	Suite *s = suite_create("filters");
	TCase *tc = tcase_create("filters");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_size);
	tcase_add_test(tc, t_mime_strip);
	tcase_add_test(tc, t_mime_refuse_signed_empty);
	tcase_add_test(tc, t_headers);
	tcase_add_test(tc, t_loop);
	tcase_add_test(tc, t_recipients);
	tcase_add_test(tc, t_command);
	tcase_add_test(tc, t_order);
	tcase_add_test(tc, t_config_errors);
	tcase_add_test(tc, t_config_list_mail);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	signal(SIGPIPE, SIG_DFL);	/* as in mlserverctl: must not matter */
	return tu_run(filters_suite());
}
