/*
 * Unit tests: the rules of answers on a real SQLite file (events.c):
 * capacity with guests, the waitlist and its promotion, the deadline,
 * the last answer winning; and reading announcements and answers
 * (event_parse.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event_parse.h"
#include "events.h"
#include "store.h"
#include "testutil.h"

#define DAY	86400

static char		*dir;
static struct store	*st;
static time_t		 now;

static void
setup(void)
{
	char path[512];

	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	ck_assert_int_eq(store_open(path, &st), 0);
	ck_assert_int_eq(store_exec(st, "INSERT INTO lists (name, scope, "
	    "region, chapter) VALUES ('setagaya', 'chapter', 'tokyo', "
	    "'setagaya'), ('meguro', 'chapter', 'tokyo', 'meguro'), "
	    "('tokyo', 'region', 'tokyo', NULL), ('kita', 'chapter', "
	    "'osaka', 'kita'), ('all', 'network', NULL, NULL)"), 0);
	now = time(NULL);
}

static void
teardown(void)
{
	store_close(st);
	tu_rmdir(dir);
	free(dir);
}

/* An event of list, starting in days days, with a capacity. */
static void
make_event(struct event *e, const char *list, int days, int capacity)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->list, sizeof(e->list), "%s", list);
	e->title = strdup("忘年会");
	e->place = strdup("区民会館");
	e->description = strdup("");
	e->organizer = strdup("sewanin@example.jp");
	e->when.start = now + days * DAY;
	e->when.end = e->when.start + 7200;
	e->capacity = capacity;
	ck_assert_int_eq(events_create(st, e, "lists.example.org"), 0);
	ck_assert_int_gt(e->id, 0);
	ck_assert_ptr_nonnull(strstr(e->uid, "@lists.example.org"));
	ck_assert(strncmp(e->uid, e->ref, strlen(e->ref)) == 0);
}

static enum rsvp_outcome
answer(const struct event *e, const char *who, enum rsvp_answer a,
    int guests, struct rsvp_result *res)
{
	ck_assert_int_eq(events_rsvp(st, e, who, "", a, guests, "command",
	    now, res), 0);
	return res->outcome;
}

static int
position(const struct event *e, const char *who)
{
	struct rsvp r;
	int p;

	ck_assert_int_eq(events_rsvp_get(st, e->id, who, &r), 1);
	p = r.position;
	rsvp_clear(&r);
	return p;
}

START_TEST(capacity_guests_waitlist_promotion)
{
	struct event e;
	struct rsvp_result res;

	make_event(&e, "setagaya", 10, 5);
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 2, &res), RSVP_GOING);
	ck_assert_int_eq(res.seats_left, 2);
	ck_assert(!res.filled);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_YES, 1, &res), RSVP_GOING);
	ck_assert_int_eq(res.seats_left, 0);
	ck_assert(res.filled);		/* b took the last seats */
	rsvp_result_clear(&res);
	/* Saying yes again changes nothing: b did not fill it now. */
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_YES, 1, &res), RSVP_GOING);
	ck_assert(!res.filled);
	rsvp_result_clear(&res);
	/* Full: the next ones wait, in order. */
	ck_assert_int_eq(answer(&e, "c@x.jp", RSVP_YES, 0, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 1);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "d@x.jp", RSVP_YES, 1, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 2);
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_count_seats(st, &e), 0);
	ck_assert_int_eq(e.taken, 5);
	ck_assert_int_eq(e.waiting, 2);

	/* The last answer wins: b cancels; c (1 seat) is promoted, d (2)
	 * does not fit in the one seat left and keeps the head of the line. */
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_NO, 0, &res),
	    RSVP_DECLINED);
	ck_assert_uint_eq(res.promoted.n, 1);
	ck_assert_str_eq(res.promoted.v[0], "c@x.jp");
	rsvp_result_clear(&res);
	ck_assert_int_eq(position(&e, "c@x.jp"), 0);
	ck_assert_int_eq(position(&e, "d@x.jp"), 1);

	/* A seat left that d cannot use goes to whoever fits. */
	ck_assert_int_eq(answer(&e, "e@x.jp", RSVP_YES, 0, &res), RSVP_GOING);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "f@x.jp", RSVP_YES, 0, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 2);
	rsvp_result_clear(&res);

	/* a comes alone after all: two seats free, d is promoted first. */
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 0, &res), RSVP_GOING);
	ck_assert_uint_eq(res.promoted.n, 1);
	ck_assert_str_eq(res.promoted.v[0], "d@x.jp");
	rsvp_result_clear(&res);
	ck_assert_int_eq(position(&e, "f@x.jp"), 1);
	ck_assert_int_eq(events_count_seats(st, &e), 0);
	ck_assert_int_eq(e.taken, 5);
	ck_assert_int_eq(e.waiting, 1);
	event_clear(&e);
}
END_TEST

