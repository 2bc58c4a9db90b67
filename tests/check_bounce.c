/*
 * Unit tests: VERP addresses, delivery reports and bounce scores
 * (bounce.c) on a real SQLite file.
 */
#include <check.h>

#include "bounce.h"
#include "buf.h"
#include "config.h"
#include "members.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static struct config *cf;
static struct store *st;

static void
setup(void)
{
	struct buf errors = BUF_INIT, text = BUF_INIT;
	char *path;

	dir = tu_tmpdir();
	buf_printf(&text, "state_dir = \"%s\";\nbounce = { threshold = 2.5; "
	    "warnings = 2; };\n%s%s", dir, TU_NETWORK, TU_LISTS);
	path = tu_write(dir, "t.conf", buf_cstr(&text));
	ck_assert_msg(config_load(path, &cf, &errors) == 0, "%s",
	    buf_cstr(&errors));
	/* Notices are written to the spool like any outgoing mail. */
	ck_assert_int_eq(spool_init(dir), 0);
	ck_assert_int_eq(store_open_config(cf, &st), 0);
	ck_assert_int_eq(store_sync_lists(st, cf), 0);
	free(path);
	buf_free(&text);
	buf_free(&errors);
}

static void
teardown(void)
{
	store_close(st);
	config_free(cf);
	tu_rmdir(dir);
	free(dir);
}

static double
score(const char *list, const char *addr, long long *disabled)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT score, disabled FROM bounces "
	    "WHERE list = ?1 AND addr = ?2");
	double v = -1;

	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		v = sqlite3_column_double(s, 0);
		if (disabled)
			*disabled = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return v;
}

START_TEST(verp_round_trip)
{
	static const char *const addrs[] = {
		"taro@example.jp", "user+tag@example.jp", "a_b=c@sub.example.jp",
		"O'Brien@Example.jp", NULL
	};
	struct route r;
	char back[ADDR_MAX + 1];

	for (int i = 0; addrs[i]; i++) {
		struct buf b = BUF_INIT;
		char canon[ADDR_MAX + 1];

		ck_assert_int_eq(addr_canon(addrs[i], canon, sizeof(canon)), 0);
		bounce_verp_encode(&b, "setagaya", cf->domain, canon);
		ck_assert_msg(route_lookup(cf, buf_cstr(&b), &r) == 0, "%s",
		    buf_cstr(&b));
		ck_assert_int_eq(r.action, ROUTE_BOUNCES);
		ck_assert_str_eq(r.list->name, "setagaya");
		ck_assert_int_eq(bounce_verp_decode(r.arg, back, sizeof(back)),
		    0);
		ck_assert_str_eq(back, canon);
		buf_free(&b);
	}
	ck_assert_int_ne(bounce_verp_decode("no-at-sign", back, sizeof(back)),
	    0);
}
END_TEST

START_TEST(dsn_reports)
{
	static const char report[] =
	    "Reporting-MTA: dns; mail.example.jp\n"
	    "X-Postfix-Queue-ID: 4Fxyz\n"
	    "Arrival-Date: Sun, 22 Nov 2026 10:00:00 +0900 (JST)\n"
	    "\n"
	    "Final-Recipient: rfc822; gone@example.jp\n"
	    "Original-Recipient: rfc822;gone@example.jp\n"
	    "Action: failed\n"
	    "Status: 5.1.1\n"
	    "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.jp>: unknown\n"
	    "\n"
	    "Final-Recipient: RFC822; <full@Example.JP>\n"
	    "Action: delayed\n"
	    "Status: 4.2.2\n"
	    "\n"
	    "Final-Recipient: rfc822; fine@example.jp\n"
	    "Action: delivered\n"
	    "Status: 2.0.0\n";
	struct bounce_report rep[8];
	int n = bounce_dsn_parse(report, sizeof(report) - 1, rep, 8);

	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(rep[0].addr, "gone@example.jp");
	ck_assert_int_eq(rep[0].hard, 1);
	ck_assert_str_eq(rep[1].addr, "full@example.jp");
	ck_assert_int_eq(rep[1].hard, 0);
	ck_assert_int_eq(bounce_dsn_parse("garbage\n\n\n", 10, rep, 8), 0);
}
END_TEST

