/*
 * event_date - reading and writing event dates; see event_date.h.
 *
 * A value is first normalised (full-width forms to ASCII, the many
 * Japanese range marks and "から" to '~', "まで"/"頃" dropped), then read
 * as one or two points ("DATE [WEEKDAY] [TIME]" and, after '~' or '-',
 * "[DATE] [WEEKDAY] TIME").  A range mark with nothing after it
 * ("18:30～", "午後6時半から") is an open end: a start and no end.  The
 * points are resolved against a reference day: today for Date and
 * Deadline (a year left out is the next occurrence), the start's day
 * for End and for a range's second half.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "event_date.h"
#include "ical.h"
#include "text.h"

struct evd_point {
	int	any;			/* something was read */
	int	has_date, has_year, has_time;
	int	y, m, d, h, mi, sec;
	int	wday;			/* written weekday, or -1 */
};

static void	 evd_normalise(const char *, struct buf *);
static void	 evd_skip(const char **);
static int	 evd_lit(const char **, const char *);
static int	 evd_any(const char **, const char *const *);
static int	 evd_number(const char **, int *, int);
static int	 evd_month_name(const char **, int *);
static int	 evd_era(const char **, int *);
static int	 evd_weekday(const char **, int *);
static int	 evd_date(const char **, struct evd_point *);
static int	 evd_time(const char **, struct evd_point *);
static void	 evd_point(const char **, struct evd_point *);
static int	 evd_scan(const char *, struct evd_point *, struct evd_point *,
		    int *);
static int	 evd_resolve(struct evd_point *, int, int, int);
static int	 evd_check_weekday(const struct evd_point *, int *);
static time_t	 evd_utc(const char *, const struct evd_point *, int, int,
		    int);

static const char *const ja_wdays[] = {
	"日", "月", "火", "水", "木", "金", "土"
};
static const char *const en_wdays[] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};
static const char *const en_months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

/* Replacements after width folding: range marks, noise words. */
static const struct {
	const char	*from;
	const char	*to;
} evd_subst[] = {
	{ "\xe3\x80\x9c", "~" },	/* 〜 WAVE DASH */
	{ "\xe2\x80\x93", "~" },	/* – EN DASH */
	{ "\xe2\x80\x94", "~" },	/* — EM DASH */
	{ "\xe2\x80\x95", "~" },	/* ― HORIZONTAL BAR */
	{ "\xe3\x83\xbc", "~" },	/* ー (used as a dash) */
	{ "\xe2\x88\x92", "-" },	/* − MINUS SIGN */
	{ "\xe3\x8b\xbf", "令和" },	/* ㋿ SQUARE ERA NAME REIWA */
	{ "から", "~" },
	{ "まで", "" },
	{ "頃", "" },
	{ "ごろ", "" },
	{ "より", "" },
	{ "開始", "" },
	{ "、", " " },
	{ ",", " " },
	{ "正午", "12:00" },
};

static void
evd_normalise(const char *in, struct buf *out)
{
	struct buf folded = BUF_INIT;
	const char *p;
	size_t i;

	text_fold_width(&folded, in);
	for (p = buf_cstr(&folded); *p;) {
		for (i = 0; i < sizeof(evd_subst) / sizeof(evd_subst[0]); i++) {
			size_t n = strlen(evd_subst[i].from);

			if (strncmp(p, evd_subst[i].from, n) == 0) {
				buf_adds(out, evd_subst[i].to);
				p += n;
				break;
			}
		}
		if (i == sizeof(evd_subst) / sizeof(evd_subst[0]))
			buf_addc(out, *p++);
	}
	buf_cstr(out);
	buf_free(&folded);
}

static void
evd_skip(const char **pp)
{
	while (**pp == ' ' || **pp == '\t')
		(*pp)++;
}

/* Consume s (ASCII compared without case) if it comes next. */
static int
evd_lit(const char **pp, const char *s)
{
	size_t n = strlen(s);

	if (strncasecmp(*pp, s, n) != 0)
		return 0;
	*pp += n;
	return 1;
}

