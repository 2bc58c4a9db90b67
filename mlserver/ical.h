/*
 * ical - iCalendar (RFC 5545) with libical: the calendar parts of event
 * mail, the iTIP replies (RFC 5546) calendar programs send back, and the
 * time zone arithmetic the event code needs.
 *
 * Everything we send is in UTC (DTSTART:...Z), which every client reads
 * without a VTIMEZONE; all-day events are DATE values of the config's
 * timezone.  The UID is the event's and never changes; SEQUENCE is the
 * event's revision.  The ORGANIZER is LIST-rsvp+EVENT@D, so the answer
 * buttons of Gmail, Outlook, Apple Calendar and Thunderbird mail their
 * REPLY to the address that records it.
 *
 * Parsing is forgiving as libical is: a bad value does not fail the
 * parse but becomes an X-LIC-ERROR property.  Such errors are counted and
 * the first is kept for the log; what matters (METHOD, UID, the sender's
 * ATTENDEE and its PARTSTAT) is then checked on its own.
 */
#ifndef MLS_ICAL_H
#define MLS_ICAL_H

#include <time.h>

#include "addr.h"

struct buf;

enum ical_partstat {
	ICAL_PS_NONE,		/* absent or unknown */
	ICAL_PS_NEEDS_ACTION,
	ICAL_PS_ACCEPTED,
	ICAL_PS_DECLINED,
	ICAL_PS_TENTATIVE
};

/* The event as a calendar shows it. */
struct ical_event {
	const char	*uid;
	const char	*summary;
	const char	*location;	/* or "" */
	const char	*description;	/* or "" */
	const char	*organizer;	/* address */
	const char	*organizer_name;
	const char	*tz;		/* for all-day dates */
	time_t		 start;
	time_t		 end;		/* 0: none */
	int		 allday;
	int		 sequence;
	int		 cancelled;
	time_t		 stamp;		/* DTSTAMP; 0: now */
};

struct ical_attendee {
	const char		*addr;
	const char		*name;	/* or NULL */
	enum ical_partstat	 partstat;
	int			 rsvp;	/* RSVP=TRUE */
};

enum ical_reply_error {
	ICAL_REPLY_OK = 0,
	ICAL_REPLY_UNPARSABLE,	/* not iCalendar at all */
	ICAL_REPLY_NOT_REPLY,	/* METHOD is not REPLY */
	ICAL_REPLY_NO_EVENT,	/* no VEVENT with a UID */
	ICAL_REPLY_NOT_SENDER,	/* no ATTENDEE is the sender */
	ICAL_REPLY_NO_PARTSTAT	/* the sender's PARTSTAT is missing or odd */
};

struct ical_reply {
	char			 method[32];
	char			 uid[256];
	char			 organizer[ADDR_MAX + 1];	/* "" if absent */
	char			 attendee[ADDR_MAX + 1];	/* as written */
	char			 name[128];	/* its CN, UTF-8, or "" */
	enum ical_partstat	 partstat;
	int			 guests;	/* X-NUM-GUESTS, -1 if absent */
	int			 sequence;
	int			 nerrors;	/* X-LIC-ERROR properties */
	char			 error[256];	/* the first one's text */
};

int	 ical_build(struct buf *, const struct ical_event *,
	    const char *method, const struct ical_attendee *);
enum ical_reply_error ical_parse_reply(const char *text, const char *sender,
	    const char *sender2, struct ical_reply *);
int	 ical_is_reply(const char *text);
const char *ical_partstat_name(enum ical_partstat);

/* Local wall-clock time in zone tz (an Olson name) and UTC seconds. */
struct ical_local {
	int	year, month, day, hour, minute, second;
	int	wday;		/* 0 = Sunday */
};

int	 ical_tz_known(const char *tz);
time_t	 ical_to_utc(const char *tz, int year, int month, int day, int hour,
	    int minute, int second);
void	 ical_to_local(const char *tz, time_t, struct ical_local *);
int	 ical_days_in_month(int year, int month);

#endif