/* +1 hard, +0.5 soft, once a day; stale scores start again. */
START_TEST(score_once_a_day_and_stale)
{
	members_add(st, "setagaya", "a@example.jp", "");
	ck_assert_int_eq(bounce_record(st, cf, "setagaya", "a@example.jp", 0,
	    "t"), 0);
	ck_assert(score("setagaya", "a@example.jp", NULL) == 0.5);
	ck_assert_int_eq(bounce_record(st, cf, "setagaya", "a@example.jp", 1,
	    "t"), 0);
	ck_assert(score("setagaya", "a@example.jp", NULL) == 0.5);
	/* Yesterday's bounce: today counts again. */
	store_exec(st, "UPDATE bounces SET last_day = last_day - 1");
	bounce_record(st, cf, "setagaya", "a@example.jp", 1, "t");
	ck_assert(score("setagaya", "a@example.jp", NULL) == 1.5);
	/* Last bounce ten days ago: stale, so it starts from nothing. */
	store_exec(st, "UPDATE bounces SET last_day = last_day - 10, "
	    "last_bounce = last_bounce - 864000");
	bounce_record(st, cf, "setagaya", "a@example.jp", 1, "t");
	ck_assert(score("setagaya", "a@example.jp", NULL) == 1.0);
	/* Not a member: nothing counted. */
	bounce_record(st, cf, "setagaya", "stranger@example.jp", 1, "t");
	ck_assert(score("setagaya", "stranger@example.jp", NULL) < 0);
}
END_TEST

/* At the threshold: disabled with a notice; warned; then removed. */
START_TEST(threshold_warnings_removal)
{
	struct member m;
	long long disabled = 0;
	int day;

	members_add(st, "meguro", "b@example.jp", "");
	for (day = 0; day < 3; day++) {
		store_exec(st, "UPDATE bounces SET last_day = last_day - 1");
		ck_assert_int_eq(bounce_record(st, cf, "tokyo",
		    "b@example.jp", 1, "550"), 0);
	}
	/* The region post bounced: the chapter membership is counted. */
	ck_assert(score("meguro", "b@example.jp", &disabled) == 3.0);
	ck_assert(disabled > 0);
	ck_assert_int_eq(members_get(st, "meguro", "b@example.jp", &m), 1);
	ck_assert_int_eq(m.mode, MEMBER_BOUNCING);
	member_clear(&m);
	ck_assert_int_eq(members_count(st, "meguro"), 1);
	/* A notice with a re-enable token is queued for the member. */
	{
		sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM outq "
		    "WHERE rcpt = 'b@example.jp'");
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(s, 0), 1);
		sqlite3_reset(s);
	}
	/* Two warnings, a week apart, then removal. */
	for (int i = 0; i < 2; i++) {
		store_exec(st, "UPDATE bounces SET last_warning = "
		    "last_warning - 8 * 86400");
		ck_assert_int_eq(bounce_maintain(st, cf), 0);
		ck_assert_int_eq(members_count(st, "meguro"), 1);
	}
	store_exec(st, "UPDATE bounces SET last_warning = last_warning - "
	    "8 * 86400");
	ck_assert_int_eq(bounce_maintain(st, cf), 0);
	ck_assert_int_eq(members_count(st, "meguro"), 0);
	ck_assert(score("meguro", "b@example.jp", NULL) < 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bounce");
	TCase *tc = tcase_create("bounce");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, verp_round_trip);
	tcase_add_test(tc, dsn_reports);
	tcase_add_test(tc, score_once_a_day_and_stale);
	tcase_add_test(tc, threshold_warnings_removal);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