/* Up to max digits; returns how many were read (0: none, or too many). */
static int
evd_number(const char **pp, int *v, int max)
{
	const char *p = *pp;
	int n = 0, k = 0;

	while (isdigit((unsigned char)*p)) {
		if (++k > max)
			return 0;
		n = n * 10 + (*p++ - '0');
	}
	if (k == 0)
		return 0;
	*v = n;
	*pp = p;
	return k;
}

/* "Dec", "Dec.", "December" (any case); *m is 1..12. */
static int
evd_month_name(const char **pp, int *m)
{
	const char *p = *pp;
	size_t n = 0, i;

	while (isalpha((unsigned char)p[n]))
		n++;
	if (n < 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (n <= strlen(en_months[i]) &&
		    strncasecmp(p, en_months[i], n) == 0)
			break;
	if (i == 12)
		return 0;
	p += n;
	if (*p == '.')
		p++;
	*m = (int)i + 1;
	*pp = p;
	return 1;
}

/*
 * A year of the Reiwa era, as official notices and many flyers write
 * it: "令和8年", "令和元年" (the first).  *y is 2018 + N.
 */
static int
evd_era(const char **pp, int *y)
{
	const char *p = *pp;
	int n;

	if (!evd_lit(&p, "令和"))
		return 0;
	evd_skip(&p);
	if (evd_lit(&p, "元"))
		n = 1;
	else if (!evd_number(&p, &n, 2) || n < 1)
		return 0;
	evd_skip(&p);
	if (!evd_lit(&p, "年"))
		return 0;
	*y = 2018 + n;
	*pp = p;
	return 1;
}

/*
 * A weekday: "(土)", "(土曜日)", "(土・祝)", "土曜日", "Sat", "Saturday".
 * *wday is 0..6, or -1 for a parenthesis we cannot read (a holiday mark
 * alone), which is skipped.
 */
static int
evd_weekday(const char **pp, int *wday)
{
	const char *p = *pp, *close = NULL;
	int paren = 0, i;

	*wday = -1;
	if (*p == '(') {
		if ((close = strchr(p, ')')) == NULL)
			return 0;
		paren = 1;
		p++;
		evd_skip(&p);
	}
	for (i = 0; i < 7; i++) {
		size_t n = strlen(ja_wdays[i]);

		if (strncmp(p, ja_wdays[i], n) == 0 && (paren ||
		    strncmp(p + n, "曜", strlen("曜")) == 0)) {
			*wday = i;
			p += n;
			if (evd_lit(&p, "曜"))
				evd_lit(&p, "日");
			break;
		}
		if (strncasecmp(p, en_wdays[i], 3) == 0 &&
		    !isalpha((unsigned char)p[3])) {
			*wday = i;
			p += 3;
			break;
		}
		n = strlen(en_wdays[i]);
		if (strncasecmp(p, en_wdays[i], n) == 0) {
			*wday = i;
			p += n;
			break;
		}
	}
	if (paren) {
		*pp = close + 1;
		return 1;
	}
	if (*wday < 0)
		return 0;
	if (*p == '.')
		p++;
	*pp = p;
	return 1;
}

/*
 * A date: Y-M-D, Y/M/D, Y.M.D, M/D, M-D, Y年M月D日, 令和N年M月D日,
 * M月D日, "Dec 5 [2026]", "5 Dec [2026]".  Returns 1 when one was read.
 */
static int
evd_date(const char **pp, struct evd_point *pt)
{
	const char *p = *pp;
	int a, b, c, k = 0, era;

	if (evd_month_name(&p, &pt->m)) {
		evd_skip(&p);
		if (!evd_number(&p, &pt->d, 2))
			return 0;
		(void)(evd_lit(&p, "st") || evd_lit(&p, "nd") ||
		    evd_lit(&p, "rd") || evd_lit(&p, "th"));
		goto year;
	}
	if ((era = evd_era(&p, &a)) == 0 && (k = evd_number(&p, &a, 4)) == 0)
		return 0;
	if (era || (k == 4 && evd_lit(&p, "年"))) {
		evd_skip(&p);
		if (!evd_number(&p, &b, 2) || !evd_lit(&p, "月"))
			return 0;
		evd_skip(&p);
		if (!evd_number(&p, &c, 2) || !evd_lit(&p, "日"))
			return 0;
		pt->y = a;
		pt->m = b;
		pt->d = c;
		pt->has_year = 1;
	} else if (k <= 2 && evd_lit(&p, "月")) {
		evd_skip(&p);
		if (!evd_number(&p, &b, 2) || !evd_lit(&p, "日"))
			return 0;
		pt->m = a;
		pt->d = b;
	} else if (*p == '-' || *p == '/' || *p == '.') {
		char sep = *p++;

		if (!evd_number(&p, &b, 2))
			return 0;
		if (*p == sep && isdigit((unsigned char)p[1])) {
			p++;
			if (k != 4 || !evd_number(&p, &c, 2))
				return 0;
			pt->y = a;
			pt->m = b;
			pt->d = c;
			pt->has_year = 1;
		} else if (k <= 2) {
			pt->m = a;
			pt->d = b;
		} else
			return 0;
	} else if (k <= 2) {
		/* "5 Dec 2026" */
		const char *q = p;

		evd_skip(&q);
		if (!evd_month_name(&q, &pt->m))
			return 0;
		pt->d = a;
		p = q;
		goto year;
	} else
		return 0;
	*pp = p;
	pt->has_date = 1;
	return 1;
year:
	{
		const char *q = p;
		int y;

		evd_skip(&q);
		if (evd_number(&q, &y, 4) == 4 && *q != ':') {
			pt->y = y;
			pt->has_year = 1;
			p = q;
		}
	}
	*pp = p;
	pt->has_date = 1;
	return 1;
}

/*
 * A time: 14:00, 14時, 14時30分, 14時半, 午後2時, 2pm, 2:30 p.m.
 * Returns 1 when one was read (checked for range later).
 */
static int
evd_time(const char **pp, struct evd_point *pt)
{
	const char *p = *pp;
	int ampm = 0, h, mi = 0, sec = 0;

	if (evd_lit(&p, "午前"))
		ampm = 1;
	else if (evd_lit(&p, "午後"))
		ampm = 2;
	evd_skip(&p);
	if (!evd_number(&p, &h, 2))
		return 0;
	if (*p == ':') {
		p++;
		if (evd_number(&p, &mi, 2) != 2)
			return 0;
		/* Seconds are read (and kept) for tests and scripts. */
		if (*p == ':') {
			p++;
			if (evd_number(&p, &sec, 2) != 2)
				return 0;
		}
	} else if (evd_lit(&p, "時")) {
		if (evd_lit(&p, "半"))
			mi = 30;
		else {
			const char *q = p;

			if (evd_number(&q, &mi, 2) && evd_lit(&q, "分"))
				p = q;
			else
				mi = 0;
		}
	} else {
		const char *q = p;

		evd_skip(&q);
		if (ampm == 0 && !(tolower((unsigned char)*q) == 'a' ||
		    tolower((unsigned char)*q) == 'p'))
			return 0;
	}
	{
		const char *q = p;

		evd_skip(&q);
		if (evd_lit(&q, "am") || evd_lit(&q, "a.m.")) {
			ampm = 1;
			p = q;
		} else if (evd_lit(&q, "pm") || evd_lit(&q, "p.m.")) {
			ampm = 2;
			p = q;
		}
	}
	if (ampm) {
		if (h < 1 || h > 12)
			h = 99;		/* reported as a bad time */
		else if (ampm == 2 && h < 12)
			h += 12;
		else if (ampm == 1 && h == 12)
			h = 0;
	}
	pt->h = h;
	pt->mi = mi;
	pt->sec = sec;
	pt->has_time = 1;
	*pp = p;
	return 1;
}

/* [WEEKDAY] [DATE] [WEEKDAY] ["T"] [TIME] */
static void
evd_point(const char **pp, struct evd_point *pt)
{
	const char *p = *pp;
	int w;

	memset(pt, 0, sizeof(*pt));
	pt->wday = -1;
	if (evd_weekday(&p, &w)) {
		pt->wday = w;
		evd_skip(&p);
	}
	if (evd_date(&p, pt)) {
		evd_skip(&p);
		if (evd_weekday(&p, &w)) {
			if (w >= 0)
				pt->wday = w;
			evd_skip(&p);
		}
		if (*p == 'T' || *p == 't')
			p++;
		evd_skip(&p);
	}
	evd_time(&p, pt);
	pt->any = pt->has_date || pt->has_time;
	*pp = p;
}

/*
 * 0 when the whole text is one or two points, or one point and a range
 * mark with nothing after it (*open set: no end given).
 */
static int
evd_scan(const char *s, struct evd_point *a, struct evd_point *b, int *open)
{
	const char *p = s;

	memset(b, 0, sizeof(*b));
	b->wday = -1;
	*open = 0;
	evd_skip(&p);
	evd_point(&p, a);
	if (!a->any)
		return -1;
	evd_skip(&p);
	if (*p == '~' || *p == '-') {
		p++;
		evd_skip(&p);
		if (*p == '\0') {
			*open = 1;
			return 0;
		}
		evd_point(&p, b);
		if (!b->any)
			return -1;
		evd_skip(&p);
	}
	return *p == '\0' ? 0 : -1;
}

/*
 * Give pt a year (the next occurrence on or after ry-rm-rd when none was
 * written) and check the date and time exist.  0 or EVD_BADDATE.
 */
static int
evd_resolve(struct evd_point *pt, int ry, int rm, int rd)
{
	if (!pt->has_year) {
		pt->y = ry;
		if (pt->m < rm || (pt->m == rm && pt->d < rd))
			pt->y++;
	}
	if (pt->y < 1970 || pt->y > 2200 || pt->m < 1 || pt->m > 12 ||
	    pt->d < 1 || pt->d > ical_days_in_month(pt->y, pt->m))
		return EVD_BADDATE;
	if (pt->has_time && (pt->h < 0 || pt->h > 23 || pt->mi < 0 ||
	    pt->mi > 59 || pt->sec > 59))
		return EVD_BADDATE;
	return 0;
}

static int
evd_check_weekday(const struct evd_point *pt, int *weekday)
{
	struct ical_local l;

	if (pt->wday < 0)
		return 0;
	/* Noon UTC of that date has that date in every zone we meet. */
	ical_to_local("UTC", ical_to_utc("UTC", pt->y, pt->m, pt->d, 12, 0,
	    0), &l);
	if (l.wday == pt->wday)
		return 0;
	if (weekday)
		*weekday = l.wday;
	return EVD_WEEKDAY;
}

static time_t
evd_utc(const char *tz, const struct evd_point *pt, int h, int mi, int s)
{
	return ical_to_utc(tz, pt->y, pt->m, pt->d, h, mi, s);
}

/*
 * Read text as kind, in timezone tz, at time now.  ref is the event's
 * start for EVD_END (required) and EVD_DEADLINE (optional: a deadline
 * written as a time alone is on the start's day).  On EVD_WEEKDAY,
 * *weekday (if not NULL) is the date's real weekday.
 */
int
event_date_parse(const char *text, enum evd_kind kind, const char *tz,
    time_t now, const struct event_when *ref, struct event_when *out,
    int *weekday)
{
	struct buf norm = BUF_INIT;
	struct evd_point a, b;
	struct ical_local today, base;
	int rc, open;

	memset(out, 0, sizeof(*out));
	evd_normalise(text ? text : "", &norm);
	{
		const char *p = buf_cstr(&norm);

		evd_skip(&p);
		if (*p == '\0') {
			buf_free(&norm);
			return EVD_EMPTY;
		}
	}
	rc = evd_scan(buf_cstr(&norm), &a, &b, &open);
	buf_free(&norm);
	/* An open end belongs to a start; an End or Deadline has none. */
	if (rc != 0 || (open && kind != EVD_START))
		return EVD_SYNTAX;
	ical_to_local(tz, now, &today);
	if (ref != NULL)
		ical_to_local(tz, ref->start, &base);
	else
		base = today;

	switch (kind) {
	case EVD_START:
		if (!a.has_date || (b.any && !b.has_date && !b.has_time))
			return EVD_NODATE;
		if ((rc = evd_resolve(&a, today.year, today.month,
		    today.day)) != 0 || (rc = evd_check_weekday(&a,
		    weekday)) != 0)
			return rc;
		out->allday = !a.has_time;
		out->start = a.has_time ? evd_utc(tz, &a, a.h, a.mi, a.sec) :
		    evd_utc(tz, &a, 0, 0, 0);
		if (b.any) {
			if (!b.has_date) {
				b.y = a.y;
				b.m = a.m;
				b.d = a.d;
				b.has_year = 1;
			}
			if ((rc = evd_resolve(&b, a.y, a.m, a.d)) != 0 ||
			    (rc = evd_check_weekday(&b, weekday)) != 0)
				return rc;
			if (out->allday != !b.has_time)
				return EVD_SYNTAX;
			out->end = out->allday ? evd_utc(tz, &b, 0, 0, 0) :
			    evd_utc(tz, &b, b.h, b.mi, b.sec);
			if (out->allday ? out->end < out->start :
			    out->end <= out->start)
				return EVD_ORDER;
			if (out->allday && out->end == out->start)
				out->end = 0;
		}
		if ((out->allday ? (out->end ? out->end : out->start) +
		    86400 : out->start) <= now)
			return EVD_PAST;
		return EVD_OK;

	case EVD_END:
		if (ref == NULL || b.any)
			return EVD_SYNTAX;
		if (!a.has_date) {
			a.y = base.year;
			a.m = base.month;
			a.d = base.day;
			a.has_year = 1;
		}
		if ((rc = evd_resolve(&a, base.year, base.month,
		    base.day)) != 0 || (rc = evd_check_weekday(&a,
		    weekday)) != 0)
			return rc;
		if (ref->allday != !a.has_time)
			return EVD_SYNTAX;
		out->start = ref->start;
		out->allday = ref->allday;
		out->end = ref->allday ? evd_utc(tz, &a, 0, 0, 0) :
		    evd_utc(tz, &a, a.h, a.mi, a.sec);
		if (ref->allday ? out->end < ref->start :
		    out->end <= ref->start)
			return EVD_ORDER;
		if (ref->allday && out->end == ref->start)
			out->end = 0;
		return EVD_OK;

	case EVD_DEADLINE:
		if (b.any)
			return EVD_SYNTAX;
		if (!a.has_date) {
			if (ref == NULL)
				return EVD_NODATE;
			a.y = base.year;
			a.m = base.month;
			a.d = base.day;
			a.has_year = 1;
		}
		if ((rc = evd_resolve(&a, today.year, today.month,
		    today.day)) != 0 || (rc = evd_check_weekday(&a,
		    weekday)) != 0)
			return rc;
		out->start = a.has_time ? evd_utc(tz, &a, a.h, a.mi, a.sec) :
		    evd_utc(tz, &a, 23, 59, 59);
		if (out->start <= now)
			return EVD_PAST;
		return EVD_OK;
	}
	return EVD_SYNTAX;
}

/*
 * Why a value could not be read: the key of the sentence in the
 * event-labels template, for the reply that names the line.
 */
const char *
event_date_error(enum evd_error e)
{
	switch (e) {
	case EVD_OK:
		return "";
	case EVD_EMPTY:
		return "date-empty";
	case EVD_NODATE:
		return "date-nodate";
	case EVD_BADDATE:
		return "date-baddate";
	case EVD_WEEKDAY:
		return "date-weekday";
	case EVD_ORDER:
		return "date-order";
	case EVD_PAST:
		return "date-past";
	case EVD_SYNTAX:
	default:
		return "date-syntax";
	}
}

static void
evd_fmt_day(struct buf *b, int ja, const struct ical_local *l, int year)
{
	if (ja) {
		if (year)
			buf_printf(b, "%d年", l->year);
		buf_printf(b, "%d月%d日(%s)", l->month, l->day,
		    ja_wdays[l->wday]);
	} else {
		buf_printf(b, "%s %d %s", en_wdays[l->wday], l->day,
		    en_months[l->month - 1]);
		if (year)
			buf_printf(b, " %d", l->year);
	}
}

/*
 * "2026年12月5日(土) 14:00～16:00" / "Saturday 5 December 2026,
 * 14:00–16:00"; an end on another day is written with its date.
 */
void
event_date_format(struct buf *b, const char *lang, const char *tz,
    const struct event_when *w)
{
	int ja = strcmp(lang, "ja") == 0;
	const char *dash = ja ? "～" : "–";
	struct ical_local s, e;

	ical_to_local(tz, w->start, &s);
	evd_fmt_day(b, ja, &s, 1);
	if (!w->allday)
		buf_printf(b, "%s%02d:%02d", ja ? " " : ", ", s.hour,
		    s.minute);
	if (w->end == 0 || w->end <= w->start)
		return;
	ical_to_local(tz, w->end, &e);
	if (w->allday) {
		buf_adds(b, dash);
		evd_fmt_day(b, ja, &e, e.year != s.year);
		return;
	}
	if (e.year == s.year && e.month == s.month && e.day == s.day) {
		buf_printf(b, "%s%02d:%02d", dash, e.hour, e.minute);
		return;
	}
	buf_adds(b, ja ? "～" : " – ");
	evd_fmt_day(b, ja, &e, e.year != s.year);
	buf_printf(b, "%s%02d:%02d", ja ? " " : ", ", e.hour, e.minute);
}

/* "12/5(土)" / "Sat 5 Dec", for subjects. */
void
event_date_short(struct buf *b, const char *lang, const char *tz, time_t t)
{
	struct ical_local l;

	ical_to_local(tz, t, &l);
	if (strcmp(lang, "ja") == 0)
		buf_printf(b, "%d/%d(%s)", l.month, l.day, ja_wdays[l.wday]);
	else
		buf_printf(b, "%.3s %d %.3s", en_wdays[l.wday], l.day,
		    en_months[l.month - 1]);
}

/* "2026-11-20 10:15", local: what a spreadsheet reads as a date. */
void
event_date_stamp(struct buf *b, const char *tz, time_t t)
{
	struct ical_local l;

	ical_to_local(tz, t, &l);
	buf_printf(b, "%04d-%02d-%02d %02d:%02d", l.year, l.month, l.day,
	    l.hour, l.minute);
}

/* Consume the first of words (NULL-terminated) that comes next. */
static int
evd_any(const char **pp, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (evd_lit(pp, words[i]))
			return 1;
	return 0;
}

/*
 * A count of people: "30", "３０名", "30人", "30 seats", and as flyers
 * put it, "先着30名", "約30名", "30名まで", "30名程度", "30名様" (the
 * number is the capacity whatever the words around it); "なし",
 * "無制限", "none", "unlimited" and "0" are 0 (no limit).  0 or -1.
 */
int
event_count_parse(const char *text, int *out)
{
	static const char *const none[] = {
		"なし", "無し", "無制限", "制限なし", "none", "unlimited",
		"no limit", NULL
	};
	static const char *const before[] = {
		"先着順", "先着", "約", "最大", "上限", "およそ", "about",
		"up to", "max.", "max", NULL
	};
	static const char *const units[] = {
		"名", "人", "席", "people", "persons", "seats", "guests", NULL
	};
	static const char *const after[] = {
		"まで", "程度", "ほど", "くらい", "ぐらい", "位", "前後",
		"以内", "限定", NULL
	};
	struct buf f = BUF_INIT;
	const char *p;
	int n = 0, k, i, rc = -1;

	text_fold_width(&f, text ? text : "");
	p = buf_cstr(&f);
	evd_skip(&p);
	for (i = 0; none[i]; i++)
		if (strcasecmp(p, none[i]) == 0) {
			*out = 0;
			buf_free(&f);
			return 0;
		}
	if (evd_any(&p, before))
		evd_skip(&p);
	if ((k = evd_number(&p, &n, 6)) > 0 && n <= 100000) {
		evd_skip(&p);
		if (evd_any(&p, units))
			(void)evd_lit(&p, "様");
		evd_skip(&p);
		(void)evd_any(&p, after);
		evd_skip(&p);
		if (*p == '\0') {
			*out = n;
			rc = 0;
		}
	}
	buf_free(&f);
	return rc;
}
