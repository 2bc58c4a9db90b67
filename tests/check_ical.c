/*
 * Unit tests: the calendar parts we send, read back with libical field by
 * field, and calendar REPLYs as Gmail, Outlook, Outlook.com, Apple
 * Calendar and Thunderbird send them (ical.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "buf.h"
#include "ical.h"
#include "text.h"

#define UID	"E1-0011223344556677@lists.example.org"
#define ORG	"setagaya-rsvp+E1@lists.example.org"
#define DEC5_14	((time_t)1796446800)
#define DEC5_16	((time_t)1796454000)

static struct ical_event
sample_event(void)
{
	struct ical_event e;

	memset(&e, 0, sizeof(e));
	e.uid = UID;
	e.summary = "世田谷パートナーズの会 年末の集い・忘年会と来年度の"
	    "活動計画について, 第2部; 交流会";
	e.location = "世田谷区民会館 第2会議室";
	e.description = "持ち物: 筆記用具\n会費: 500円";
	e.organizer = ORG;
	e.organizer_name = "世田谷パートナーズの会 \"東京\"";
	e.tz = "Asia/Tokyo";
	e.start = DEC5_14;
	e.end = DEC5_16;
	e.sequence = 3;
	e.stamp = (time_t)1793491200;
	return e;
}

static icalcomponent *
build_and_parse(const struct ical_event *e, const char *method,
    const struct ical_attendee *a, struct buf *out)
{
	icalcomponent *cal;

	ck_assert_int_eq(ical_build(out, e, method, a), 0);
	cal = icalparser_parse_string(buf_cstr(out));
	ck_assert_ptr_nonnull(cal);
	ck_assert_int_eq(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	ck_assert_int_eq(icalcomponent_count_errors(cal), 0);
	return cal;
}

/* CRLF everywhere, no line over 75 octets, valid UTF-8 once unfolded. */
static void
check_wire_form(const char *s)
{
	struct buf unfolded = BUF_INIT;
	const char *p = s, *eol;

	while ((eol = strstr(p, "\r\n")) != NULL) {
		ck_assert_msg(eol - p <= 75, "line of %d octets: %.*s",
		    (int)(eol - p), (int)(eol - p), p);
		ck_assert_ptr_null(memchr(p, '\n', (size_t)(eol - p)));
		if (*p == ' ')
			buf_add(&unfolded, p + 1, (size_t)(eol - p - 1));
		else {
			if (unfolded.len)
				buf_addc(&unfolded, '\n');
			buf_add(&unfolded, p, (size_t)(eol - p));
		}
		p = eol + 2;
	}
	ck_assert_str_eq(p, "");
	ck_assert(text_utf8_valid(unfolded.data, unfolded.len));
	buf_free(&unfolded);
}

