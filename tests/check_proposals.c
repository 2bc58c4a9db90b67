/*
 * Unit tests: proposals - references and their numbering, the state
 * machine (who may do what in which state, and every refusal), the
 * forwarding schedule, the period claim, and the text helpers.
 */
#include <check.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "proposal_sched.h"
#include "proposal_text.h"
#include "proposals.h"
#include "store.h"
#include "testutil.h"

#define MEMBER		PROPOSAL_ROLE_MEMBER
#define PROPOSER	(PROPOSAL_ROLE_PROPOSER | PROPOSAL_ROLE_MEMBER)
#define MODERATOR	(PROPOSAL_ROLE_MODERATOR | PROPOSAL_ROLE_MEMBER)
#define SERVER		PROPOSAL_ROLE_SERVER

static char *dir;
static struct store *st;

/* UTC seconds of a UTC calendar time. */
static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return timegm(&tm);
}

START_TEST(ref_format_and_parse)
{
	char ref[PROPOSAL_REF_MAX];

	proposal_ref_format(ref, 2026, 12);
	ck_assert_str_eq(ref, "P-2026-0012");
	proposal_ref_format(ref, 2026, 12345);
	ck_assert_str_eq(ref, "P-2026-12345");
	ck_assert_int_eq(proposal_ref_parse("P-2026-0012", ref), 0);
	ck_assert_str_eq(ref, "P-2026-0012");
	/* MTAs fold local parts; people drop the zeros. */
	ck_assert_int_eq(proposal_ref_parse("p-2026-12", ref), 0);
	ck_assert_str_eq(ref, "P-2026-0012");
	ck_assert_int_eq(proposal_ref_parse("P-2026-0000", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("P-26-0012", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("P-2026-", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("P-2026-12x", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("Q-2026-0012", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("P-2026-123456789", ref), -1);
	ck_assert_int_eq(proposal_ref_parse("", ref), -1);
}
END_TEST

/*
 * Each row: an action by someone; the states in which it is allowed
 * (a bit per state) and where it leads; the refusal everywhere else.
 */
struct rule {
	enum proposal_action	 action;
	unsigned		 roles;
	unsigned		 allowed;	/* 1 << state */
	int			 next;		/* -1: the state stays */
	enum proposal_refusal	 refusal;
};

#define S(x)	(1u << PROPOSAL_ ## x)

static const struct rule rules[] = {
	{ PROPOSAL_APPROVE, MODERATOR, S(SUBMITTED), PROPOSAL_OPEN,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_APPROVE, MEMBER, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_APPROVE, PROPOSER, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_REJECT, MODERATOR, S(SUBMITTED), PROPOSAL_REJECTED,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_REJECT, PROPOSER, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_COMMENT, 0, S(OPEN) | S(FORWARDED), -1,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_COMMENT, MEMBER, S(OPEN) | S(FORWARDED), -1,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_SUPPORT, MEMBER, S(OPEN) | S(FORWARDED), -1,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_SUPPORT, MODERATOR, S(OPEN) | S(FORWARDED), -1,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_SUPPORT, 0, 0, 0, PROPOSAL_NO_MEMBER },
	{ PROPOSAL_SUPPORT, PROPOSER, 0, 0, PROPOSAL_NO_OWN },
	{ PROPOSAL_WITHDRAW, PROPOSER, S(SUBMITTED) | S(OPEN),
	    PROPOSAL_WITHDRAWN, PROPOSAL_NO_STATE },
	{ PROPOSAL_WITHDRAW, MEMBER, 0, 0, PROPOSAL_NO_PROPOSER },
	{ PROPOSAL_WITHDRAW, MODERATOR, 0, 0, PROPOSAL_NO_PROPOSER },
	{ PROPOSAL_FORWARD, SERVER, S(OPEN), PROPOSAL_FORWARDED,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_FORWARD, MODERATOR, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_ANSWER, MODERATOR, S(FORWARDED), PROPOSAL_ANSWERED,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_ANSWER, PROPOSER, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_DECLINE, MODERATOR, S(FORWARDED), PROPOSAL_REJECTED,
	    PROPOSAL_NO_STATE },
	{ PROPOSAL_DECLINE, MEMBER, 0, 0, PROPOSAL_NO_MODERATOR },
	{ PROPOSAL_NOTE, MODERATOR, S(FORWARDED), -1, PROPOSAL_NO_STATE },
	{ PROPOSAL_NOTE, MEMBER, 0, 0, PROPOSAL_NO_MODERATOR },
};

START_TEST(state_machine)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];

		for (int s = 0; s < PROPOSAL_NSTATES; s++) {
			enum proposal_state next = PROPOSAL_NSTATES;
			enum proposal_refusal got = proposal_may(
			    (enum proposal_state)s, r->action, r->roles, &next);

			if (r->allowed & (1u << s)) {
				ck_assert_msg(got == PROPOSAL_OK,
				    "rule %zu, state %s: refused (%d)", i,
				    proposal_state_name(s), got);
				ck_assert_int_eq(next, r->next < 0 ? s :
				    r->next);
			} else
				ck_assert_msg(got == r->refusal,
				    "rule %zu, state %s: got %d, want %d", i,
				    proposal_state_name(s), got, r->refusal);
		}
	}
}
END_TEST

START_TEST(final_states_are_final)
{
	static const enum proposal_state finals[] = {
		PROPOSAL_ANSWERED, PROPOSAL_REJECTED, PROPOSAL_WITHDRAWN
	};
	unsigned all = PROPOSAL_ROLE_MEMBER | PROPOSAL_ROLE_MODERATOR |
	    PROPOSAL_ROLE_SERVER;

	for (size_t i = 0; i < 3; i++)
		for (int a = PROPOSAL_APPROVE; a <= PROPOSAL_NOTE; a++) {
			ck_assert_int_ne(proposal_may(finals[i],
			    (enum proposal_action)a, all, NULL), PROPOSAL_OK);
			ck_assert_int_ne(proposal_may(finals[i],
			    (enum proposal_action)a, all |
			    PROPOSAL_ROLE_PROPOSER, NULL), PROPOSAL_OK);
		}
}
END_TEST

START_TEST(state_names)
{
	enum proposal_state s;

	for (int i = 0; i < PROPOSAL_NSTATES; i++) {
		ck_assert_int_eq(proposal_state_parse(proposal_state_name(i),
		    &s), 0);
		ck_assert_int_eq(s, i);
	}
	ck_assert_int_eq(proposal_state_parse("Forwarded", &s), 0);
	ck_assert_int_eq(s, PROPOSAL_FORWARDED);
	ck_assert_int_eq(proposal_state_parse("in_progress", &s), -1);
}
END_TEST

static void
db_setup(void)
{
	char *path;

	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	ck_assert_int_ge(asprintf(&path, "%s/state.db", dir), 0);
	ck_assert_int_eq(store_open(path, &st), 0);
	free(path);
}

static void
db_teardown(void)
{
	store_close(st);
	tu_rmdir(dir);
	free(dir);
}

static void
new_proposal(const char *list, int year, const char *title,
    char ref[PROPOSAL_REF_MAX])
{
	struct proposal p;

	memset(&p, 0, sizeof(p));
	p.year = year;
	p.list = (char *)list;
	snprintf(p.proposer, sizeof(p.proposer), "yamada@example.jp");
	p.name = (char *)"山田太郎";
	p.title = (char *)title;
	p.theme = (char *)"";
	p.body = (char *)"本文";
	ck_assert_int_eq(proposal_create(st, &p, 1000), 0);
	memcpy(ref, p.ref, PROPOSAL_REF_MAX);
}

START_TEST(numbering_per_year_across_server)
{
	char ref[PROPOSAL_REF_MAX];
	struct proposal p;

	new_proposal("setagaya", 2026, "一", ref);
	ck_assert_str_eq(ref, "P-2026-0001");
	new_proposal("meguro", 2026, "二", ref);
	ck_assert_str_eq(ref, "P-2026-0002");
	new_proposal("kita", 2027, "三", ref);
	ck_assert_str_eq(ref, "P-2027-0001");
	new_proposal("setagaya", 2026, "四", ref);
	ck_assert_str_eq(ref, "P-2026-0003");
	/* A withdrawn number is never given again. */
	ck_assert_int_eq(proposal_get(st, "P-2026-0003", &p), 1);
	ck_assert_str_eq(p.title, "四");
	ck_assert_int_eq(p.state, PROPOSAL_SUBMITTED);
	ck_assert_int_eq(proposal_set_state(st, &p, PROPOSAL_WITHDRAWN, 1001,
	    ""), 0);
	proposal_clear(&p);
	new_proposal("setagaya", 2026, "五", ref);
	ck_assert_str_eq(ref, "P-2026-0004");
	ck_assert_int_eq(proposal_get(st, "P-2026-0099", &p), 0);
}
END_TEST

static int
collect_comment(const struct proposal_comment *c, void *arg)
{
	buf_printf(arg, "%s:%s;", c->addr, c->body);
	return 0;
}

static int
collect_event(const struct proposal_event *e, void *arg)
{
	buf_printf(arg, "%s(%s);", e->event, e->note);
	return 0;
}

START_TEST(support_comments_history)
{
	char ref[PROPOSAL_REF_MAX];
	struct buf b = BUF_INIT;
	struct proposal p;
	long long held;

	new_proposal("setagaya", 2026, "公園", ref);
	ck_assert_int_eq(proposal_support(st, ref, "a@example.jp", 5), 1);
	ck_assert_int_eq(proposal_support(st, ref, "a@example.jp", 6), 0);
	ck_assert_int_eq(proposal_support(st, ref, "b@example.jp", 7), 1);
	ck_assert_int_gt(proposal_comment_add(st, ref, "b@example.jp", "",
	    "賛成です", 0, 8), 0);
	held = proposal_comment_add(st, ref, "x@example.org", "", "広告",
	    1, 9);
	ck_assert_int_gt(proposal_comment_add(st, ref, "a@example.jp", "",
	    "夜間も", 0, 10), 0);
	ck_assert_int_eq(proposal_comments_foreach(st, ref, collect_comment,
	    &b), 0);
	ck_assert_str_eq(buf_cstr(&b),
	    "b@example.jp:賛成です;a@example.jp:夜間も;");
	/* A held comment shows once approved, in its place. */
	ck_assert_int_eq(proposal_comment_set(st, held, 0), 0);
	buf_reset(&b);
	ck_assert_int_eq(proposal_comments_foreach(st, ref, collect_comment,
	    &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "b@example.jp:賛成です;"
	    "x@example.org:広告;a@example.jp:夜間も;");
	ck_assert_int_eq(proposal_get(st, ref, &p), 1);
	ck_assert_int_eq(p.supporters, 2);
	ck_assert_int_eq(p.comments, 3);
	ck_assert_int_eq(proposal_set_state(st, &p, PROPOSAL_OPEN, 20, ""), 0);
	ck_assert_int_eq(proposal_set_forwarded(st, &p, "tokyo", 30), 0);
	ck_assert_int_eq(proposal_record_answer(st, &p, "in_progress",
	    "検討中です", 40), 0);
	ck_assert_int_eq(p.state, PROPOSAL_FORWARDED);
	ck_assert_int_eq(proposal_record_answer(st, &p, "answered",
	    "実施します", 50), 0);
	proposal_clear(&p);
	ck_assert_int_eq(proposal_get(st, ref, &p), 1);
	ck_assert_int_eq(p.state, PROPOSAL_ANSWERED);
	ck_assert_int_eq(p.opened, 20);
	ck_assert_int_eq(p.forwarded, 30);
	ck_assert_str_eq(p.forwarded_by, "tokyo");
	ck_assert_str_eq(p.answer, "実施します");
	ck_assert_str_eq(p.answer_state, "answered");
	proposal_clear(&p);
	buf_reset(&b);
	ck_assert_int_eq(proposal_history_foreach(st, ref, collect_event, &b),
	    0);
	ck_assert_str_eq(buf_cstr(&b), "submitted();open();forwarded(tokyo);"
	    "in_progress(検討中です);answered(実施します);");
	buf_free(&b);
}
END_TEST

START_TEST(period_claimed_once)
{
	ck_assert_int_eq(proposal_period_claim(st, "tokyo", "2026-04-01 09:00",
	    1), 1);
	ck_assert_int_eq(proposal_period_claim(st, "tokyo", "2026-04-01 09:00",
	    2), 0);
	ck_assert_int_eq(proposal_period_claim(st, "osaka", "2026-04-01 09:00",
	    3), 1);
	ck_assert_int_eq(proposal_period_claim(st, "tokyo", "2026-07-01 09:00",
	    4), 1);
	/* A new connection (a restart) sees the same. */
	store_close(st);
	{
		char *path;

		ck_assert_int_ge(asprintf(&path, "%s/state.db", dir), 0);
		ck_assert_int_eq(store_open(path, &st), 0);
		free(path);
	}
	ck_assert_int_eq(proposal_period_claim(st, "tokyo", "2026-07-01 09:00",
	    5), 0);
}
END_TEST

START_TEST(schedule_parse)
{
	struct proposal_sched_point p;

	ck_assert_int_eq(proposal_sched_parse("04-01 09:00", &p), 0);
	ck_assert_int_eq(p.month, 4);
	ck_assert_int_eq(p.day, 1);
	ck_assert_int_eq(p.hour, 9);
	ck_assert_int_eq(p.minute, 0);
	ck_assert_int_eq(proposal_sched_parse("*-15 18:30", &p), 0);
	ck_assert_int_eq(p.month, 0);
	ck_assert_int_eq(p.day, 15);
	ck_assert_int_eq(p.minute, 30);
	ck_assert_int_eq(proposal_sched_parse("2-29 0:05", &p), 0);
	ck_assert_int_eq(proposal_sched_parse("04-31 09:00", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("13-01 09:00", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("04-01 24:00", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("04-01 09:60", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("04-01", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("04-01 9", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("quarterly", &p), -1);
	ck_assert_int_eq(proposal_sched_parse("04-01 09:00 x", &p), -1);
	for (int i = 0; proposal_sched_default[i]; i++)
		ck_assert_int_eq(proposal_sched_parse(proposal_sched_default[i],
		    &p), 0);
}
END_TEST

START_TEST(schedule_quarters_in_tokyo)
{
	char *const *def = (char *const *)proposal_sched_default;
	char key[PROPOSAL_SCHED_KEY];
	time_t when, next;

	/* 2026-04-01 08:59 JST: still the period that began on 1 January. */
	ck_assert_int_eq(proposal_sched_latest(def, 4, "Asia/Tokyo",
	    utc(2026, 3, 31, 23, 59), &when, key), 1);
	ck_assert_str_eq(key, "2026-01-01 09:00");
	ck_assert_int_eq(when, utc(2026, 1, 1, 0, 0));
	/* 09:00 JST sharp begins the next. */
	ck_assert_int_eq(proposal_sched_latest(def, 4, "Asia/Tokyo",
	    utc(2026, 4, 1, 0, 0), &when, key), 1);
	ck_assert_str_eq(key, "2026-04-01 09:00");
	ck_assert_int_eq(when, utc(2026, 4, 1, 0, 0));
	ck_assert_int_eq(proposal_sched_next(def, 4, "Asia/Tokyo",
	    utc(2026, 4, 1, 0, 0), &next), 1);
	ck_assert_int_eq(next, utc(2026, 7, 1, 0, 0));
	/* New Year's morning in Tokyo is still last year's October period. */
	ck_assert_int_eq(proposal_sched_latest(def, 4, "Asia/Tokyo",
	    utc(2025, 12, 31, 23, 0), &when, key), 1);
	ck_assert_str_eq(key, "2025-10-01 09:00");
	ck_assert_int_eq(proposal_sched_next(def, 4, "Asia/Tokyo",
	    utc(2025, 12, 31, 23, 0), &next), 1);
	ck_assert_int_eq(next, utc(2026, 1, 1, 0, 0));
	/* Nothing scheduled: no period at all. */
	ck_assert_int_eq(proposal_sched_latest(def, 0, "Asia/Tokyo",
	    utc(2026, 5, 1, 0, 0), &when, key), 0);
	ck_assert_int_eq(proposal_sched_next(def, 0, "Asia/Tokyo",
	    utc(2026, 5, 1, 0, 0), &next), 0);
}
END_TEST

START_TEST(schedule_monthly_and_zones)
{
	char *monthly[] = { (char *)"*-31 12:00" };
	char *ny[] = { (char *)"07-01 09:00", (char *)"01-01 09:00" };
	char key[PROPOSAL_SCHED_KEY];
	time_t when;

	/* Months without a 31st are skipped. */
	ck_assert_int_eq(proposal_sched_latest(monthly, 1, "Asia/Tokyo",
	    utc(2026, 5, 15, 0, 0), &when, key), 1);
	ck_assert_str_eq(key, "2026-03-31 12:00");
	ck_assert_int_eq(when, utc(2026, 3, 31, 3, 0));
	/* Summer time: 09:00 EDT is 13:00 UTC, 09:00 EST 14:00 UTC. */
	ck_assert_int_eq(proposal_sched_latest(ny, 2, "America/New_York",
	    utc(2026, 7, 1, 13, 30), &when, key), 1);
	ck_assert_str_eq(key, "2026-07-01 09:00");
	ck_assert_int_eq(when, utc(2026, 7, 1, 13, 0));
	ck_assert_int_eq(proposal_sched_latest(ny, 2, "America/New_York",
	    utc(2026, 1, 1, 13, 30), &when, key), 1);
	ck_assert_str_eq(key, "2025-07-01 09:00");
	ck_assert_int_eq(proposal_sched_latest(ny, 2, "America/New_York",
	    utc(2026, 1, 1, 14, 0), &when, key), 1);
	ck_assert_str_eq(key, "2026-01-01 09:00");
}
END_TEST

START_TEST(local_dates)
{
	struct buf b = BUF_INIT;

	proposal_sched_local(&b, "Asia/Tokyo", utc(2026, 3, 31, 15, 30), 1);
	ck_assert_str_eq(buf_cstr(&b), "2026-04-01 00:30");
	ck_assert_int_eq(proposal_sched_year("Asia/Tokyo",
	    utc(2026, 12, 31, 15, 0)), 2027);
	ck_assert_int_eq(proposal_sched_year("UTC",
	    utc(2026, 12, 31, 15, 0)), 2026);
	buf_free(&b);
}
END_TEST

START_TEST(text_theme)
{
	char *theme, *rest;

	rest = proposal_theme_split("テーマ: 子育て\r\n保育園の延長保育を\n", &theme);
	ck_assert_str_eq(theme, "子育て");
	ck_assert_str_eq(rest, "保育園の延長保育を\n");
	free(theme);
	free(rest);
	rest = proposal_theme_split("\nTheme : Parks \nMore benches.\n",
	    &theme);
	ck_assert_str_eq(theme, "Parks");
	ck_assert_str_eq(rest, "More benches.\n");
	free(theme);
	free(rest);
	rest = proposal_theme_split("テーマ：　防災\n本文", &theme);
	ck_assert_str_eq(theme, "防災");
	ck_assert_str_eq(rest, "本文");
	free(theme);
	free(rest);
	rest = proposal_theme_split("テーマパークの誘致について\n", &theme);
	ck_assert_str_eq(theme, "");
	ck_assert_str_eq(rest, "テーマパークの誘致について\n");
	free(theme);
	free(rest);
}
END_TEST

START_TEST(text_clean_and_after)
{
	char *s;

	s = proposal_text_clean("\n\n賛成です。  \r\n\r\n\r\n夜も開けてほしい。\n"
	    "\n2026年11月22日 山田 wrote:\n> 元の提案\n> 続き\n\n-- \n署名\n", 1);
	ck_assert_str_eq(s, "賛成です。\n\n夜も開けてほしい。");
	free(s);
	s = proposal_text_clean("> 引用だけ\n", 1);
	ck_assert_str_eq(s, "");
	free(s);
	/* Without drop_quotes, quotes stay; "wrote:" stays too. */
	s = proposal_text_clean("注意:\n> 引用\n", 0);
	ck_assert_str_eq(s, "注意:\n> 引用");
	free(s);
	s = proposal_text_after("help\nanswer P-2026-0001 answered\n"
	    "区として来年度に実施します。\n\n詳細は追って。\n以上\nsupport X\n",
	    "answer P-2026-0001 answered");
	ck_assert_str_eq(s, "区として来年度に実施します。\n\n詳細は追って。");
	free(s);
	/* Full-width and quoted, as command.c reads it. */
	s = proposal_text_after("> ａｎｓｗｅｒ P-2026-0001 in_progress\n検討中\n",
	    "answer P-2026-0001 in_progress");
	ck_assert_str_eq(s, "検討中");
	free(s);
	/* The command was the Subject: the whole text is the answer. */
	s = proposal_text_after("全文が回答です。\n-- \n署名\n",
	    "answer P-2026-0001 answered");
	ck_assert_str_eq(s, "全文が回答です。");
	free(s);
	s = proposal_first_line("\n広告のため不可とします。\n詳しくは\n> 元\n");
	ck_assert_str_eq(s, "広告のため不可とします。");
	free(s);
	ck_assert_ptr_null(proposal_first_line("> 引用だけ\n"));
	ck_assert_ptr_null(proposal_first_line(NULL));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("proposals");
	TCase *tc = tcase_create("pure");
	TCase *db = tcase_create("db");

	tcase_add_test(tc, ref_format_and_parse);
	tcase_add_test(tc, state_machine);
	tcase_add_test(tc, final_states_are_final);
	tcase_add_test(tc, state_names);
	tcase_add_test(tc, schedule_parse);
	tcase_add_test(tc, schedule_quarters_in_tokyo);
	tcase_add_test(tc, schedule_monthly_and_zones);
	tcase_add_test(tc, local_dates);
	tcase_add_test(tc, text_theme);
	tcase_add_test(tc, text_clean_and_after);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(db, db_setup, db_teardown);
	tcase_add_test(db, numbering_per_year_across_server);
	tcase_add_test(db, support_comments_history);
	tcase_add_test(db, period_claimed_once);
	suite_add_tcase(s, db);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
