/*
 * feed_ics - the iCalendar feed of a list's events (DIR/events.ics), for
 * subscription by Google Calendar, Apple Calendar and Thunderbird.
 *
 * One VCALENDAR (METHOD:PUBLISH, X-WR-CALNAME, and a refresh hint of an
 * hour) with a VEVENT per event.  Each VEVENT carries the UID and the
 * SEQUENCE of the event's mail, so a calendar that has both the feed and
 * an invitation shows one event, and an update or a cancellation
 * (STATUS:CANCELLED) replaces what it had.  Times are UTC, all-day
 * events DATE values of the config's timezone, as in ical.c.  libical
 * writes the text: escaping, CRLF line ends, lines folded at 75 octets
 * without splitting a UTF-8 character.  No attendee is ever named; no
 * ORGANIZER either, so calendars show a subscribed event and not an
 * invitation to answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "buf.h"
#include "config.h"
#include "events.h"
#include "ical.h"
#include "log.h"
#include "pages.h"

#define FEED_PRODID	"-//mlserver//mlserver events//EN"

static void	 feed_x(icalcomponent *, const char *, const char *);
static struct icaltimetype feed_utc(time_t);
static struct icaltimetype feed_date(const char *, time_t, int);
static icalcomponent *feed_vevent(const struct config *,
		    const struct list *, const struct event *);

static void
feed_x(icalcomponent *c, const char *name, const char *value)
{
	icalproperty *p = icalproperty_new_x(value);

	icalproperty_set_x_name(p, name);
	icalcomponent_add_property(c, p);
}

static struct icaltimetype
feed_utc(time_t t)
{
	return icaltime_from_timet_with_zone(t, 0,
	    icaltimezone_get_utc_timezone());
}

/* The local date of t in tz, plus days, as a DATE value. */
static struct icaltimetype
feed_date(const char *tz, time_t t, int days)
{
	struct ical_local l;
	struct icaltimetype d = icaltime_null_date();

	ical_to_local(tz, t, &l);
	d.year = l.year;
	d.month = l.month;
	d.day = l.day;
	d.is_date = 1;
	if (days)
		icaltime_adjust(&d, days, 0, 0, 0);
	return d;
}

static icalcomponent *
feed_vevent(const struct config *cf, const struct list *w,
    const struct event *e)
{
	icalcomponent *ev = icalcomponent_new_vevent();
	struct buf t = BUF_INIT;

	icalcomponent_add_property(ev, icalproperty_new_uid(e->uid));
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(
	    feed_utc(e->updated ? e->updated : e->created)));
	icalcomponent_add_property(ev, icalproperty_new_sequence(e->sequence));
	if (e->when.allday) {
		/* The last day's midnight; DTEND is exclusive. */
		icalcomponent_add_property(ev, icalproperty_new_dtstart(
		    feed_date(cf->timezone, e->when.start, 0)));
		icalcomponent_add_property(ev, icalproperty_new_dtend(
		    feed_date(cf->timezone, e->when.end > e->when.start ?
		    e->when.end : e->when.start, 1)));
	} else {
		icalcomponent_add_property(ev, icalproperty_new_dtstart(
		    feed_utc(e->when.start)));
		/* Without an End the event is an instant (RFC 5545 3.6.1). */
		if (e->when.end > e->when.start)
			icalcomponent_add_property(ev, icalproperty_new_dtend(
			    feed_utc(e->when.end)));
	}
	icalcomponent_add_property(ev, icalproperty_new_summary(e->title));
	if (e->place && *e->place)
		icalcomponent_add_property(ev,
		    icalproperty_new_location(e->place));
	if (e->description && *e->description) {
		pages_plain(&t, e->description);
		icalcomponent_add_property(ev,
		    icalproperty_new_description(buf_cstr(&t)));
	}
	buf_reset(&t);
	buf_printf(&t, "events/%s.html", e->ref);
	{
		struct buf url = BUF_INIT;

		pages_url(&url, w, buf_cstr(&t));
		if (url.len)
			icalcomponent_add_property(ev,
			    icalproperty_new_url(buf_cstr(&url)));
		buf_free(&url);
	}
	icalcomponent_add_property(ev, icalproperty_new_status(e->cancelled ?
	    ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(ev, icalproperty_new_transp(
	    ICAL_TRANSP_OPAQUE));
	buf_free(&t);
	return ev;
}

/*
 * The feed of archived list w with its n events, appended to out.
 * 0, or -1 when libical cannot write it.
 */
int
feed_ics_build(const struct config *cf, const struct list *w,
    const struct event *ev, size_t n, struct buf *out)
{
	icalcomponent *cal = icalcomponent_new_vcalendar();
	icalproperty *p;
	char *text;

	icalcomponent_add_property(cal, icalproperty_new_prodid(FEED_PRODID));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(cal,
	    icalproperty_new_method(ICAL_METHOD_PUBLISH));
	feed_x(cal, "X-WR-CALNAME", pages_from(cf, w->name));
	/* How often to look again: RFC 7986, and Outlook's older word. */
	if ((p = icalproperty_new_from_string(
	    "REFRESH-INTERVAL;VALUE=DURATION:PT1H")) != NULL)
		icalcomponent_add_property(cal, p);
	feed_x(cal, "X-PUBLISHED-TTL", "PT1H");
	for (size_t i = 0; i < n; i++)
		icalcomponent_add_component(cal, feed_vevent(cf, w, &ev[i]));
	if ((text = icalcomponent_as_ical_string_r(cal)) == NULL) {
		log_warnx("%s: cannot write the calendar feed", w->name);
		icalcomponent_free(cal);
		return -1;
	}
	buf_adds(out, text);
	free(text);
	icalcomponent_free(cal);
	return 0;
}