START_TEST(request_read_back)
{
	struct ical_event e = sample_event();
	struct ical_attendee a = { "Yamada@Example.jp", "山田 太郎",
	    ICAL_PS_ACCEPTED, 1 };
	struct buf out = BUF_INIT;
	icalcomponent *cal, *ev;
	icalproperty *p;
	icalparameter *q;
	struct icaltimetype t;

	cal = build_and_parse(&e, "REQUEST", &a, &out);
	check_wire_form(buf_cstr(&out));
	ck_assert_int_eq(icalcomponent_get_method(cal), ICAL_METHOD_REQUEST);
	p = icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY);
	ck_assert_str_eq(icalproperty_get_version(p), "2.0");
	ck_assert_ptr_nonnull(icalcomponent_get_first_property(cal,
	    ICAL_PRODID_PROPERTY));
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(icalcomponent_get_uid(ev), UID);
	ck_assert_int_eq(icalcomponent_get_sequence(ev), 3);
	ck_assert_str_eq(icalcomponent_get_summary(ev), e.summary);
	ck_assert_str_eq(icalcomponent_get_location(ev), e.location);
	ck_assert_str_eq(icalcomponent_get_description(ev), e.description);
	t = icalcomponent_get_dtstart(ev);
	ck_assert(icaltime_is_utc(t));
	ck_assert_int_eq(icaltime_as_timet(t), DEC5_14);
	t = icalcomponent_get_dtend(ev);
	ck_assert(icaltime_is_utc(t));
	ck_assert_int_eq(icaltime_as_timet(t), DEC5_16);
	t = icalcomponent_get_dtstamp(ev);
	ck_assert(icaltime_is_utc(t));
	ck_assert_int_eq(icaltime_as_timet(t), e.stamp);
	ck_assert_int_eq(icalcomponent_get_status(ev), ICAL_STATUS_CONFIRMED);

	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	ck_assert_str_eq(icalproperty_get_organizer(p), "mailto:" ORG);
	q = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
	/* The double quotes are dropped, not written as ^'. */
	ck_assert_str_eq(icalparameter_get_cn(q), "世田谷パートナーズの会 東京");

	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	ck_assert_str_eq(icalproperty_get_attendee(p),
	    "mailto:Yamada@Example.jp");
	ck_assert_ptr_null(icalcomponent_get_next_property(ev,
	    ICAL_ATTENDEE_PROPERTY));
	q = icalproperty_get_first_parameter(p, ICAL_PARTSTAT_PARAMETER);
	ck_assert_int_eq(icalparameter_get_partstat(q), ICAL_PARTSTAT_ACCEPTED);
	q = icalproperty_get_first_parameter(p, ICAL_RSVP_PARAMETER);
	ck_assert_int_eq(icalparameter_get_rsvp(q), ICAL_RSVP_TRUE);
	q = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
	ck_assert_str_eq(icalparameter_get_cn(q), "山田 太郎");
	q = icalproperty_get_first_parameter(p, ICAL_ROLE_PARAMETER);
	ck_assert_int_eq(icalparameter_get_role(q), ICAL_ROLE_REQPARTICIPANT);
	icalcomponent_free(cal);
	buf_free(&out);
}
END_TEST

START_TEST(publish_and_cancel)
{
	struct ical_event e = sample_event();
	struct ical_attendee a = { "kato@example.net", NULL,
	    ICAL_PS_TENTATIVE, 0 };
	struct buf out = BUF_INIT;
	icalcomponent *cal, *ev;
	icalproperty *p;

	e.end = 0;
	e.location = "";
	cal = build_and_parse(&e, "PUBLISH", NULL, &out);
	ck_assert_int_eq(icalcomponent_get_method(cal), ICAL_METHOD_PUBLISH);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_ptr_null(icalcomponent_get_first_property(ev,
	    ICAL_ATTENDEE_PROPERTY));
	ck_assert_ptr_null(icalcomponent_get_first_property(ev,
	    ICAL_DTEND_PROPERTY));
	ck_assert_ptr_null(icalcomponent_get_first_property(ev,
	    ICAL_LOCATION_PROPERTY));
	ck_assert_ptr_nonnull(icalcomponent_get_first_property(ev,
	    ICAL_DTSTAMP_PROPERTY));
	icalcomponent_free(cal);

	buf_reset(&out);
	e.cancelled = 1;
	e.sequence = 4;
	cal = build_and_parse(&e, "CANCEL", &a, &out);
	ck_assert_int_eq(icalcomponent_get_method(cal), ICAL_METHOD_CANCEL);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	ck_assert_int_eq(icalcomponent_get_status(ev), ICAL_STATUS_CANCELLED);
	ck_assert_int_eq(icalcomponent_get_sequence(ev), 4);
	ck_assert_str_eq(icalcomponent_get_uid(ev), UID);
	p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	ck_assert_ptr_null(icalproperty_get_first_parameter(p,
	    ICAL_RSVP_PARAMETER));
	icalcomponent_free(cal);
	ck_assert_int_eq(ical_build(&out, &e, "NONSENSE", NULL), -1);
	buf_free(&out);
}
END_TEST

START_TEST(all_day_dates)
{
	struct ical_event e = sample_event();
	struct buf out = BUF_INIT;
	icalcomponent *cal, *ev;
	struct icaltimetype t;

	e.allday = 1;
	e.start = (time_t)1796396400;	/* 2026-12-05 00:00 Tokyo */
	e.end = 0;
	cal = build_and_parse(&e, "PUBLISH", NULL, &out);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "DTSTART;VALUE=DATE:20261205\r\n"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "DTEND;VALUE=DATE:20261206\r\n"));
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	t = icalcomponent_get_dtstart(ev);
	ck_assert(t.is_date);
	icalcomponent_free(cal);
	buf_reset(&out);
	e.end = e.start + 2 * 86400;	/* the 5th to the 7th */
	cal = build_and_parse(&e, "PUBLISH", NULL, &out);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&out),
	    "DTEND;VALUE=DATE:20261208\r\n"));
	icalcomponent_free(cal);
	buf_free(&out);
}
END_TEST

