/*
 * proposal_forward - the summary of open proposals to an institution,
 * and the reminder of what it has not answered.
 *
 * A list with forward_to compiles the open proposals of its scope (its
 * own; a region list's also its chapters'; a network list's every
 * list's) into one summary mail: per proposal its reference, title,
 * chapter, date, text, supporters and every comment in order.  It goes
 * to the forward_to addresses and, as list mail, to the list; the
 * proposals become forwarded and their proposers are told.  Lists are
 * taken narrowest first, so a chapter with an institution of its own
 * forwards its proposals there and the region takes the rest.
 *
 * The daemon forwards on the schedule (proposal_sched.h), once per
 * period: the period is claimed in the transaction that forwards, so a
 * crash or a restart neither loses nor repeats it.  mlserverctl forward
 * forwards now, outside the schedule.  A proposal forwarded and not
 * answered for proposal_reminder_days (counted from the forwarding, the
 * last in_progress note or the last reminder) is listed in a reminder
 * to the forward_to addresses of the list that forwarded it.
 */
#ifndef MLS_PROPOSAL_FORWARD_H
#define MLS_PROPOSAL_FORWARD_H

struct buf;
struct config;
struct list;
struct store;

int	proposal_forward_list(const struct config *, struct store *,
	    const struct list *, const char *period, long long now,
	    int *count);
int	proposal_forward_now(const struct config *, struct store *,
	    const struct list *only, struct buf *report);
int	proposal_forward_tick(const struct config *, struct store *);
int	proposal_forward_remind(const struct config *, struct store *,
	    long long now);

#endif