START_TEST(a_party_too_big_is_passed_over)
{
	struct event e;
	struct rsvp_result res;

	make_event(&e, "setagaya", 10, 3);
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 2, &res), RSVP_GOING);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "big@x.jp", RSVP_YES, 2, &res),
	    RSVP_WAITLISTED);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "one@x.jp", RSVP_YES, 0, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 2);
	rsvp_result_clear(&res);
	/* One seat frees: the party of three cannot use it, one can. */
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 1, &res), RSVP_GOING);
	ck_assert_uint_eq(res.promoted.n, 1);
	ck_assert_str_eq(res.promoted.v[0], "one@x.jp");
	rsvp_result_clear(&res);
	ck_assert_int_eq(position(&e, "big@x.jp"), 1);
	/* a leaves: two seats, still too few for the party of three. */
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_NO, 0, &res),
	    RSVP_DECLINED);
	ck_assert_uint_eq(res.promoted.n, 0);
	rsvp_result_clear(&res);
	/* A newcomer who fits takes one... */
	ck_assert_int_eq(answer(&e, "new@x.jp", RSVP_YES, 0, &res),
	    RSVP_GOING);
	rsvp_result_clear(&res);
	/* ...and when three are free the party at the head goes first. */
	ck_assert_int_eq(answer(&e, "one@x.jp", RSVP_NO, 0, &res),
	    RSVP_DECLINED);
	ck_assert_uint_eq(res.promoted.n, 0);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "new@x.jp", RSVP_MAYBE, 0, &res),
	    RSVP_TENTATIVE);
	ck_assert_uint_eq(res.promoted.n, 1);
	ck_assert_str_eq(res.promoted.v[0], "big@x.jp");
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_count_seats(st, &e), 0);
	ck_assert_int_eq(e.taken, 3);
	ck_assert_int_eq(e.waiting, 0);
	event_clear(&e);
}
END_TEST

START_TEST(more_guests_than_seats_keeps_the_seat)
{
	struct event e;
	struct rsvp_result res;
	struct rsvp r;

	make_event(&e, "setagaya", 10, 4);
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 1, &res), RSVP_GOING);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_YES, 0, &res), RSVP_GOING);
	rsvp_result_clear(&res);
	/* One seat left; a asks for three more guests. */
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 4, &res), RSVP_KEPT);
	ck_assert_int_eq(res.guests, 1);
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_rsvp_get(st, e.id, "a@x.jp", &r), 1);
	ck_assert_int_eq(r.guests, 1);
	ck_assert_int_eq(r.position, 0);
	rsvp_clear(&r);
	/* Two more fit exactly. */
	ck_assert_int_eq(answer(&e, "a@x.jp", RSVP_YES, 2, &res), RSVP_GOING);
	ck_assert_int_eq(res.seats_left, 0);
	rsvp_result_clear(&res);
	event_clear(&e);
}
END_TEST

START_TEST(waiting_again_keeps_the_place)
{
	struct event e;
	struct rsvp_result res;

	make_event(&e, "setagaya", 10, 1);
	answer(&e, "a@x.jp", RSVP_YES, 0, &res);
	rsvp_result_clear(&res);
	answer(&e, "b@x.jp", RSVP_YES, 0, &res);
	rsvp_result_clear(&res);
	answer(&e, "c@x.jp", RSVP_YES, 0, &res);
	rsvp_result_clear(&res);
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_YES, 3, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 1);
	rsvp_result_clear(&res);
	/* Maybe and no leave the line; maybe holds no seat. */
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_MAYBE, 0, &res),
	    RSVP_TENTATIVE);
	rsvp_result_clear(&res);
	ck_assert_int_eq(position(&e, "c@x.jp"), 1);
	ck_assert_int_eq(answer(&e, "b@x.jp", RSVP_YES, 0, &res),
	    RSVP_WAITLISTED);
	ck_assert_int_eq(res.position, 2);
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_count_seats(st, &e), 0);
	ck_assert_int_eq(e.taken, 1);
	event_clear(&e);
}
END_TEST

