/*
 * proposal_sched - the forwarding schedule and local dates; see
 * proposal_sched.h.
 *
 * libical converts between UTC and a named zone without touching the
 * process's TZ, which other threads read.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <libical/ical.h>

#include "buf.h"
#include "proposal_sched.h"

static icaltimezone	*sched_zone(const char *);
static int		 sched_num(const char **, int, int, int *);
static time_t		 sched_at(icaltimezone *, int, int,
			    const struct proposal_sched_point *);

const char *const proposal_sched_default[] = {
	"01-01 09:00", "04-01 09:00", "07-01 09:00", "10-01 09:00", NULL
};

/* The zone called name; UTC when libical does not know it. */
static icaltimezone *
sched_zone(const char *name)
{
	icaltimezone *z = name ? icaltimezone_get_builtin_timezone(name) :
	    NULL;

	return z ? z : icaltimezone_get_utc_timezone();
}

/* One or two digits at *s, within [min, max]. */
static int
sched_num(const char **s, int min, int max, int *out)
{
	int v = 0, n = 0;

	while (n < 2 && isdigit((unsigned char)**s)) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Read "MM-DD HH:MM" or "*-DD HH:MM".  A day that no such month has
 * (04-31, 02-30) is refused; 02-29 is kept for leap years.
 */
int
proposal_sched_parse(const char *s, struct proposal_sched_point *p)
{
	static const int mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	while (*s == ' ')
		s++;
	if (*s == '*') {
		p->month = 0;
		s++;
	} else if (sched_num(&s, 1, 12, &p->month) != 0)
		return -1;
	if (*s++ != '-' || sched_num(&s, 1, 31, &p->day) != 0)
		return -1;
	if (p->month && p->day > mdays[p->month - 1])
		return -1;
	if (*s != ' ' && *s != 'T')
		return -1;
	while (*s == ' ' || *s == 'T')
		s++;
	if (sched_num(&s, 0, 23, &p->hour) != 0 || *s++ != ':' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
		return -1;
	p->minute = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	while (*s == ' ')
		s++;
	return p->minute < 60 && *s == '\0' ? 0 : -1;
}

/* The point in year/month as UTC seconds, or -1 when that day is not. */
static time_t
sched_at(icaltimezone *z, int year, int month,
    const struct proposal_sched_point *p)
{
	struct icaltimetype t = icaltime_null_time();

	if (p->day > icaltime_days_in_month(month, year))
		return -1;
	t.year = year;
	t.month = month;
	t.day = p->day;
	t.hour = p->hour;
	t.minute = p->minute;
	t.zone = z;
	return icaltime_as_timet_with_zone(t, z);
}

/*
 * The latest scheduled point at or before now: 1 with *when and key
 * ("YYYY-MM-DD HH:MM", local) set, 0 when the schedule is empty.
 * Entries that do not parse were refused by the config check and are
 * skipped here.
 */
int
proposal_sched_latest(char *const *sched, size_t n, const char *tz,
    time_t now, time_t *when, char key[PROPOSAL_SCHED_KEY])
{
	icaltimezone *z = sched_zone(tz);
	struct icaltimetype local = icaltime_from_timet_with_zone(now, 0, z);
	struct proposal_sched_point p;
	time_t best = -1;
	int by = 0, bm = 0, bd = 0, bh = 0, bmin = 0;

	for (size_t i = 0; i < n; i++) {
		if (proposal_sched_parse(sched[i], &p) != 0)
			continue;
		for (int y = local.year - 1; y <= local.year; y++)
			for (int m = 1; m <= 12; m++) {
				time_t t;

				if (p.month && p.month != m)
					continue;
				t = sched_at(z, y, m, &p);
				if (t < 0 || t > now || t <= best)
					continue;
				best = t;
				by = y;
				bm = m;
				bd = p.day;
				bh = p.hour;
				bmin = p.minute;
			}
	}
	if (best < 0)
		return 0;
	*when = best;
	snprintf(key, PROPOSAL_SCHED_KEY, "%04d-%02d-%02d %02d:%02d", by, bm,
	    bd, bh, bmin);
	return 1;
}

/* The first scheduled point after now: 1 and *when, or 0. */
int
proposal_sched_next(char *const *sched, size_t n, const char *tz,
    time_t now, time_t *when)
{
	icaltimezone *z = sched_zone(tz);
	struct icaltimetype local = icaltime_from_timet_with_zone(now, 0, z);
	struct proposal_sched_point p;
	time_t best = 0;

	for (size_t i = 0; i < n; i++) {
		if (proposal_sched_parse(sched[i], &p) != 0)
			continue;
		for (int y = local.year; y <= local.year + 1; y++)
			for (int m = 1; m <= 12; m++) {
				time_t t;

				if (p.month && p.month != m)
					continue;
				t = sched_at(z, y, m, &p);
				if (t > now && (best == 0 || t < best))
					best = t;
			}
	}
	if (best == 0)
		return 0;
	*when = best;
	return 1;
}

/* t as "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" in zone tz. */
void
proposal_sched_local(struct buf *b, const char *tz, time_t t, int with_time)
{
	struct icaltimetype l = icaltime_from_timet_with_zone(t, 0,
	    sched_zone(tz));

	buf_printf(b, "%04d-%02d-%02d", l.year, l.month, l.day);
	if (with_time)
		buf_printf(b, " %02d:%02d", l.hour, l.minute);
}

/* The year t falls in, in zone tz (a proposal's reference year). */
int
proposal_sched_year(const char *tz, time_t t)
{
	return icaltime_from_timet_with_zone(t, 0, sched_zone(tz)).year;
}
