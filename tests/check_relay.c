/*
 * check_relay - the submission relay's settings (config_relay.c) and the
 * reading of a provider's replies as sending limits (outq_rate.c).
 * Delivery through a real submission server: tests/test_submission.py.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "outq_rate.h"
#include "store.h"
#include "testutil.h"

static char *dir;

static void
setup(void)
{
	log_init("check_relay", 1, 0);
	ck_assert_ptr_nonnull(dir = tu_tmpdir());
}

static void
teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

/* Load "domain; relay = { RELAY };"; returns the errors (or ""). */
static char *
load(const char *relay, struct config **cf)
{
	struct buf text = BUF_INIT, errors = BUF_INIT;
	char *path;

	buf_printf(&text, "domain = \"lists.example.org\";\n"
	    "relay = {\n%s\n};\n", relay);
	ck_assert_ptr_nonnull(path = tu_write(dir, "test.conf",
	    buf_cstr(&text)));
	*cf = NULL;
	config_load(path, cf, &errors);
	free(path);
	buf_free(&text);
	return buf_release(&errors);
}

START_TEST(password_read_relative_to_the_config)
{
	struct config *cf;
	char *err, *pw;

	ck_assert_ptr_nonnull(pw = tu_write(dir, "relay.pw",
	    "s3cret pass\r\nsecond line ignored\n"));
	err = load("host = \"smtp.example.jp\"; port = 587; starttls = true;\n"
	    "user = \"lists@example.jp\"; password_file = \"relay.pw\";\n"
	    "max_recipients = 80; max_recipients_per_message = 30;\n"
	    "max_messages_per_hour = 100;", &cf);
	ck_assert_msg(cf != NULL, "%s", err);
	ck_assert_str_eq(cf->relay.user, "lists@example.jp");
	ck_assert_str_eq(cf->relay.password, "s3cret pass");
	ck_assert_str_eq(cf->relay.password_file, pw);
	ck_assert_int_eq(cf->relay.tls_noverify, 0);
	/* The provider's per-message limit caps each transaction. */
	ck_assert_int_eq(cf->relay.max_recipients, 30);
	ck_assert_int_eq(cf->relay.max_messages_per_hour, 100);
	config_free(cf);
	free(err);
	free(pw);
}
END_TEST

START_TEST(mistakes_have_lines)
{
	struct config *cf;
	char *err;

	err = load("host = \"[::1]\";\n"		/* line 3 */
	    "user = \"lists@example.jp\";\n"		/* 4: no TLS */
	    "password_file = \"/nonexistent/pw\";\n"	/* 5 */
	    "ca_file = \"ca.pem\";\n"			/* 6 */
	    "max_recipients_per_message = 0;\n"		/* 7 */
	    "tls_verify = 1;", &cf);			/* 8 */
	ck_assert_ptr_null(cf);
	ck_assert_msg(strstr(err, "test.conf:3: relay host \"[::1]\": IPv6 "
	    "addresses cannot be used") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:4: a password is sent only over "
	    "TLS") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:5: cannot read /nonexistent/pw")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:6: \"ca_file\" needs starttls")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:7: \"max_recipients_per_message\""
	    " must be between 1 and 1000") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:8: \"tls_verify\" must be true "
	    "or false") != NULL, "%s", err);
	free(err);
}
END_TEST

START_TEST(empty_password_and_lone_user)
{
	struct config *cf;
	char *err, *pw;

	ck_assert_ptr_nonnull(pw = tu_write(dir, "empty.pw", "\n"));
	free(pw);
	err = load("starttls = true; user = \"a@example.jp\";\n"
	    "password_file = \"empty.pw\";", &cf);
	ck_assert_ptr_null(cf);
	ck_assert_msg(strstr(err, "test.conf:4: ") != NULL &&
	    strstr(err, "empty.pw: the first line (the password) is empty") !=
	    NULL, "%s", err);
	free(err);
	err = load("starttls = true; user = \"a@example.jp\";", &cf);
	ck_assert_ptr_null(cf);
	ck_assert_msg(strstr(err, "test.conf:3: \"user\" needs "
	    "\"password_file\"") != NULL, "%s", err);
	free(err);
}
END_TEST