START_TEST(no_limit_deadline_cancelled_started)
{
	struct event e;
	struct rsvp_result res;
	struct rsvp r;

	make_event(&e, "setagaya", 10, 0);
	for (int i = 0; i < 50; i++) {
		char who[32];

		snprintf(who, sizeof(who), "p%d@x.jp", i);
		ck_assert_int_eq(answer(&e, who, RSVP_YES, 3, &res),
		    RSVP_GOING);
		ck_assert_int_eq(res.seats_left, -1);
		rsvp_result_clear(&res);
	}
	e.deadline = now - 60;
	ck_assert_int_eq(answer(&e, "late@x.jp", RSVP_YES, 0, &res),
	    RSVP_CLOSED);
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_rsvp_get(st, e.id, "late@x.jp", &r), 0);
	/* A change of mind after the deadline is refused too. */
	ck_assert_int_eq(answer(&e, "p1@x.jp", RSVP_NO, 0, &res),
	    RSVP_CLOSED);
	rsvp_result_clear(&res);
	e.deadline = 0;
	e.cancelled = 1;
	ck_assert_int_eq(answer(&e, "late@x.jp", RSVP_YES, 0, &res),
	    RSVP_OVER);
	rsvp_result_clear(&res);
	e.cancelled = 0;
	e.when.start = now;
	ck_assert_int_eq(answer(&e, "late@x.jp", RSVP_YES, 0, &res),
	    RSVP_OVER);
	rsvp_result_clear(&res);
	event_clear(&e);
}
END_TEST

static int
collect(const struct rsvp *r, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s:%s:%d:%d ", r->addr, events_answer_name(r->answer),
	    r->guests, r->position);
	return 0;
}

START_TEST(roster_order_and_case)
{
	struct event e;
	struct rsvp_result res;
	struct buf b = BUF_INIT;

	make_event(&e, "setagaya", 10, 2);
	answer(&e, "no@x.jp", RSVP_NO, 0, &res);
	rsvp_result_clear(&res);
	answer(&e, "maybe@x.jp", RSVP_MAYBE, 1, &res);
	rsvp_result_clear(&res);
	answer(&e, "Yes1@x.jp", RSVP_YES, 1, &res);
	rsvp_result_clear(&res);
	answer(&e, "w1@x.jp", RSVP_YES, 0, &res);
	rsvp_result_clear(&res);
	answer(&e, "w2@x.jp", RSVP_YES, 0, &res);
	rsvp_result_clear(&res);
	/* The same mailbox in another case is the same answer. */
	ck_assert_int_eq(answer(&e, "yes1@X.JP", RSVP_YES, 0, &res),
	    RSVP_GOING);
	ck_assert_uint_eq(res.promoted.n, 1);
	rsvp_result_clear(&res);
	ck_assert_int_eq(events_foreach_rsvp(st, e.id, collect, &b), 0);
	/* Those coming in order of their (last) answer, then the line. */
	ck_assert_str_eq(buf_cstr(&b), "w1@x.jp:yes:0:0 Yes1@x.jp:yes:0:0 "
	    "w2@x.jp:yes:0:1 maybe@x.jp:maybe:1:0 no@x.jp:no:0:0 ");
	buf_free(&b);
	event_clear(&e);
}
END_TEST

static int
count_event(const struct event *e, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "%s:%s ", e->ref, e->list);
	return 0;
}

