/*
 * Unit tests: the calendar feed read back with libical, the marks the
 * triggers set in the change's own transaction, the pages pages_run
 * writes from them (seats left, never a name or an address), and the
 * text helpers (pages.c, pages_events.c, feed_ics.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libical/ical.h>

#include "buf.h"
#include "config.h"
#include "events.h"
#include "pages.h"
#include "proposals.h"
#include "store.h"
#include "testutil.h"
#include "text.h"

#define DEC5_14	((time_t)1796446800)	/* 2026-12-05 14:00 JST */
#define DEC5_16	((time_t)1796454000)

static char		*dir;
static struct config	*cf;
static struct store	*st;

static const char conf_fmt[] =
    "domain = \"lists.example.org\";\n"
    "state_dir = \"%s\";\n"
    "listen = [ \"127.0.0.1:2424\" ];\n"
    "network = { name = \"テストネットワーク\"; regions = (\n"
    "  { id = \"tokyo\"; name = \"東京\"; chapters = (\n"
    "    { id = \"setagaya\"; name = \"世田谷パートナーズの会\"; },\n"
    "    { id = \"meguro\"; name = \"目黒パートナーズの会\"; } ); },\n"
    "  { id = \"osaka\"; name = \"大阪\"; chapters = (\n"
    "    { id = \"kita\"; name = \"北区パートナーズの会\"; } ); } ); };\n"
    "lists = (\n"
    "  { name = \"setagaya\"; scope = \"chapter:tokyo/setagaya\";\n"
    "    archive = { dir = \"%s/web/setagaya\";\n"
    "      url = \"https://lists.example.org/setagaya\"; public = true; }; },\n"
    "  { name = \"meguro\"; scope = \"chapter:tokyo/meguro\"; },\n"
    "  { name = \"kita\"; scope = \"chapter:osaka/kita\"; language = \"en\";\n"
    "    archive = { dir = \"%s/web/kita\"; }; },\n"
    "  { name = \"tokyo\"; scope = \"region:tokyo\";\n"
    "    archive = { dir = \"%s/web/tokyo\"; }; },\n"
    "  { name = \"all\"; scope = \"network\"; }\n"
    ");\n";

static void
setup(void)
{
	struct buf text = BUF_INIT, errors = BUF_INIT;
	char *path;

	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	buf_printf(&text, conf_fmt, dir, dir, dir, dir);
	path = tu_write(dir, "mlserver.conf", buf_cstr(&text));
	ck_assert_ptr_nonnull(path);
	ck_assert_msg(config_load(path, &cf, &errors) == 0, "%s",
	    buf_cstr(&errors));
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

/* The file dir/rel, or NULL when there is none.  Allocated. */
static char *
slurp(const char *rel)
{
	struct buf path = BUF_INIT, out = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *fp;

	buf_printf(&path, "%s/%s", dir, rel);
	fp = fopen(buf_cstr(&path), "r");
	buf_free(&path);
	if (fp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&out, chunk, n);
	fclose(fp);
	return buf_release(&out);
}

static int
marks(void)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM pages_dirty");
	int n;

	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return n;
}

static void
make_event(struct event *e, const char *list, const char *title,
    time_t start, int capacity)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->list, sizeof(e->list), "%s", list);
	e->title = strdup(title);
	e->place = strdup("世田谷区民会館 第2会議室");
	e->description = strdup("連絡先: sewanin@members.example.jp");
	e->organizer = strdup("sewanin@members.example.jp");
	e->when.start = start;
	e->when.end = start + 7200;
	e->capacity = capacity;
	ck_assert_int_eq(events_create(st, e, "lists.example.org"), 0);
}

/* CRLF, lines of at most 75 octets each valid UTF-8 on its own. */
static void
check_wire_form(const char *s)
{
	const char *p = s, *eol;

	while ((eol = strstr(p, "\r\n")) != NULL) {
		ck_assert_msg(eol - p <= 75, "line of %d octets: %.*s",
		    (int)(eol - p), (int)(eol - p), p);
		ck_assert_ptr_null(memchr(p, '\n', (size_t)(eol - p)));
		ck_assert_msg(text_utf8_valid(p, (size_t)(eol - p)),
		    "a fold splits a character: %.*s", (int)(eol - p), p);
		p = eol + 2;
	}
	ck_assert_str_eq(p, "");
}

