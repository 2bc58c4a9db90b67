/*
 * Unit tests: the dates organizers write (event_date.c), in the config's
 * timezone, and the dates we write back.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event_date.h"

#define TZ	"Asia/Tokyo"
/* 2026-11-01 09:00 in Tokyo (00:00 UTC): "now" in these tests. */
#define NOW	((time_t)1793491200)
/* 2026-12-05 14:00 and 16:00 in Tokyo. */
#define DEC5_14	((time_t)1796446800)
#define DEC5_16	((time_t)1796454000)
/* 2026-12-05 00:00 in Tokyo. */
#define DEC5_0	((time_t)1796396400)

static int
start_of(const char *text, struct event_when *w)
{
	return event_date_parse(text, EVD_START, TZ, NOW, NULL, w, NULL);
}

static void
expect_start(const char *text, time_t start, time_t end, int allday)
{
	struct event_when w;
	int rc = start_of(text, &w);

	ck_assert_msg(rc == EVD_OK, "\"%s\": error %d", text, rc);
	ck_assert_msg(w.start == start, "\"%s\": start %lld, want %lld", text,
	    (long long)w.start, (long long)start);
	ck_assert_msg(w.end == end, "\"%s\": end %lld, want %lld", text,
	    (long long)w.end, (long long)end);
	ck_assert_msg(w.allday == allday, "\"%s\": allday %d", text, w.allday);
}

static void
expect_error(const char *text, int want)
{
	struct event_when w;
	int rc = start_of(text, &w);

	ck_assert_msg(rc == want, "\"%s\": got %d, want %d", text, rc, want);
}

START_TEST(iso_and_slashes)
{
	expect_start("2026-12-05 14:00", DEC5_14, 0, 0);
	expect_start("2026/12/5 14:00", DEC5_14, 0, 0);
	expect_start("2026.12.05 14:00", DEC5_14, 0, 0);
	expect_start("2026-12-05T14:00", DEC5_14, 0, 0);
	expect_start("  2026-12-05   14:00  ", DEC5_14, 0, 0);
	expect_start("12/5 14:00", DEC5_14, 0, 0);
	expect_start("2026-12-05 14:00-16:00", DEC5_14, DEC5_16, 0);
	expect_start("2026-12-05 14:00:30", DEC5_14 + 30, 0, 0);
}
END_TEST

START_TEST(japanese_forms)
{
	expect_start("12月5日 14時", DEC5_14, 0, 0);
	expect_start("12月5日 14時30分", DEC5_14 + 1800, 0, 0);
	expect_start("12月5日 14時半", DEC5_14 + 1800, 0, 0);
	expect_start("12月5日(土) 14:00～16:00", DEC5_14, DEC5_16, 0);
	expect_start("12月5日（土） 14:00〜16:00", DEC5_14, DEC5_16, 0);
	expect_start("12月5日(土曜日) 14時から16時まで", DEC5_14, DEC5_16, 0);
	expect_start("2026年12月5日 午後2時", DEC5_14, 0, 0);
	expect_start("2026年12月5日(土) 午後2時～午後4時", DEC5_14, DEC5_16,
	    0);
	expect_start("12月5日土曜日 14:00頃", DEC5_14, 0, 0);
	expect_start("12月5日(土・祝) 14:00", DEC5_14, 0, 0);
	expect_start("12月5日 正午", DEC5_14 - 7200, 0, 0);
	expect_start("12月5日 14:00ー16:00", DEC5_14, DEC5_16, 0);
}
END_TEST

