/*
 * Unit tests: reading command mail (command.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "testutil.h"

static struct command_list cl;

static void
teardown(void)
{
	command_list_free(&cl);
}

START_TEST(subject_and_body)
{
	ck_assert_int_eq(command_parse("subscribe", "help\n", &cl), 2);
	ck_assert_int_eq(cl.v[0].verb, CMD_SUBSCRIBE);
	ck_assert_int_eq(cl.v[1].verb, CMD_HELP);
}
END_TEST

START_TEST(japanese_verbs_and_names)
{
	ck_assert_int_eq(command_parse(NULL,
	    "登録 山田太郎\n退会\nヘルプ\n確認 abc\n入会　佐藤花子\n", &cl), 5);
	ck_assert_int_eq(cl.v[0].verb, CMD_SUBSCRIBE);
	ck_assert_str_eq(cl.v[0].args, "山田太郎");
	ck_assert_int_eq(cl.v[1].verb, CMD_UNSUBSCRIBE);
	ck_assert_int_eq(cl.v[2].verb, CMD_HELP);
	ck_assert_int_eq(cl.v[3].verb, CMD_CONFIRM);
	ck_assert_str_eq(cl.v[3].args, "abc");
	/* An ideographic space separates like a blank. */
	ck_assert_int_eq(cl.v[4].verb, CMD_SUBSCRIBE);
	ck_assert_str_eq(cl.v[4].args, "佐藤花子");
}
END_TEST

START_TEST(full_width_reads_as_ascii)
{
	ck_assert_int_eq(command_parse(NULL,
	    "ＨＥＬＰ\nＳｕｂｓｃｒｉｂｅ　Ｔａｒｏ\nｓｅｔ　ｄｉｇｅｓｔ\n", &cl), 3);
	ck_assert_int_eq(cl.v[0].verb, CMD_HELP);
	ck_assert_int_eq(cl.v[1].verb, CMD_SUBSCRIBE);
	ck_assert_str_eq(cl.v[1].args, "Taro");
	ck_assert_int_eq(cl.v[2].verb, CMD_SET);
	ck_assert_str_eq(cl.v[2].args, "digest");
}
END_TEST

START_TEST(case_insensitive_and_quoted)
{
	ck_assert_int_eq(command_parse(NULL,
	    "> CONFIRM abcdef\n>> # Help\n  unSubscribe  \n", &cl), 3);
	ck_assert_int_eq(cl.v[0].verb, CMD_CONFIRM);
	ck_assert_str_eq(cl.v[0].args, "abcdef");
	ck_assert_int_eq(cl.v[1].verb, CMD_HELP);
	ck_assert_int_eq(cl.v[2].verb, CMD_UNSUBSCRIBE);
}
END_TEST

START_TEST(stops_at_signature)
{
	ck_assert_int_eq(command_parse(NULL,
	    "help\n-- \nsubscribe\n", &cl), 1);
	command_list_free(&cl);
	ck_assert_int_eq(command_parse(NULL, "help\r\n--\r\nsubscribe\r\n",
	    &cl), 1);
}
END_TEST

START_TEST(stops_at_end_words)
{
	ck_assert_int_eq(command_parse(NULL, "help\nend\nsubscribe\n", &cl),
	    1);
	command_list_free(&cl);
	ck_assert_int_eq(command_parse(NULL, "help\n以上\nsubscribe\n", &cl),
	    1);
}
END_TEST

START_TEST(stops_at_third_other_line)
{
	ck_assert_int_eq(command_parse(NULL,
	    "こんにちは\nhelp\nよろしく\nお願いします\nsubscribe\n", &cl), 1);
	ck_assert_int_eq(cl.v[0].verb, CMD_HELP);
	command_list_free(&cl);
	/* Blank lines do not count. */
	ck_assert_int_eq(command_parse(NULL,
	    "\n\n\n\nhello\n\n\nsubscribe\n", &cl), 1);
}
END_TEST

/* A reply to a confirmation: the Subject and the quote say it twice. */
START_TEST(reply_dedup)
{
	ck_assert_int_eq(command_parse("Re: confirm abc",
	    "> confirm abc\n> \n", &cl), 1);
	ck_assert_int_eq(cl.v[0].verb, CMD_CONFIRM);
	ck_assert_str_eq(cl.v[0].args, "abc");
	command_list_free(&cl);
	ck_assert_int_eq(command_parse("Re: 会議の件", "help", &cl), 1);
}
END_TEST

START_TEST(rsvp_words)
{
	ck_assert_int_eq(command_parse(NULL,
	    "参加 E12 +2\n不参加 E13\n未定 E14\nrsvp E15 yes\n名簿 E12\n名簿\n",
	    &cl), 6);
	ck_assert_int_eq(cl.v[0].verb, CMD_RSVP);
	ck_assert_str_eq(cl.v[0].args, "E12 yes +2");
	ck_assert_int_eq(cl.v[1].verb, CMD_RSVP);
	ck_assert_str_eq(cl.v[1].args, "E13 no");
	ck_assert_str_eq(cl.v[2].args, "E14 maybe");
	ck_assert_str_eq(cl.v[3].args, "E15 yes");
	ck_assert_int_eq(cl.v[4].verb, CMD_ROSTER);
	ck_assert_int_eq(cl.v[5].verb, CMD_WHO);
}
END_TEST

START_TEST(words_must_end)
{
	/* "helpful" is not "help"; "subscribed" is not "subscribe". */
	ck_assert_int_eq(command_parse(NULL, "helpful\nsubscribed\n", &cl), 0);
	ck_assert_int_eq(command_parse(NULL, NULL, &cl), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("command");
	TCase *tc = tcase_create("command");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, subject_and_body);
	tcase_add_test(tc, japanese_verbs_and_names);
	tcase_add_test(tc, full_width_reads_as_ascii);
	tcase_add_test(tc, case_insensitive_and_quoted);
	tcase_add_test(tc, stops_at_signature);
	tcase_add_test(tc, stops_at_end_words);
	tcase_add_test(tc, stops_at_third_other_line);
	tcase_add_test(tc, reply_dedup);
	tcase_add_test(tc, rsvp_words);
	tcase_add_test(tc, words_must_end);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
