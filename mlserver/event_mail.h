/*
 * event_mail - the mail events send: the announcement to the list's
 * audience with a METHOD:PUBLISH calendar part, personal mail with a
 * METHOD:REQUEST or METHOD:CANCEL part of the person's own (answers,
 * promotions, updates, cancellations), reminders, and the roster as
 * CSV (which the roster command attaches to its reply).
 *
 * A calendar mail is multipart/mixed: a multipart/alternative of the
 * text and the text/calendar part (with its method parameter, which
 * Outlook and Gmail require to show the answer buttons), then the same
 * calendar as an invite.ics attachment for clients that only import
 * files.  Every personal mail comes from LIST-rsvp+EVENT@D, the event's
 * ORGANIZER, so that replying, or pressing a calendar's answer button,
 * reaches the address that records answers.  The text and the header
 * fields are in the list's charset as compose writes them (ISO-2022-JP
 * for a list that asks for it); the calendar parts are UTF-8 always.
 */
#ifndef MLS_EVENT_MAIL_H
#define MLS_EVENT_MAIL_H

#include "buf.h"
#include "events.h"
#include "ical.h"
#include "template.h"

struct config;
struct list;
struct store;

#define EVMAIL_VARS_MAX	48

/* Template variables whose values are copies owned here. */
struct evmail_vars {
	struct tvar	 v[EVMAIL_VARS_MAX];
	size_t		 n;
};

struct evmail_to {
	const char		*addr;
	const char		*name;		/* or NULL */
	enum ical_partstat	 partstat;
	const char		*method;	/* REQUEST, CANCEL, or NULL */
	const char		*auto_submitted;
	const char		*in_reply_to;	/* Message-ID, or NULL */
};

void	 evmail_vars_init(struct evmail_vars *);
void	 evmail_var(struct evmail_vars *, const char *name, const char *);
void	 evmail_var_int(struct evmail_vars *, const char *name, long long);
void	 evmail_vars_free(struct evmail_vars *);
void	 evmail_vars_list(struct evmail_vars *, const struct config *,
	    const struct list *);
void	 evmail_vars_event(struct evmail_vars *, const struct config *,
	    const struct list *, const struct event *);
void	 evmail_label(struct buf *, const struct config *, const char *lang,
	    const char *key, const struct evmail_vars *);
void	 evmail_rsvp_addr(struct buf *, const struct config *,
	    const struct list *, const struct event *);
void	 evmail_ical_event(struct ical_event *, const struct config *,
	    const struct list *, const struct event *, struct buf *orgbuf);
long long evmail_announce(const struct config *, struct store *,
	    const struct list *, const struct event *, struct evmail_vars *);
int	 evmail_personal(const struct config *, struct store *,
	    const struct list *, const struct event *, const char *tmpl,
	    struct evmail_vars *, const struct evmail_to *);
int	 evmail_roster_csv(const struct config *, struct store *,
	    const struct list *, const struct event *, struct buf *);
enum ical_partstat evmail_partstat(enum rsvp_answer, int waiting);

#endif