static const char *
xprop(icalcomponent *c, const char *name)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY); p;
	    p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY))
		if (strcmp(icalproperty_get_x_name(p), name) == 0)
			return icalproperty_get_x(p);
	return NULL;
}

START_TEST(feed_read_back)
{
	struct event ev[2];
	struct buf out = BUF_INIT;
	const struct list *w = config_list(cf, "setagaya");
	icalcomponent *cal, *c;
	struct icaltimetype t;
	int n = 0;

	memset(ev, 0, sizeof(ev));
	ev[0].id = 1;
	snprintf(ev[0].ref, sizeof(ev[0].ref), "E1");
	snprintf(ev[0].list, sizeof(ev[0].list), "setagaya");
	ev[0].uid = "E1-0011223344556677@lists.example.org";
	ev[0].title = "世田谷パートナーズの会 年末の集い・忘年会と来年度の"
	    "活動計画について, 第2部; 交流会";
	ev[0].place = "世田谷区民会館 第2会議室";
	ev[0].description = "連絡先: sewanin@members.example.jp";
	ev[0].when.start = DEC5_14;
	ev[0].when.end = DEC5_16;
	ev[0].sequence = 2;
	ev[0].cancelled = 1;
	ev[0].updated = DEC5_14 - 86400;
	ev[1] = ev[0];
	ev[1].id = 2;
	snprintf(ev[1].ref, sizeof(ev[1].ref), "E2");
	ev[1].uid = "E2-8899aabbccddeeff@lists.example.org";
	ev[1].title = "清掃活動";
	ev[1].description = "";
	ev[1].when.allday = 1;
	ev[1].when.end = 0;
	ev[1].cancelled = 0;
	ev[1].sequence = 0;

	ck_assert_int_eq(feed_ics_build(cf, w, ev, 2, &out), 0);
	check_wire_form(buf_cstr(&out));
	ck_assert_ptr_null(strstr(buf_cstr(&out), "sewanin@"));
	cal = icalparser_parse_string(buf_cstr(&out));
	ck_assert_ptr_nonnull(cal);
	ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
	ck_assert_int_eq(icalcomponent_get_method(cal), ICAL_METHOD_PUBLISH);
	ck_assert_str_eq(icalproperty_get_version(
	    icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY)),
	    "2.0");
	ck_assert_ptr_nonnull(icalcomponent_get_first_property(cal,
	    ICAL_PRODID_PROPERTY));
	ck_assert_str_eq(xprop(cal, "X-WR-CALNAME"), "世田谷パートナーズの会");
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    c; c = icalcomponent_get_next_component(cal,
	    ICAL_VEVENT_COMPONENT), n++) {
		ck_assert_str_eq(icalcomponent_get_uid(c), ev[n].uid);
		ck_assert_str_eq(icalcomponent_get_summary(c), ev[n].title);
		ck_assert_int_eq(icalcomponent_get_sequence(c),
		    ev[n].sequence);
		ck_assert_ptr_nonnull(icalcomponent_get_first_property(c,
		    ICAL_DTSTAMP_PROPERTY));
		ck_assert_ptr_null(icalcomponent_get_first_property(c,
		    ICAL_ATTENDEE_PROPERTY));
	}
	ck_assert_int_eq(n, 2);
	c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_int_eq(icalcomponent_get_status(c), ICAL_STATUS_CANCELLED);
	t = icalcomponent_get_dtstart(c);
	ck_assert(icaltime_is_utc(t));
	ck_assert_int_eq(icaltime_as_timet(t), DEC5_14);
	t = icalcomponent_get_dtend(c);
	ck_assert(icaltime_is_utc(t));
	ck_assert_int_eq(icaltime_as_timet(t), DEC5_16);
	ck_assert_str_eq(icalcomponent_get_location(c), ev[0].place);
	ck_assert_str_eq(icalcomponent_get_description(c),
	    "連絡先: sewanin at members…");
	ck_assert_str_eq(icalproperty_get_url(icalcomponent_get_first_property(
	    c, ICAL_URL_PROPERTY)),
	    "https://lists.example.org/setagaya/events/E1.html");
	/* All day: the local date, DTEND the day after. */
	c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_int_eq(icalcomponent_get_status(c), ICAL_STATUS_CONFIRMED);
	t = icalcomponent_get_dtstart(c);
	ck_assert(t.is_date);
	ck_assert_int_eq(t.day, 5);
	t = icalcomponent_get_dtend(c);
	ck_assert(t.is_date);
	ck_assert_int_eq(t.day, 6);
	icalcomponent_free(cal);
	buf_free(&out);
}
END_TEST

