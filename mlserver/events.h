/*
 * events - the events of the lists and who is coming: the store, and the
 * rules of answers, capacity and the waitlist.
 *
 * An event belongs to the list it was announced on and is known to
 * people as E<id> ("E12").  Every answer, whichever way it came (the
 * rsvp command, a reply to LIST-rsvp+E12@D, a calendar REPLY), is one
 * row per (event, address); the last answer replaces the earlier one.
 *
 * Capacity counts each person plus their guests.  A "yes" that does not
 * fit goes on the waitlist, in order of arrival.  When seats free up (a
 * "no", fewer guests, a larger capacity) the waitlist is promoted in
 * order, and a party that does not fit in the seats left is passed over
 * for the next one that does: no seat stays empty while someone who fits
 * is waiting, and the party passed over keeps its place at the head of
 * the line for the next seats that suffice.  A person who already has a
 * seat and asks for more guests than there are seats keeps the seats
 * they had (their answer is not turned into a waitlist place).
 *
 * The SQL runs in the caller's transaction; nothing here sends mail:
 * whom to tell is handed back (see rsvp_result.promoted).
 */
#ifndef MLS_EVENTS_H
#define MLS_EVENTS_H

#include <time.h>

#include "addr.h"
#include "config.h"
#include "event_date.h"
#include "store.h"

#define EVENT_REF_MAX	24

enum rsvp_answer {
	RSVP_NONE,
	RSVP_YES,
	RSVP_NO,
	RSVP_MAYBE
};

struct event {
	long long	 id;
	char		 ref[EVENT_REF_MAX];	/* "E12" */
	char		 list[65];
	char		*uid;
	char		*title;
	char		*place;
	char		*description;
	char		*organizer;		/* who announced it */
	struct event_when when;
	int		 capacity;		/* 0: no limit */
	time_t		 deadline;		/* 0: none */
	int		 sequence;
	int		 cancelled;
	time_t		 created;
	time_t		 updated;
	int		 taken;		/* seats of those coming */
	int		 waiting;	/* parties on the waitlist */
};

struct rsvp {
	char		 addr[ADDR_MAX + 1];
	char		*name;
	enum rsvp_answer answer;
	int		 guests;
	int		 position;	/* on the waitlist: 1, 2, ...; else 0 */
	time_t		 answered;
	char		 via[16];	/* command, reply, calendar */
};

enum rsvp_outcome {
	RSVP_GOING,		/* yes, with a seat */
	RSVP_WAITLISTED,	/* yes, on the waitlist */
	RSVP_DECLINED,		/* no */
	RSVP_TENTATIVE,		/* maybe */
	RSVP_KEPT,		/* the new party does not fit: the old stands */
	RSVP_CLOSED,		/* past the deadline: nothing changed */
	RSVP_OVER		/* cancelled or already started */
};

struct rsvp_result {
	enum rsvp_outcome outcome;
	int		 position;	/* on the waitlist */
	int		 guests;	/* as recorded now */
	int		 seats_left;	/* -1: no limit */
	int		 filled;	/* this answer took the last seats */
	struct strv	 promoted;	/* addresses moved off the waitlist */
};

typedef int event_fn(const struct event *, void *);
typedef int rsvp_fn(const struct rsvp *, void *);

extern const struct store_schema events_schema;

int	 events_parse_ref(const char *, long long *);
void	 events_ref(char *, size_t, long long);
void	 event_clear(struct event *);
int	 events_create(struct store *, struct event *, const char *domain);
int	 events_get(struct store *, long long id, struct event *);
int	 events_save(struct store *, struct event *);
int	 events_count_seats(struct store *, struct event *);
int	 events_rsvp(struct store *, const struct event *, const char *addr,
	    const char *name, enum rsvp_answer, int guests, const char *via,
	    time_t now, struct rsvp_result *);
int	 events_promote(struct store *, const struct event *, struct strv *);
int	 events_rsvp_get(struct store *, long long event, const char *addr,
	    struct rsvp *);
void	 rsvp_clear(struct rsvp *);
void	 rsvp_result_clear(struct rsvp_result *);
int	 events_foreach_rsvp(struct store *, long long event, rsvp_fn *,
	    void *);
int	 events_foreach_upcoming(struct store *, const char *list,
	    time_t now, event_fn *, void *);
int	 events_due_reminders(struct store *, int lead, time_t now,
	    long long **ids, size_t *n);
int	 events_reminder_mark(struct store *, const struct event *, int lead,
	    time_t now);
const char *events_answer_name(enum rsvp_answer);
void	 events_strv_add(struct strv *, const char *);
void	 events_strv_free(struct strv *);

#endif