#define REPLY_HEAD(prodid)						\
	"BEGIN:VCALENDAR\r\nPRODID:" prodid "\r\nVERSION:2.0\r\n"

static const char gmail[] =
	REPLY_HEAD("-//Google Inc//Google Calendar 70.9054//EN")
	"CALSCALE:GREGORIAN\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\n"
	"DTSTART:20261205T050000Z\r\nDTEND:20261205T070000Z\r\n"
	"DTSTAMP:20261102T031522Z\r\n"
	"ORGANIZER;CN=世田谷パートナーズの会:mailto:" ORG "\r\n"
	"UID:" UID "\r\n"
	"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Yamada\r\n"
	"  Taro;X-NUM-GUESTS=2:mailto:yamada.taro@gmail.com\r\n"
	"CREATED:20261101T000000Z\r\nLAST-MODIFIED:20261102T031521Z\r\n"
	"LOCATION:世田谷区民会館\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\n"
	"SUMMARY:忘年会\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/* Outlook.com: no ORGANIZER, MAILTO in capitals, a Windows zone. */
static const char outlook[] =
	"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n"
	"PRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
	"BEGIN:VTIMEZONE\r\nTZID:Tokyo Standard Time\r\nBEGIN:STANDARD\r\n"
	"DTSTART:16010101T000000\r\nTZOFFSETFROM:+0900\r\n"
	"TZOFFSETTO:+0900\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	"BEGIN:VEVENT\r\n"
	"ATTENDEE;PARTSTAT=TENTATIVE;CN=Sato Hanako:MAILTO:Hanako.Sato@Outlook.com\r\n"
	"COMMENT;LANGUAGE=ja-JP:\\n\r\n"
	"SUMMARY;LANGUAGE=ja-JP:仮承諾: 忘年会\r\n"
	"DTSTART;TZID=Tokyo Standard Time:20261205T140000\r\n"
	"DTEND;TZID=Tokyo Standard Time:20261205T160000\r\n"
	"UID:" UID "\r\nCLASS:PUBLIC\r\nPRIORITY:5\r\n"
	"DTSTAMP:20261102T040000Z\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\n"
	"SEQUENCE:0\r\nX-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE\r\n"
	"X-MICROSOFT-DISALLOW-COUNTER:FALSE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/* Apple Calendar: quoted CN, EMAIL=, sometimes a urn:uuid value. */
static const char apple[] =
	REPLY_HEAD("-//Apple Inc.//macOS 14.1//EN")
	"METHOD:REPLY\r\nCALSCALE:GREGORIAN\r\nBEGIN:VEVENT\r\n"
	"ATTENDEE;CN=\"Suzuki Ichiro\";CUTYPE=INDIVIDUAL;EMAIL=\"ichiro@icloud.com\";\r\n"
	" PARTSTAT=DECLINED:urn:uuid:5A1C0E3B-0B0D-4F7A-9A34-5F4E2B9E8C11\r\n"
	"DTEND:20261205T070000Z\r\nDTSTAMP:20261102T050000Z\r\n"
	"DTSTART:20261205T050000Z\r\n"
	"ORGANIZER;CN=\"世田谷パートナーズの会\":mailto:" ORG "\r\n"
	"REQUEST-STATUS:2.0;Success\r\nSEQUENCE:2\r\nSUMMARY:忘年会\r\n"
	"UID:" UID "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static const char thunderbird[] =
	REPLY_HEAD("-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN")
	"METHOD:REPLY\r\nBEGIN:VEVENT\r\n"
	"CREATED:20261102T010000Z\r\nLAST-MODIFIED:20261102T010100Z\r\n"
	"DTSTAMP:20261102T010100Z\r\nUID:" UID "\r\nSUMMARY:忘年会\r\n"
	"ORGANIZER;CN=世田谷パートナーズの会:mailto:" ORG "\r\n"
	"ATTENDEE;RSVP=TRUE;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:kato@example.net\r\n"
	"DTSTART:20261205T050000Z\r\nDTEND:20261205T070000Z\r\n"
	"SEQUENCE:0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