/* A range mark with nothing after it: a start, and no end given. */
START_TEST(open_end)
{
	struct event_when start, w;

	expect_start("12月5日 18:30～", DEC5_14 + 4 * 3600 + 1800, 0, 0);
	expect_start("12月5日 18:30〜", DEC5_14 + 4 * 3600 + 1800, 0, 0);
	expect_start("12月5日 18:30~", DEC5_14 + 4 * 3600 + 1800, 0, 0);
	expect_start("12月5日 18:30 ～ ", DEC5_14 + 4 * 3600 + 1800, 0, 0);
	expect_start("12月5日 午後6時半から", DEC5_14 + 4 * 3600 + 1800, 0,
	    0);
	expect_start("１２月５日（土）１８：３０～", DEC5_14 + 4 * 3600 + 1800,
	    0, 0);
	expect_start("2026-12-05 14:00-", DEC5_14, 0, 0);
	expect_start("12月5日～", DEC5_0, 0, 1);
	/* 2027-01-09 13:30 Tokyo, a Saturday, without a blank. */
	expect_start("1月9日(土)13:30～", (time_t)1799469000, 0, 0);
	expect_error("1月9日(金)13:30～", EVD_WEEKDAY);
	expect_error("18:30～", EVD_NODATE);
	expect_error("12月5日 18:30～～", EVD_SYNTAX);
	/* An End or a Deadline has no open end. */
	ck_assert_int_eq(start_of("12月5日 14:00", &start), EVD_OK);
	ck_assert_int_eq(event_date_parse("16:00～", EVD_END, TZ, NOW, &start,
	    &w, NULL), EVD_SYNTAX);
	ck_assert_int_eq(event_date_parse("12月3日～", EVD_DEADLINE, TZ, NOW,
	    &start, &w, NULL), EVD_SYNTAX);
}
END_TEST

