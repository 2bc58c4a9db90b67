/*
 * event_private - internal to the events handlers (event_handle.c,
 * event_announce.c, event_rsvp.c, event_command.c, event_remind.c): the
 * types and helpers more than one of them uses.  Nothing else includes
 * it; the rest of the server knows events only through event_handle.h.
 */
#ifndef MLS_EVENT_PRIVATE_H
#define MLS_EVENT_PRIVATE_H

#include <stddef.h>

#include "addr.h"
#include "events.h"

struct buf;
struct config;
struct evmail_vars;
struct list;
struct mail_ctx;
struct message;
struct store;
struct strv;

/* One answer being recorded, whichever way it came. */
struct evh_answer {
	const struct config	*cf;
	struct store		*st;
	const struct list	*l;		/* the event's list */
	struct event		*e;
	const char		*who;
	const char		*name;
	enum rsvp_answer	 answer;
	int			 guests;
	const char		*via;
	const char		*in_reply_to;
	int			 confirm;	/* send the personal mail */
	int			 command;	/* ...only if it was recorded */
	int			 recorded;	/* out: the answer stands */
};

/* Someone told of a change: collected before mail is sent. */
struct evh_person {
	char		 addr[ADDR_MAX + 1];
	char		*name;
	enum rsvp_answer answer;
	int		 guests;
	int		 position;
};

struct evh_people {
	struct evh_person	*v;
	size_t			 n;
	int			 going_only;
};

/* event_handle.c */
int	 evh_staff(const struct config *, const struct list *, const char *);
int	 evh_may_answer(struct store *, const struct config *,
	    const struct list *, const char *);
void	 evh_name(struct store *, const struct message *, const char *,
	    struct buf *);
int	 evh_reply(struct mail_ctx *, const struct list *, struct buf *);
void	 evh_state_vars(struct evmail_vars *, const struct config *,
	    const struct list *, enum rsvp_answer, int, int);
int	 evh_person_add(const struct rsvp *, void *);
void	 evh_people_free(struct evh_people *);

/* event_announce.c */
int	 evh_promoted(const struct config *, struct store *,
	    const struct list *, struct event *, const struct strv *);

/* event_rsvp.c */
int	 evh_record(struct evh_answer *, struct buf *);

#endif