START_TEST(gmail_reply)
{
	struct ical_reply r;

	ck_assert_int_eq(ical_parse_reply(gmail, "yamada.taro@gmail.com", NULL,
	    &r), ICAL_REPLY_OK);
	ck_assert_str_eq(r.method, "REPLY");
	ck_assert_str_eq(r.uid, UID);
	ck_assert_str_eq(r.organizer, ORG);
	ck_assert_int_eq(r.partstat, ICAL_PS_ACCEPTED);
	ck_assert_int_eq(r.guests, 2);
	ck_assert_str_eq(r.name, "Yamada Taro");
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert(ical_is_reply(gmail));
	/* The envelope sender may be the one that matches. */
	ck_assert_int_eq(ical_parse_reply(gmail, "someone@example.jp",
	    "Yamada.Taro@Gmail.com", &r), ICAL_REPLY_OK);
}
END_TEST

START_TEST(outlook_reply_without_organizer)
{
	struct ical_reply r;

	/* The sender's case differs from the ATTENDEE's. */
	ck_assert_int_eq(ical_parse_reply(outlook, "hanako.sato@outlook.com",
	    NULL, &r), ICAL_REPLY_OK);
	ck_assert_str_eq(r.organizer, "");
	ck_assert_str_eq(r.uid, UID);
	ck_assert_str_eq(r.attendee, "Hanako.Sato@Outlook.com");
	ck_assert_int_eq(r.partstat, ICAL_PS_TENTATIVE);
	ck_assert_int_eq(r.guests, -1);
	ck_assert_str_eq(r.name, "Sato Hanako");
}
END_TEST

START_TEST(apple_reply_email_parameter)
{
	struct ical_reply r;

	ck_assert_int_eq(ical_parse_reply(apple, "ichiro@icloud.com", NULL,
	    &r), ICAL_REPLY_OK);
	ck_assert_int_eq(r.partstat, ICAL_PS_DECLINED);
	ck_assert_int_eq(r.sequence, 2);
	ck_assert_str_eq(r.name, "Suzuki Ichiro");
	ck_assert_str_eq(r.organizer, ORG);
}
END_TEST

START_TEST(thunderbird_reply)
{
	struct ical_reply r;

	ck_assert_int_eq(ical_parse_reply(thunderbird, "kato@example.net", NULL,
	    &r), ICAL_REPLY_OK);
	ck_assert_int_eq(r.partstat, ICAL_PS_ACCEPTED);
	ck_assert_int_eq(r.guests, -1);
}
END_TEST

START_TEST(attendee_must_be_the_sender)
{
	struct ical_reply r;

	ck_assert_int_eq(ical_parse_reply(thunderbird, "intruder@example.net",
	    NULL, &r), ICAL_REPLY_NOT_SENDER);
	ck_assert_str_eq(r.attendee, "kato@example.net");
	ck_assert_int_eq(ical_parse_reply(gmail, NULL, NULL, &r),
	    ICAL_REPLY_NOT_SENDER);
}
END_TEST