START_TEST(text_is_escaped_without_addresses)
{
	struct buf b = BUF_INIT;

	pages_text(&b, "<script>alert(1)</script> & mail "
	    "taro.yamada+ml@members.example.jp or sewanin@localhost.");
	ck_assert_str_eq(buf_cstr(&b), "<pre>&lt;script&gt;alert(1)&lt;/"
	    "script&gt; &amp; mail taro.yamada+ml at members… or sewanin at "
	    "localhost.</pre>\n");
	buf_reset(&b);
	pages_text(&b, "@ alone, a@ and @b stay");
	ck_assert_str_eq(buf_cstr(&b), "<pre>@ alone, a@ and @b stay</pre>\n");
	buf_free(&b);
}
END_TEST

/*
 * An event and its answers mark the list in their own transaction; the
 * run writes the chapter's and the region's pages and clears the mark.
 */
START_TEST(marks_and_event_pages)
{
	struct event e, got;
	struct rsvp_result res;
	char *page, *ics;
	time_t start = time(NULL) + 20 * 86400;

	ck_assert_int_eq(marks(), 0);
	ck_assert_int_eq(store_begin(st), 0);
	make_event(&e, "setagaya", "忘年会 <b>", start, 3);
	store_rollback(st);
	ck_assert_int_eq(marks(), 0);
	event_clear(&e);

	ck_assert_int_eq(store_begin(st), 0);
	make_event(&e, "setagaya", "忘年会 <b>", start, 3);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(marks(), 1);
	ck_assert_int_ge(pages_run(cf, st), 2);	/* setagaya and tokyo */
	ck_assert_int_eq(marks(), 0);
	page = slurp("web/setagaya/events/index.html");
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "忘年会 &lt;b&gt;"));
	ck_assert_ptr_nonnull(strstr(page, "残り 3 席（定員 3 名）"));
	free(page);

	ck_assert_int_eq(events_get(st, e.id, &got), 1);
	ck_assert_int_eq(events_rsvp(st, &got, "taro@members.example.jp",
	    "山田太郎", RSVP_YES, 1, "command", time(NULL), &res), 0);
	rsvp_result_clear(&res);
	ck_assert_int_eq(marks(), 1);
	ck_assert_int_ge(pages_run(cf, st), 2);
	page = slurp("web/tokyo/events/E1.html");
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "残り 1 席（定員 3 名）"));
	ck_assert_ptr_null(strstr(page, "山田"));
	ck_assert_ptr_null(strstr(page, "taro"));
	ck_assert_ptr_null(strstr(page, "sewanin@"));
	ck_assert_ptr_nonnull(strstr(page, "sewanin at members…"));
	free(page);
	ics = slurp("web/tokyo/events.ics");
	ck_assert_ptr_nonnull(ics);
	ck_assert_ptr_nonnull(strstr(ics, got.uid));
	ck_assert_ptr_nonnull(strstr(ics, "X-WR-CALNAME:東京\r\n"));
	free(ics);
	/* An unarchived list has no pages. */
	ck_assert_ptr_null(slurp("web/meguro/events/index.html"));
	event_clear(&got);
	event_clear(&e);

	/* Another region's event is not the tokyo feed's. */
	ck_assert_int_eq(store_begin(st), 0);
	make_event(&e, "kita", "北区の集い", start, 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(marks(), 1);
	ck_assert_int_ge(pages_run(cf, st), 0);
	ck_assert_int_eq(marks(), 0);
	ics = slurp("web/tokyo/events.ics");
	ck_assert_ptr_null(strstr(ics, e.uid));
	free(ics);
	/* Its own list's pages are in that list's language. */
	page = slurp("web/kita/events/index.html");
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "<html lang=\"en\">"));
	ck_assert_ptr_nonnull(strstr(page, "Events of 北区パートナーズの会"));
	ck_assert_ptr_nonnull(strstr(page, "No limit on places"));
	ck_assert_ptr_nonnull(strstr(page, "No past events."));
	free(page);
	event_clear(&e);
}
END_TEST

