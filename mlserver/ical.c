/*
 * ical - iCalendar with libical; see ical.h.
 *
 * libical rather than hand-written text: it escapes TEXT values (, ; \
 * and newlines), quotes parameters, folds lines at 75 octets without
 * splitting a UTF-8 character, and knows the Olson zones (Debian's
 * build reads /usr/share/zoneinfo).  Its built-in zone table is guarded
 * by its own mutex, and every string we take from it is the _r variant,
 * so the daemon's threads may call in at once.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libical/ical.h>

#include "buf.h"
#include "ical.h"
#include "log.h"

#define ICAL_PRODID	"-//mlserver//mlserver events//EN"

static icaltimezone	*ical_zone(const char *);
static struct icaltimetype ical_utc_time(time_t);
static struct icaltimetype ical_local_date(const char *, time_t);
static void	 ical_clean_param(char *, size_t, const char *);
static const char *ical_strip_mailto(const char *);
static void	 ical_first_error(icalcomponent *, struct ical_reply *);
static enum ical_partstat ical_partstat_from(icalparameter_partstat);
static int	 ical_attendee_is(icalproperty *, const char *, const char *,
		    char *, size_t);
static void	 ical_attendee_fill(icalproperty *, struct ical_reply *);

static icaltimezone *
ical_zone(const char *tz)
{
	icaltimezone *z;

	if (tz == NULL || *tz == '\0' || strcasecmp(tz, "UTC") == 0)
		return icaltimezone_get_utc_timezone();
	if ((z = icaltimezone_get_builtin_timezone(tz)) == NULL) {
		log_warnx("timezone \"%s\" is unknown; using UTC", tz);
		return icaltimezone_get_utc_timezone();
	}
	return z;
}

int
ical_tz_known(const char *tz)
{
	if (tz == NULL || *tz == '\0')
		return 0;
	return strcasecmp(tz, "UTC") == 0 ||
	    icaltimezone_get_builtin_timezone(tz) != NULL;
}

time_t
ical_to_utc(const char *tz, int year, int month, int day, int hour,
    int minute, int second)
{
	struct icaltimetype t = icaltime_null_time();

	t.year = year;
	t.month = month;
	t.day = day;
	t.hour = hour;
	t.minute = minute;
	t.second = second;
	t.is_date = 0;
	return icaltime_as_timet_with_zone(t, ical_zone(tz));
}

void
ical_to_local(const char *tz, time_t when, struct ical_local *out)
{
	struct icaltimetype t = icaltime_from_timet_with_zone(when, 0,
	    ical_zone(tz));

	out->year = t.year;
	out->month = t.month;
	out->day = t.day;
	out->hour = t.hour;
	out->minute = t.minute;
	out->second = t.second;
	out->wday = icaltime_day_of_week(t) - 1;
}

int
ical_days_in_month(int year, int month)
{
	if (month < 1 || month > 12)
		return 0;
	return icaltime_days_in_month(month, year);
}

static struct icaltimetype
ical_utc_time(time_t t)
{
	return icaltime_from_timet_with_zone(t, 0,
	    icaltimezone_get_utc_timezone());
}

/* The local date of t in tz as a DATE value (all-day events). */
static struct icaltimetype
ical_local_date(const char *tz, time_t t)
{
	struct ical_local l;
	struct icaltimetype d = icaltime_null_date();

	ical_to_local(tz, t, &l);
	d.year = l.year;
	d.month = l.month;
	d.day = l.day;
	d.is_date = 1;
	return d;
}

/*
 * A parameter value (CN) without double quotes and control characters:
 * libical would write a quote as RFC 6868's ^', which several clients
 * show literally.
 */
static void
ical_clean_param(char *out, size_t outsz, const char *in)
{
	size_t n = 0;

	for (; in && *in && n + 1 < outsz; in++)
		if (*in != '"' && (unsigned char)*in >= 0x20 && *in != 0x7f)
			out[n++] = *in;
	out[n] = '\0';
}

