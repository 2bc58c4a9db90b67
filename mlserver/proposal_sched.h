/*
 * proposal_sched - when proposals are forwarded, and dates in the
 * config's timezone.
 *
 * proposal_schedule is a list of "MM-DD HH:MM" (once a year) or
 * "*-DD HH:MM" (every month) in the config's timezone; by default the
 * first day of each quarter at 09:00.  The time between one scheduled
 * point and the next is a period: each list with forward_to forwards
 * once per period, and the period is named by the local time of the
 * point that starts it ("2026-04-01 09:00"), which is what the database
 * records.  A point missed while the daemon was down is caught up at
 * the next start; only the latest one counts.
 *
 * Pure functions of their arguments (the zone rules come from libical's
 * copy of the system tz database), so they are tested on their own.
 */
#ifndef MLS_PROPOSAL_SCHED_H
#define MLS_PROPOSAL_SCHED_H

#include <stddef.h>
#include <time.h>

struct buf;

#define PROPOSAL_SCHED_KEY	64	/* "YYYY-MM-DD HH:MM", and room */

struct proposal_sched_point {
	int	month;		/* 1-12, or 0: every month */
	int	day;		/* 1-31 */
	int	hour;
	int	minute;
};

extern const char *const proposal_sched_default[];

int	 proposal_sched_parse(const char *, struct proposal_sched_point *);
int	 proposal_sched_latest(char *const *sched, size_t n, const char *tz,
	    time_t now, time_t *when, char key[PROPOSAL_SCHED_KEY]);
int	 proposal_sched_next(char *const *sched, size_t n, const char *tz,
	    time_t now, time_t *when);
void	 proposal_sched_local(struct buf *, const char *tz, time_t,
	    int with_time);
int	 proposal_sched_year(const char *tz, time_t);

#endif