START_TEST(limit_replies)
{
	static const char *const limits[] = {
		"450 4.7.1 Error: too much mail from 127.0.0.1",
		"421 4.7.0 Try again later, closing connection",
		"451 4.3.0 Rate limit exceeded, slow down",
		"452 Too many messages sent, please wait",
		"450 4.2.1 The user you are trying to contact is receiving "
		    "mail at a rate that prevents additional messages",
		"451 Daily sending quota exceeded",
		NULL
	};
	static const char *const others[] = {
		"452 4.5.3 Error: too many recipients",
		"451 4.3.0 Error: queue file write error",
		"450 4.1.1 <x@example.jp>: Recipient address rejected: "
		    "unverified address: the moderated list",
		"550 5.7.1 Rate limit: refused for good",
		"250 2.0.0 Ok: queued",
		"connect to 127.0.0.1:25 failed: Connection refused",
		"",
		NULL
	};
	size_t i;

	for (i = 0; limits[i] != NULL; i++)
		ck_assert_msg(outq_rate_is_limit(limits[i]), "%s", limits[i]);
	for (i = 0; others[i] != NULL; i++)
		ck_assert_msg(!outq_rate_is_limit(others[i]), "%s", others[i]);
	ck_assert(!outq_rate_is_limit(NULL));
}
END_TEST

/* One transaction of one recipient that ended in state with reply. */
static void
note(struct store *st, const struct config *cf, enum deliver_state state,
    const char *reply)
{
	struct deliver_rcpt r = { "a@example.jp", state, NULL };
	struct deliver_txn t;

	memset(&t, 0, sizeof(t));
	r.reply = (char *)reply;
	t.rcpts = &r;
	t.nrcpts = 1;
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(outq_rate_note(st, cf, &t), 0);
	ck_assert_int_eq(store_commit(st), 0);
}

START_TEST(hourly_limit_and_pause)
{
	struct config cf;
	struct store *st;
	char *path;
	time_t now = time(NULL), t;

	memset(&cf, 0, sizeof(cf));
	cf.relay.host = (char *)"smtp.example.jp";
	cf.relay.port = 587;
	cf.relay.max_messages_per_hour = 2;
	cf.queue.retry_first = 100;
	cf.queue.retry_max = 300;
	ck_assert_int_ge(asprintf(&path, "%s/state.db", dir), 0);
	ck_assert_int_eq(store_open(path, &st), 0);

	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 2);
	ck_assert_int_eq(outq_rate_resume(st, &cf), 0);
	note(st, &cf, DELIVER_SENT, "250 2.0.0 Ok");
	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 1);
	note(st, &cf, DELIVER_FAILED, "550 5.1.1 unknown");	/* not taken */
	note(st, &cf, DELIVER_SENT, "250 2.0.0 Ok");
	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 0);
	t = outq_rate_resume(st, &cf);
	ck_assert_msg(t >= now + 3600 && t <= now + 3602, "%ld", (long)t);
	/* An hour later the places are free again. */
	ck_assert_int_eq(store_exec(st, "UPDATE relay_sends SET "
	    "ts = ts - 3600"), 0);
	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 2);

	/* A limit reply pauses everything, doubling, up to retry_max. */
	note(st, &cf, DELIVER_DEFERRED, "450 4.7.1 Error: too much mail");
	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 0);
	t = outq_rate_resume(st, &cf);
	ck_assert_msg(t >= now + 100 && t <= now + 102, "%ld", (long)t);
	/* The same session's other answers do not stretch the pause. */
	note(st, &cf, DELIVER_DEFERRED, "451 4.7.1 rate limited");
	ck_assert_int_eq(outq_rate_resume(st, &cf), t);
	ck_assert_int_eq(store_exec(st, "UPDATE relay_pause SET until = 0"),
	    0);
	note(st, &cf, DELIVER_DEFERRED, "450 4.7.1 Error: too much mail");
	t = outq_rate_resume(st, &cf);
	ck_assert_msg(t >= now + 200 && t <= now + 202, "%ld", (long)t);
	ck_assert_int_eq(store_exec(st, "UPDATE relay_pause SET until = 0"),
	    0);
	note(st, &cf, DELIVER_DEFERRED, "450 4.7.1 Error: too much mail");
	t = outq_rate_resume(st, &cf);
	ck_assert_msg(t >= now + 300 && t <= now + 302, "%ld", (long)t);
	/* Other deferrals are not limits. */
	ck_assert_int_eq(store_exec(st, "UPDATE relay_pause SET until = 0"),
	    0);
	note(st, &cf, DELIVER_DEFERRED, "451 4.3.0 queue file write error");
	ck_assert_uint_eq(outq_rate_allowance(st, &cf, 10), 2);
	store_close(st);
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, password_read_relative_to_the_config);
	tcase_add_test(tc, mistakes_have_lines);
	tcase_add_test(tc, empty_password_and_lone_user);
	tcase_add_test(tc, limit_replies);
	tcase_add_test(tc, hourly_limit_and_pause);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