const char *
ical_partstat_name(enum ical_partstat p)
{
	switch (p) {
	case ICAL_PS_ACCEPTED:
		return "ACCEPTED";
	case ICAL_PS_DECLINED:
		return "DECLINED";
	case ICAL_PS_TENTATIVE:
		return "TENTATIVE";
	case ICAL_PS_NEEDS_ACTION:
		return "NEEDS-ACTION";
	default:
		return "";
	}
}

/*
 * One VCALENDAR with one VEVENT, METHOD method (PUBLISH, REQUEST or
 * CANCEL), and the attendee a when the mail is personal.  Appended to out
 * with CRLF line ends.  0, or -1 when libical refuses.
 */
int
ical_build(struct buf *out, const struct ical_event *e, const char *method,
    const struct ical_attendee *a)
{
	icalcomponent *cal, *ev;
	icalproperty *p;
	icalproperty_method m = icalproperty_string_to_method(method);
	char name[256], mailto[ADDR_MAX + 8];
	char *text;

	if (m == ICAL_METHOD_NONE || m == ICAL_METHOD_X) {
		log_warnx("ical: unknown method %s", method);
		return -1;
	}
	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(cal, icalproperty_new_prodid(ICAL_PRODID));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(cal, icalproperty_new_method(m));

	ev = icalcomponent_new_vevent();
	icalcomponent_add_property(ev, icalproperty_new_uid(e->uid));
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(
	    ical_utc_time(e->stamp ? e->stamp : time(NULL))));
	icalcomponent_add_property(ev, icalproperty_new_sequence(e->sequence));
	if (e->allday) {
		/* end is the last day's midnight; DTEND is exclusive. */
		struct icaltimetype last = ical_local_date(e->tz,
		    e->end > e->start ? e->end : e->start);

		icaltime_adjust(&last, 1, 0, 0, 0);
		icalcomponent_add_property(ev, icalproperty_new_dtstart(
		    ical_local_date(e->tz, e->start)));
		icalcomponent_add_property(ev, icalproperty_new_dtend(last));
	} else {
		icalcomponent_add_property(ev, icalproperty_new_dtstart(
		    ical_utc_time(e->start)));
		if (e->end > e->start)
			icalcomponent_add_property(ev,
			    icalproperty_new_dtend(ical_utc_time(e->end)));
	}
	icalcomponent_add_property(ev, icalproperty_new_summary(e->summary));
	if (e->location && *e->location)
		icalcomponent_add_property(ev,
		    icalproperty_new_location(e->location));
	if (e->description && *e->description)
		icalcomponent_add_property(ev,
		    icalproperty_new_description(e->description));
	snprintf(mailto, sizeof(mailto), "mailto:%s", e->organizer);
	p = icalproperty_new_organizer(mailto);
	ical_clean_param(name, sizeof(name), e->organizer_name);
	if (*name)
		icalproperty_add_parameter(p, icalparameter_new_cn(name));
	icalcomponent_add_property(ev, p);
	if (a != NULL) {
		snprintf(mailto, sizeof(mailto), "mailto:%s", a->addr);
		p = icalproperty_new_attendee(mailto);
		ical_clean_param(name, sizeof(name), a->name);
		if (*name)
			icalproperty_add_parameter(p,
			    icalparameter_new_cn(name));
		icalproperty_add_parameter(p,
		    icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
		icalproperty_add_parameter(p,
		    icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		icalproperty_add_parameter(p, icalparameter_new_partstat(
		    a->partstat == ICAL_PS_ACCEPTED ? ICAL_PARTSTAT_ACCEPTED :
		    a->partstat == ICAL_PS_DECLINED ? ICAL_PARTSTAT_DECLINED :
		    a->partstat == ICAL_PS_TENTATIVE ?
		    ICAL_PARTSTAT_TENTATIVE : ICAL_PARTSTAT_NEEDSACTION));
		if (a->rsvp)
			icalproperty_add_parameter(p,
			    icalparameter_new_rsvp(ICAL_RSVP_TRUE));
		icalcomponent_add_property(ev, p);
	}
	icalcomponent_add_property(ev, icalproperty_new_status(e->cancelled ?
	    ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(ev, icalproperty_new_transp(
	    ICAL_TRANSP_OPAQUE));
	icalcomponent_add_component(cal, ev);

	if ((text = icalcomponent_as_ical_string_r(cal)) == NULL) {
		icalcomponent_free(cal);
		log_warnx("ical: cannot serialise the event %s", e->uid);
		return -1;
	}
	buf_adds(out, text);
	free(text);
	icalcomponent_free(cal);
	return 0;
}

/* "mailto:a@b" (any case) to "a@b"; other URIs stay as they are. */
static const char *
ical_strip_mailto(const char *v)
{
	if (v == NULL)
		return "";
	while (*v == ' ')
		v++;
	if (strncasecmp(v, "mailto:", 7) == 0)
		v += 7;
	return v;
}

/* Keep the text of the first X-LIC-ERROR anywhere in c. */
static void
ical_first_error(icalcomponent *c, struct ical_reply *r)
{
	icalproperty *p;
	icalcomponent *sub;

	if (r->error[0])
		return;
	p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
	if (p != NULL) {
		const char *t = icalproperty_get_xlicerror(p);

		snprintf(r->error, sizeof(r->error), "%s", t ? t : "?");
		return;
	}
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	    sub && !r->error[0];
	    sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		ical_first_error(sub, r);
}

static enum ical_partstat
ical_partstat_from(icalparameter_partstat p)
{
	switch (p) {
	case ICAL_PARTSTAT_ACCEPTED:
		return ICAL_PS_ACCEPTED;
	case ICAL_PARTSTAT_DECLINED:
		return ICAL_PS_DECLINED;
	case ICAL_PARTSTAT_TENTATIVE:
		return ICAL_PS_TENTATIVE;
	case ICAL_PARTSTAT_NEEDSACTION:
		return ICAL_PS_NEEDS_ACTION;
	default:
		return ICAL_PS_NONE;
	}
}

/*
 * Whether ATTENDEE p is one of the sender's addresses.  Clients keep the
 * case the address was typed in (MAILTO:Taro@Example.JP), and Apple
 * Calendar may put a urn:uuid in the value with the address in EMAIL=,
 * so both are compared without case.  The address found goes to out.
 */
static int
ical_attendee_is(icalproperty *p, const char *s1, const char *s2, char *out,
    size_t outsz)
{
	const char *cand[2];
	icalparameter *em;
	int i;

	cand[0] = ical_strip_mailto(icalproperty_get_attendee(p));
	em = icalproperty_get_first_parameter(p, ICAL_EMAIL_PARAMETER);
	cand[1] = em ? icalparameter_get_email(em) : NULL;
	for (i = 0; i < 2; i++) {
		if (cand[i] == NULL || *cand[i] == '\0')
			continue;
		if ((s1 && *s1 && strcasecmp(cand[i], s1) == 0) ||
		    (s2 && *s2 && strcasecmp(cand[i], s2) == 0)) {
			snprintf(out, outsz, "%s", cand[i]);
			return 1;
		}
	}
	snprintf(out, outsz, "%s", cand[0]);
	return 0;
}

static void
ical_attendee_fill(icalproperty *p, struct ical_reply *r)
{
	icalparameter *q;

	if ((q = icalproperty_get_first_parameter(p,
	    ICAL_PARTSTAT_PARAMETER)) != NULL)
		r->partstat = ical_partstat_from(icalparameter_get_partstat(q));
	if ((q = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER)) !=
	    NULL && icalparameter_get_cn(q))
		ical_clean_param(r->name, sizeof(r->name),
		    icalparameter_get_cn(q));
	/* Gmail: ATTENDEE;...;X-NUM-GUESTS=2:mailto:... */
	for (q = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER); q;
	    q = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		const char *n = icalparameter_get_xname(q);
		const char *v = icalparameter_get_xvalue(q);

		if (n && v && strcasecmp(n, "X-NUM-GUESTS") == 0 &&
		    isdigit((unsigned char)*v) && strlen(v) <= 4)
			r->guests = atoi(v);
	}
}

/*
 * Read an iTIP REPLY: the answer of the attendee who is sender (or
 * sender2, the envelope sender).  *r is filled as far as the text goes,
 * so a caller can log what was wrong.
 */
enum ical_reply_error
ical_parse_reply(const char *text, const char *sender, const char *sender2,
    struct ical_reply *r)
{
	icalcomponent *root, *cal, *ev;
	icalproperty *p;
	enum ical_reply_error rc = ICAL_REPLY_OK;
	char addr[ADDR_MAX + 1];
	const char *uid;

	memset(r, 0, sizeof(*r));
	r->guests = -1;
	if ((root = icalparser_parse_string(text)) == NULL)
		return ICAL_REPLY_UNPARSABLE;
	cal = icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT ? root :
	    icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
	if (cal == NULL) {
		icalcomponent_free(root);
		return ICAL_REPLY_UNPARSABLE;
	}
	r->nerrors = icalcomponent_count_errors(cal);
	if (r->nerrors > 0)
		ical_first_error(cal, r);
	if ((p = icalcomponent_get_first_property(cal,
	    ICAL_METHOD_PROPERTY)) != NULL) {
		const char *m = icalproperty_method_to_string(
		    icalproperty_get_method(p));

		snprintf(r->method, sizeof(r->method), "%s", m ? m : "");
	}
	if (strcasecmp(r->method, "REPLY") != 0) {
		rc = ICAL_REPLY_NOT_REPLY;
		goto done;
	}
	for (ev = icalcomponent_get_first_component(cal,
	    ICAL_VEVENT_COMPONENT); ev; ev = icalcomponent_get_next_component(
	    cal, ICAL_VEVENT_COMPONENT))
		if ((uid = icalcomponent_get_uid(ev)) != NULL && *uid)
			break;
	if (ev == NULL) {
		rc = ICAL_REPLY_NO_EVENT;
		goto done;
	}
	snprintf(r->uid, sizeof(r->uid), "%s", icalcomponent_get_uid(ev));
	if (icalcomponent_get_first_property(ev, ICAL_SEQUENCE_PROPERTY))
		r->sequence = icalcomponent_get_sequence(ev);
	/* Outlook.com leaves ORGANIZER out; it is only informative. */
	if ((p = icalcomponent_get_first_property(ev,
	    ICAL_ORGANIZER_PROPERTY)) != NULL &&
	    addr_canon(ical_strip_mailto(icalproperty_get_organizer(p)),
	    r->organizer, sizeof(r->organizer)) != 0)
		r->organizer[0] = '\0';
	rc = ICAL_REPLY_NOT_SENDER;
	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	    p; p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		int is = ical_attendee_is(p, sender, sender2, addr,
		    sizeof(addr));

		if (!is && r->attendee[0])
			continue;
		snprintf(r->attendee, sizeof(r->attendee), "%s", addr);
		if (is) {
			ical_attendee_fill(p, r);
			rc = ICAL_REPLY_OK;
			break;
		}
	}
	if (rc == ICAL_REPLY_OK && r->partstat != ICAL_PS_ACCEPTED &&
	    r->partstat != ICAL_PS_DECLINED && r->partstat != ICAL_PS_TENTATIVE)
		rc = ICAL_REPLY_NO_PARTSTAT;
done:
	icalcomponent_free(root);
	return rc;
}

/* Whether text is an iCalendar object with METHOD:REPLY. */
int
ical_is_reply(const char *text)
{
	struct ical_reply r;

	return ical_parse_reply(text, NULL, NULL, &r) !=
	    ICAL_REPLY_UNPARSABLE && strcasecmp(r.method, "REPLY") == 0;
}