START_TEST(upcoming_by_scope_and_reminders)
{
	struct event a, b, c, d, past, x;
	struct buf out = BUF_INIT, want = BUF_INIT;
	long long *ids;
	size_t n;

	make_event(&a, "setagaya", 3, 0);
	make_event(&b, "tokyo", 2, 0);
	make_event(&c, "kita", 1, 0);
	make_event(&d, "all", 4, 0);
	make_event(&past, "setagaya", -1, 0);
	ck_assert_int_eq(events_foreach_upcoming(st, "setagaya", now,
	    count_event, &out), 0);
	buf_printf(&want, "%s:tokyo %s:setagaya %s:all ", b.ref, a.ref, d.ref);
	ck_assert_str_eq(buf_cstr(&out), buf_cstr(&want));
	buf_reset(&out);
	buf_reset(&want);
	/* A region list sees its chapters' events too, not another's. */
	ck_assert_int_eq(events_foreach_upcoming(st, "tokyo", now,
	    count_event, &out), 0);
	buf_printf(&want, "%s:tokyo %s:setagaya %s:all ", b.ref, a.ref, d.ref);
	ck_assert_str_eq(buf_cstr(&out), buf_cstr(&want));
	buf_reset(&out);
	ck_assert_int_eq(events_foreach_upcoming(st, NULL, now, count_event,
	    &out), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out), c.ref));
	ck_assert_ptr_null(strstr(buf_cstr(&out), past.ref));

	/* Reminders: due a day before; once; not for an event announced
	 * after that moment (x: announced twelve hours before it starts). */
	memset(&x, 0, sizeof(x));
	make_event(&x, "setagaya", 0, 0);
	x.when.start = now + DAY / 2;
	ck_assert_int_eq(events_save(st, &x), 0);
	ck_assert_int_eq(events_due_reminders(st, DAY, now + 60, &ids, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ids[0], c.id);
	free(ids);
	ck_assert_int_eq(events_reminder_mark(st, &c, DAY, now), 1);
	ck_assert_int_eq(events_reminder_mark(st, &c, DAY, now), 0);
	ck_assert_int_eq(events_due_reminders(st, DAY, now + 60, &ids, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(ids);
	/* Another lead is another reminder. */
	ck_assert_int_eq(events_due_reminders(st, 3600, now + DAY - 60, &ids,
	    &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ids[0], c.id);
	free(ids);
	/* Moved a day later, it is reminded of again, as is tokyo's. */
	c.when.start += DAY;
	ck_assert_int_eq(events_save(st, &c), 0);
	ck_assert_int_eq(events_due_reminders(st, DAY, now + DAY + 60, &ids,
	    &n), 0);
	ck_assert_uint_eq(n, 2);
	free(ids);
	/* Cancelled: none. */
	b.cancelled = 1;
	ck_assert_int_eq(events_save(st, &b), 0);
	ck_assert_int_eq(events_due_reminders(st, DAY, now + DAY + 60, &ids,
	    &n), 0);
	ck_assert_uint_eq(n, 1);
	free(ids);
	buf_free(&out);
	buf_free(&want);
	event_clear(&a);
	event_clear(&b);
	event_clear(&c);
	event_clear(&d);
	event_clear(&past);
	event_clear(&x);
}
END_TEST

START_TEST(refs)
{
	long long id;

	ck_assert_int_eq(events_parse_ref("E12", &id), 0);
	ck_assert_int_eq(id, 12);
	ck_assert_int_eq(events_parse_ref("e7", &id), 0);
	ck_assert_int_eq(id, 7);
	ck_assert_int_eq(events_parse_ref("3", &id), 0);
	ck_assert_int_eq(events_parse_ref("E", &id), -1);
	ck_assert_int_eq(events_parse_ref("E0", &id), -1);
	ck_assert_int_eq(events_parse_ref("E1x", &id), -1);
	ck_assert_int_eq(events_parse_ref("P-2026-0001", &id), -1);
}
END_TEST

START_TEST(announcement_fields)
{
	struct event_fields f;

	ck_assert_int_eq(event_fields_parse(
	    "\n日時：１２月５日（土） １４：００～１６：００\n"
	    "場所: 世田谷区民会館 第2会議室\r\n"
	    "定員： ３０名\n"
	    "締切: 12月3日\n"
	    "\n"
	    "年末の集いです。\nURL: https://example.jp/\n\n"
	    "-- \n世話人 山田\n", &f), 4);
	ck_assert_str_eq(f.value[EVF_DATE], "12月5日(土) 14:00~16:00");
	ck_assert_str_eq(f.line[EVF_DATE],
	    "日時：１２月５日（土） １４：００～１６：００");
	ck_assert_str_eq(f.value[EVF_PLACE], "世田谷区民会館 第2会議室");
	ck_assert_str_eq(f.value[EVF_CAPACITY], "30名");
	ck_assert_str_eq(f.value[EVF_DEADLINE], "12月3日");
	ck_assert_ptr_null(f.value[EVF_END]);
	ck_assert_str_eq(f.rest, "年末の集いです。\nURL: https://example.jp/");
	event_fields_free(&f);

	ck_assert_int_eq(event_fields_parse("Event: E12\nPlace: Room 3\n"
	    "Cancel: yes\nDate: 2026-12-05 14:00\nEnd: 16:00\n", &f), 5);
	ck_assert_str_eq(f.value[EVF_EVENT], "E12");
	ck_assert(event_is_yes(f.value[EVF_CANCEL]));
	ck_assert_str_eq(f.value[EVF_END], "16:00");
	ck_assert_str_eq(f.rest, "");
	event_fields_free(&f);

	/* No fields: all of it is text; Date is then missing. */
	ck_assert_int_eq(event_fields_parse("こんにちは。\n日時: 明日\n", &f),
	    0);
	ck_assert_ptr_null(f.value[EVF_DATE]);
	event_fields_free(&f);
	ck_assert_int_eq(event_fields_parse(NULL, &f), 0);
	event_fields_free(&f);
	ck_assert(event_is_yes("はい"));
	ck_assert(event_is_yes("ＹＥＳ"));
	ck_assert(!event_is_yes("no"));
}
END_TEST

static void
expect_answer(const char *line, enum rsvp_answer want, int guests,
    const char *ref)
{
	enum rsvp_answer a;
	int g;
	char r[EVENT_REF_MAX];

	ck_assert_msg(event_answer_parse(line, &a, &g, r, sizeof(r)) == 0,
	    "\"%s\" not read", line);
	ck_assert_msg(a == want, "\"%s\": answer %d", line, a);
	ck_assert_msg(g == guests, "\"%s\": guests %d", line, g);
	ck_assert_str_eq(r, ref);
}

START_TEST(answers)
{
	enum rsvp_answer a;
	int g;
	char r[EVENT_REF_MAX];

	expect_answer("yes", RSVP_YES, 0, "");
	expect_answer("Yes!", RSVP_YES, 0, "");
	expect_answer("参加", RSVP_YES, 0, "");
	expect_answer("参加します。", RSVP_YES, 0, "");
	expect_answer("出席 +2", RSVP_YES, 2, "");
	expect_answer("参加+1", RSVP_YES, 1, "");
	expect_answer("参加　＋２名", RSVP_YES, 2, "");
	expect_answer("ＹＥＳ ＋１", RSVP_YES, 1, "");
	expect_answer("no", RSVP_NO, 0, "");
	expect_answer("不参加", RSVP_NO, 0, "");
	expect_answer("欠席します", RSVP_NO, 0, "");
	expect_answer("maybe", RSVP_MAYBE, 0, "");
	expect_answer("未定", RSVP_MAYBE, 0, "");
	expect_answer("rsvp E12 yes +3", RSVP_YES, 3, "E12");
	expect_answer("E12 yes +1", RSVP_YES, 1, "E12");	/* 参加 E12 +1 */
	expect_answer("e5 no", RSVP_NO, 0, "E5");
	/* Not exactly an answer: never guessed. */
	ck_assert_int_eq(event_answer_parse("参加できません", &a, &g, r,
	    sizeof(r)), -1);
	ck_assert_int_eq(event_answer_parse("yes please, and my wife", &a, &g,
	    r, sizeof(r)), -1);
	ck_assert_int_eq(event_answer_parse("yes no", &a, &g, r, sizeof(r)),
	    -1);
	ck_assert_int_eq(event_answer_parse("+2", &a, &g, r, sizeof(r)), -1);
	ck_assert_int_eq(event_answer_parse("yes +99", &a, &g, r, sizeof(r)),
	    -1);
	ck_assert_int_eq(event_answer_parse("", &a, &g, r, sizeof(r)), -1);

	/* The first line that is not quoted; else the Subject. */
	ck_assert_int_eq(event_answer_from_mail("\n> 参加の回答をお願いします\n"
	    "\n  不参加\n参加\n", "Re: 忘年会", &a, &g, r, sizeof(r)), 0);
	ck_assert_int_eq(a, RSVP_NO);
	ck_assert_int_eq(event_answer_from_mail("行けるかも\n未定\n", NULL, &a,
	    &g, r, sizeof(r)), -1);
	ck_assert_int_eq(event_answer_from_mail("", "Re: 参加 +1", &a, &g, r,
	    sizeof(r)), 0);
	ck_assert_int_eq(a, RSVP_YES);
	ck_assert_int_eq(g, 1);
	ck_assert_int_eq(event_answer_from_mail(NULL, "Re: 忘年会", &a, &g, r,
	    sizeof(r)), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("events");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, capacity_guests_waitlist_promotion);
	tcase_add_test(tc, a_party_too_big_is_passed_over);
	tcase_add_test(tc, more_guests_than_seats_keeps_the_seat);
	tcase_add_test(tc, waiting_again_keeps_the_place);
	tcase_add_test(tc, no_limit_deadline_cancelled_started);
	tcase_add_test(tc, roster_order_and_case);
	tcase_add_test(tc, upcoming_by_scope_and_reminders);
	tcase_add_test(tc, refs);
	tcase_add_test(tc, announcement_fields);
	tcase_add_test(tc, answers);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