/* 令和 N is 2018 + N, as official notices write the year. */
START_TEST(era)
{
	struct event_when start, w;

	expect_start("令和8年12月5日", DEC5_0, 0, 1);
	expect_start("令和8年12月5日(土) 14:00～16:00", DEC5_14, DEC5_16, 0);
	expect_start("令和 8 年 12月5日 14時", DEC5_14, 0, 0);
	expect_start("令和８年１２月５日　午後２時", DEC5_14, 0, 0);
	expect_start("㋿8年12月5日 14:00", DEC5_14, 0, 0);
	expect_error("令和8年12月5日(金)", EVD_WEEKDAY);
	expect_error("令和7年12月5日 14:00", EVD_PAST);
	expect_error("令和年12月5日", EVD_SYNTAX);
	expect_error("令和8年2月30日", EVD_BADDATE);
	/* 令和元年 is 2019: long past. */
	expect_error("令和元年5月1日", EVD_PAST);
	ck_assert_int_eq(start_of("12月5日 14:00", &start), EVD_OK);
	ck_assert_int_eq(event_date_parse("令和8年12月3日", EVD_DEADLINE, TZ,
	    NOW, &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1796309999);
}
END_TEST

START_TEST(full_width_digits)
{
	expect_start("１２月５日（土）１４：００～１６：００", DEC5_14, DEC5_16,
	    0);
	expect_start("２０２６／１２／５　１４：００", DEC5_14, 0, 0);
	expect_start("２０２６年１２月５日　１４時", DEC5_14, 0, 0);
}
END_TEST

START_TEST(english_forms)
{
	expect_start("Dec 5 2pm", DEC5_14, 0, 0);
	expect_start("December 5, 2026 2:00 pm", DEC5_14, 0, 0);
	expect_start("Saturday 5 December 2026, 14:00-16:00", DEC5_14,
	    DEC5_16, 0);
	expect_start("Sat, Dec 5, 2 p.m. - 4 p.m.", DEC5_14, DEC5_16, 0);
	expect_start("Dec 5 12am", DEC5_0, 0, 0);
	expect_start("Dec 5 12pm", DEC5_14 - 7200, 0, 0);
}
END_TEST

START_TEST(year_is_next_occurrence)
{
	/* 2027-01-10 10:00 Tokyo: January is already past in November. */
	expect_start("1月10日 10:00", (time_t)1799542800, 0, 0);
	expect_start("1/10 10:00", (time_t)1799542800, 0, 0);
	/* Today counts as this year's: the time is then in the past. */
	expect_error("11月1日 08:00", EVD_PAST);
	expect_start("11月1日 10:00", NOW + 3600, 0, 0);
	/* A year written in the past is not moved. */
	expect_error("2025-12-05 14:00", EVD_PAST);
}
END_TEST

START_TEST(all_day)
{
	expect_start("12月5日", DEC5_0, 0, 1);
	expect_start("2026-12-05", DEC5_0, 0, 1);
	expect_start("12月5日(土)～12月6日(日)", DEC5_0, DEC5_0 + 86400, 1);
	expect_start("12月5日～12月5日", DEC5_0, 0, 1);
}
END_TEST

START_TEST(mistakes_are_named)
{
	struct event_when w;
	int wd = -1;

	expect_error("", EVD_EMPTY);
	expect_error("   ", EVD_EMPTY);
	expect_error("来週の土曜日", EVD_SYNTAX);
	expect_error("12月5日 14:00 会議室", EVD_SYNTAX);
	expect_error("14:00", EVD_NODATE);
	expect_error("2月30日 10:00", EVD_BADDATE);
	expect_error("12月5日 25:00", EVD_BADDATE);
	expect_error("12月5日 14:75", EVD_BADDATE);
	expect_error("13/5 10:00", EVD_BADDATE);
	expect_error("12月5日 16:00～14:00", EVD_ORDER);
	expect_error("12月5日 14:00～12月6日", EVD_SYNTAX);
	ck_assert_int_eq(event_date_parse("12月5日(金) 14:00", EVD_START, TZ,
	    NOW, NULL, &w, &wd), EVD_WEEKDAY);
	ck_assert_int_eq(wd, 6);
	ck_assert_int_eq(event_date_parse("Fri Dec 5 2pm", EVD_START, TZ,
	    NOW, NULL, &w, NULL), EVD_WEEKDAY);
	ck_assert_str_eq(event_date_error(EVD_WEEKDAY), "date-weekday");
	ck_assert_str_eq(event_date_error(EVD_SYNTAX), "date-syntax");
}
END_TEST

START_TEST(end_and_deadline)
{
	struct event_when start, w;

	ck_assert_int_eq(start_of("12月5日 14:00", &start), EVD_OK);
	ck_assert_int_eq(event_date_parse("16:00", EVD_END, TZ, NOW, &start,
	    &w, NULL), EVD_OK);
	ck_assert_int_eq(w.end, DEC5_16);
	ck_assert_int_eq(event_date_parse("１６時", EVD_END, TZ, NOW, &start,
	    &w, NULL), EVD_OK);
	ck_assert_int_eq(w.end, DEC5_16);
	ck_assert_int_eq(event_date_parse("2026-12-05 16:00", EVD_END, TZ, NOW,
	    &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.end, DEC5_16);
	ck_assert_int_eq(event_date_parse("12月6日 10:00", EVD_END, TZ, NOW,
	    &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.end, DEC5_14 + 20 * 3600);
	ck_assert_int_eq(event_date_parse("13:00", EVD_END, TZ, NOW, &start,
	    &w, NULL), EVD_ORDER);
	ck_assert_int_eq(event_date_parse("12月6日", EVD_END, TZ, NOW, &start,
	    &w, NULL), EVD_SYNTAX);

	/* 2026-12-03 23:59 Tokyo; a date alone is the end of that day. */
	ck_assert_int_eq(event_date_parse("2026-12-03 23:59", EVD_DEADLINE, TZ,
	    NOW, &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1796309940);
	ck_assert_int_eq(event_date_parse("12月3日", EVD_DEADLINE, TZ, NOW,
	    &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1796309999);
	ck_assert_int_eq(event_date_parse("１２／３（木）", EVD_DEADLINE, TZ,
	    NOW, &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1796309999);
	/* A time alone: on the event's day. */
	ck_assert_int_eq(event_date_parse("12:00", EVD_DEADLINE, TZ, NOW,
	    &start, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, DEC5_14 - 7200);
	ck_assert_int_eq(event_date_parse("10月1日", EVD_DEADLINE, TZ, NOW,
	    &start, &w, NULL), EVD_OK);	/* next year's October */
	ck_assert_int_eq(event_date_parse("11月1日 08:00", EVD_DEADLINE, TZ,
	    NOW, &start, &w, NULL), EVD_PAST);
}
END_TEST

START_TEST(the_config_timezone_counts)
{
	struct event_when w;

	/* 12:00 in New York in July (EDT, UTC-4) is 16:00 UTC. */
	ck_assert_int_eq(event_date_parse("2027-07-01 12:00", EVD_START,
	    "America/New_York", NOW, NULL, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1814400000 + 16 * 3600);
	ck_assert_int_eq(event_date_parse("2027-07-01 12:00", EVD_START,
	    "UTC", NOW, NULL, &w, NULL), EVD_OK);
	ck_assert_int_eq(w.start, (time_t)1814400000 + 12 * 3600);
}
END_TEST

START_TEST(counts)
{
	int n = -1;

	ck_assert_int_eq(event_count_parse("30", &n), 0);
	ck_assert_int_eq(n, 30);
	ck_assert_int_eq(event_count_parse("３０名", &n), 0);
	ck_assert_int_eq(n, 30);
	ck_assert_int_eq(event_count_parse(" 12 人 ", &n), 0);
	ck_assert_int_eq(n, 12);
	ck_assert_int_eq(event_count_parse("40 people", &n), 0);
	ck_assert_int_eq(n, 40);
	ck_assert_int_eq(event_count_parse("なし", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(event_count_parse("unlimited", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(event_count_parse("たくさん", &n), -1);
	ck_assert_int_eq(event_count_parse("", &n), -1);
	ck_assert_int_eq(event_count_parse("-3", &n), -1);
	ck_assert_int_eq(event_count_parse("約", &n), -1);
	ck_assert_int_eq(event_count_parse("30名まで 要予約", &n), -1);
	ck_assert_int_eq(event_count_parse("30名 40名", &n), -1);
}
END_TEST

/* The words flyers put around the number. */
START_TEST(counts_as_flyers_write_them)
{
	static const char *const forms[] = {
		"先着30名", "先着 30 名", "先着順30名", "30名まで", "約30名",
		"30名程度", "30人", "30名ほど", "30名くらい", "30人ぐらい",
		"約３０名", "先着３０名様", "最大30名", "30名以内", "about 30",
		"up to 30 people", "max 30",
	};
	int n;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		n = -1;
		ck_assert_msg(event_count_parse(forms[i], &n) == 0,
		    "\"%s\" refused", forms[i]);
		ck_assert_msg(n == 30, "\"%s\": %d", forms[i], n);
	}
}
END_TEST

START_TEST(formats)
{
	struct event_when w = { DEC5_14, DEC5_16, 0 };
	struct buf b = BUF_INIT;

	event_date_format(&b, "ja", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b), "2026年12月5日(土) 14:00～16:00");
	buf_reset(&b);
	event_date_format(&b, "en", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b),
	    "Saturday 5 December 2026, 14:00–16:00");
	buf_reset(&b);
	w.end = 0;
	event_date_format(&b, "ja", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b), "2026年12月5日(土) 14:00");
	buf_reset(&b);
	w.end = DEC5_14 + 20 * 3600;
	event_date_format(&b, "ja", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b),
	    "2026年12月5日(土) 14:00～12月6日(日) 10:00");
	buf_reset(&b);
	w.start = DEC5_0;
	w.end = 0;
	w.allday = 1;
	event_date_format(&b, "ja", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b), "2026年12月5日(土)");
	buf_reset(&b);
	w.end = DEC5_0 + 86400;
	event_date_format(&b, "en", TZ, &w);
	ck_assert_str_eq(buf_cstr(&b),
	    "Saturday 5 December 2026–Sunday 6 December");
	buf_reset(&b);
	event_date_short(&b, "ja", TZ, DEC5_14);
	ck_assert_str_eq(buf_cstr(&b), "12/5(土)");
	buf_reset(&b);
	event_date_short(&b, "en", TZ, DEC5_14);
	ck_assert_str_eq(buf_cstr(&b), "Sat 5 Dec");
	buf_reset(&b);
	event_date_stamp(&b, TZ, DEC5_14);
	ck_assert_str_eq(buf_cstr(&b), "2026-12-05 14:00");
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("event_date");
	TCase *tc = tcase_create("event_date");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, iso_and_slashes);
	tcase_add_test(tc, japanese_forms);
	tcase_add_test(tc, open_end);
	tcase_add_test(tc, era);
	tcase_add_test(tc, full_width_digits);
	tcase_add_test(tc, english_forms);
	tcase_add_test(tc, year_is_next_occurrence);
	tcase_add_test(tc, all_day);
	tcase_add_test(tc, mistakes_are_named);
	tcase_add_test(tc, end_and_deadline);
	tcase_add_test(tc, the_config_timezone_counts);
	tcase_add_test(tc, counts);
	tcase_add_test(tc, counts_as_flyers_write_them);
	tcase_add_test(tc, formats);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