START_TEST(not_replies_and_errors)
{
	struct ical_reply r;
	struct buf b = BUF_INIT;
	char *s;

	ck_assert_int_eq(ical_parse_reply("hello, world\r\n", "a@b", NULL, &r),
	    ICAL_REPLY_UNPARSABLE);
	ck_assert(!ical_is_reply("hello"));

	/* A forwarded invitation is not an answer. */
	s = strdup(thunderbird);
	memcpy(strstr(s, "METHOD:REPLY"), "METHOD:COUNT", 12);
	ck_assert_int_eq(ical_parse_reply(s, "kato@example.net", NULL, &r),
	    ICAL_REPLY_NOT_REPLY);
	ck_assert(!ical_is_reply(s));
	free(s);

	/* Bad values become X-LIC-ERROR; the answer itself still reads. */
	buf_adds(&b, REPLY_HEAD("-//broken//EN") "METHOD:REPLY\r\n"
	    "BEGIN:VEVENT\r\nUID:" UID "\r\nDTSTART:notadate\r\n"
	    "DTFOO;X=1:bar\r\n"
	    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:kato@example.net\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n");
	ck_assert_int_eq(ical_parse_reply(buf_cstr(&b), "kato@example.net",
	    NULL, &r), ICAL_REPLY_OK);
	ck_assert_int_ge(r.nerrors, 1);
	ck_assert_str_ne(r.error, "");

	/* No answer in it. */
	buf_reset(&b);
	buf_adds(&b, REPLY_HEAD("-//x//EN") "METHOD:REPLY\r\n"
	    "BEGIN:VEVENT\r\nUID:" UID "\r\n"
	    "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:kato@example.net\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n");
	ck_assert_int_eq(ical_parse_reply(buf_cstr(&b), "kato@example.net",
	    NULL, &r), ICAL_REPLY_NO_PARTSTAT);
	buf_reset(&b);
	buf_adds(&b, REPLY_HEAD("-//x//EN") "METHOD:REPLY\r\n"
	    "BEGIN:VEVENT\r\nUID:" UID "\r\n"
	    "ATTENDEE;PARTSTAT=MAYBE-LATER:mailto:kato@example.net\r\n"
	    "END:VEVENT\r\nEND:VCALENDAR\r\n");
	ck_assert_int_eq(ical_parse_reply(buf_cstr(&b), "kato@example.net",
	    NULL, &r), ICAL_REPLY_NO_PARTSTAT);

	/* No VEVENT with a UID. */
	buf_reset(&b);
	buf_adds(&b, REPLY_HEAD("-//x//EN") "METHOD:REPLY\r\n"
	    "BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n");
	ck_assert_int_eq(ical_parse_reply(buf_cstr(&b), "kato@example.net",
	    NULL, &r), ICAL_REPLY_NO_EVENT);
	buf_free(&b);
}
END_TEST

START_TEST(round_trip_through_our_own_reply_reader)
{
	/* What we send, turned into a REPLY the way a client would. */
	struct ical_event e = sample_event();
	struct ical_attendee a = { "yamada@example.jp", "山田",
	    ICAL_PS_ACCEPTED, 1 };
	struct buf out = BUF_INIT;
	struct ical_reply r;
	char *m;

	ck_assert_int_eq(ical_build(&out, &e, "REQUEST", &a), 0);
	m = strstr(out.data, "METHOD:REQUEST");
	ck_assert_ptr_nonnull(m);
	memmove(m + 12, m + 14, strlen(m + 14) + 1);
	memcpy(m, "METHOD:REPLY", 12);
	ck_assert_int_eq(ical_parse_reply(out.data, "YAMADA@example.jp", NULL,
	    &r), ICAL_REPLY_OK);
	ck_assert_str_eq(r.uid, UID);
	ck_assert_int_eq(r.partstat, ICAL_PS_ACCEPTED);
	ck_assert_str_eq(r.organizer, ORG);
	buf_free(&out);
}
END_TEST

START_TEST(time_zones)
{
	struct ical_local l;

	ck_assert(ical_tz_known("Asia/Tokyo"));
	ck_assert(ical_tz_known("UTC"));
	ck_assert(!ical_tz_known("Asia/Atlantis"));
	ck_assert(!ical_tz_known(""));
	ck_assert_int_eq(ical_to_utc("Asia/Tokyo", 2026, 12, 5, 14, 0, 0),
	    DEC5_14);
	ical_to_local("Asia/Tokyo", DEC5_14, &l);
	ck_assert_int_eq(l.year, 2026);
	ck_assert_int_eq(l.month, 12);
	ck_assert_int_eq(l.day, 5);
	ck_assert_int_eq(l.hour, 14);
	ck_assert_int_eq(l.wday, 6);
	ck_assert_int_eq(ical_days_in_month(2028, 2), 29);
	ck_assert_int_eq(ical_days_in_month(2026, 2), 28);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ical");
	TCase *tc = tcase_create("ical");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, request_read_back);
	tcase_add_test(tc, publish_and_cancel);
	tcase_add_test(tc, all_day_dates);
	tcase_add_test(tc, gmail_reply);
	tcase_add_test(tc, outlook_reply_without_organizer);
	tcase_add_test(tc, apple_reply_email_parameter);
	tcase_add_test(tc, thunderbird_reply);
	tcase_add_test(tc, attendee_must_be_the_sender);
	tcase_add_test(tc, not_replies_and_errors);
	tcase_add_test(tc, round_trip_through_our_own_reply_reader);
	tcase_add_test(tc, time_zones);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
