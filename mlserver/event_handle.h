/*
 * event_handle - where events meet the rest of the server: the mail to
 * LIST-events@D (announce, update, cancel) and LIST-rsvp+EVENT@D
 * (answers), the commands events / rsvp / status / roster, reminders
 * from the daemon's processor, mlserverctl's events and roster, and the
 * "reminders" setting.
 *
 * Who may do what: announcing, updating and the roster are for the
 * organizers of the list's chapter (or region) and its moderators;
 * answering is for those the list reaches (and its organizers and
 * moderators).  Everyone else gets a polite refusal, and automatic mail
 * gets nothing, as for every other address of a list.
 */
#ifndef MLS_EVENT_HANDLE_H
#define MLS_EVENT_HANDLE_H

#include <libconfig.h>

struct buf;
struct command;
struct config;
struct mail_ctx;
struct request;
struct route;
struct store;

#define EVENT_REMINDERS_MAX	8
#define EVENT_REMINDER_DEFAULT	86400	/* seconds before the start */

int	 event_announce_handle(struct mail_ctx *, const struct route *);
int	 event_rsvp_handle(struct mail_ctx *, const struct route *);
int	 event_command(struct request *, const struct command *);
int	 event_reminders_run(const struct config *, struct store *);
int	 event_ctl_events(const struct config *, struct store *,
	    const char *list, int json, struct buf *out);
int	 event_ctl_roster(const struct config *, struct store *,
	    const char *ref, struct buf *out);
int	 event_conf_reminders(const config_setting_t *, int **leads,
	    size_t *n, const config_setting_t **bad, const char **why);

#endif