/* A proposal becomes public once opened; its page has the history. */
START_TEST(proposal_pages)
{
	struct proposal p;
	char *page;
	time_t now = time(NULL);

	memset(&p, 0, sizeof(p));
	p.list = "setagaya";
	snprintf(p.proposer, sizeof(p.proposer), "yamada@members.example.jp");
	p.name = "山田太郎";
	p.title = "区民会館の夜間利用について";
	p.theme = "施設";
	p.body = "平日は21時まで使えるようにしてください。";
	p.year = 2026;
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(proposal_create(st, &p, now - 3 * 86400), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_ge(pages_run(cf, st), 2);
	page = slurp("web/setagaya/proposals/index.html");
	ck_assert_ptr_null(strstr(page, p.title));	/* not approved */
	free(page);
	ck_assert_ptr_null(slurp("web/setagaya/proposals/P-2026-0001.html"));

	ck_assert_int_eq(proposal_set_state(st, &p, PROPOSAL_OPEN,
	    now - 2 * 86400, ""), 0);
	ck_assert_int_eq(proposal_support(st, p.ref,
	    "hanako@members.example.jp", now), 1);
	ck_assert_int_eq(proposal_set_forwarded(st, &p, "tokyo",
	    now - 86400 * 10 - 60), 0);
	ck_assert_int_ge(pages_run(cf, st), 2);
	page = slurp("web/tokyo/proposals/P-2026-0001.html");
	ck_assert_ptr_nonnull(page);
	ck_assert_ptr_nonnull(strstr(page, "提出先へ送付済み"));
	ck_assert_ptr_nonnull(strstr(page, "1 名"));
	ck_assert_ptr_null(strstr(page, "hanako"));
	ck_assert_ptr_null(strstr(page, "yamada"));
	ck_assert_ptr_nonnull(strstr(page, "まだ回答はありません"));
	free(page);
	page = slurp("web/tokyo/proposals/unanswered.html");
	ck_assert_ptr_nonnull(strstr(page, "P-2026-0001"));
	ck_assert_ptr_nonnull(strstr(page, "10 日"));
	free(page);

	ck_assert_int_eq(proposal_record_answer(st, &p, "answered",
	    "来年4月から試行します。", now), 0);
	ck_assert_int_ge(pages_run(cf, st), 2);
	page = slurp("web/tokyo/proposals/unanswered.html");
	ck_assert_ptr_null(strstr(page, "P-2026-0001"));
	ck_assert_ptr_nonnull(strstr(page, "回答を待っている提案はありません"));
	free(page);
	page = slurp("web/setagaya/proposals/P-2026-0001.html");
	ck_assert_ptr_nonnull(strstr(page, "来年4月から試行します。"));
	ck_assert_ptr_nonnull(strstr(page, "回答済み"));
	free(page);
	free(p.forwarded_by);
	free(p.answer);
	free(p.answer_state);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pages");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	/* Pages are fsynced; a loaded machine under valgrind is slow. */
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, feed_read_back);
	tcase_add_test(tc, text_is_escaped_without_addresses);
	tcase_add_test(tc, marks_and_event_pages);
	tcase_add_test(tc, proposal_pages);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
