/*
 * event_date - reading the dates organizers write, and writing dates
 * back in the list's language.
 *
 * Organizers write dates as they would on a flyer: "2026-12-05 14:00",
 * "2026/12/5 14:00", "12月5日 14時", "12月5日(土) 14:00～16:00",
 * "令和8年12月5日", "18:30～" (no end given), in full-width digits as
 * often as not, with or without the year.  A date
 * without a year is its next occurrence; every time is in the config's
 * timezone and kept as UTC seconds.  A weekday written beside the date
 * is checked against it, because a wrong weekday on an announcement is
 * the commonest typo and sends people on the wrong day.
 */
#ifndef MLS_EVENT_DATE_H
#define MLS_EVENT_DATE_H

#include <time.h>

struct buf;

/* What a value is read as. */
enum evd_kind {
	EVD_START,	/* Date: a date, a time or none, maybe a range */
	EVD_END,	/* End: a time (on the start's day) or a date and time */
	EVD_DEADLINE	/* Deadline: a date (end of that day) or a date and time */
};

enum evd_error {
	EVD_OK = 0,
	EVD_EMPTY,	/* nothing written */
	EVD_SYNTAX,	/* not a date we can read */
	EVD_NODATE,	/* a time without a date where a date is needed */
	EVD_BADDATE,	/* no such day (2月30日) or hour */
	EVD_WEEKDAY,	/* the weekday does not match the date */
	EVD_ORDER,	/* the end is not after the start */
	EVD_PAST	/* in the past */
};

struct event_when {
	time_t	start;
	time_t	end;		/* 0: none given */
	int	allday;		/* start (and end) are local midnights */
};

int	 event_date_parse(const char *text, enum evd_kind, const char *tz,
	    time_t now, const struct event_when *ref, struct event_when *out,
	    int *weekday);
const char *event_date_error(enum evd_error);
void	 event_date_format(struct buf *, const char *lang, const char *tz,
	    const struct event_when *);
void	 event_date_short(struct buf *, const char *lang, const char *tz,
	    time_t);
void	 event_date_stamp(struct buf *, const char *tz, time_t);
int	 event_count_parse(const char *text, int *out);

#endif
