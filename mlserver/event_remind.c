/*
 * event_remind - the reminders before an event, sent from the daemon's
 * processor to those going, and the "reminders" setting that says how
 * long before (config.c reads it through event_conf_reminders, so that
 * mlserverctl check reports its mistakes with the rest).
 *
 * Reminders take a transaction per event and record themselves in it,
 * so each goes out exactly once, even across a crash or restart.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event_handle.h"
#include "event_mail.h"
#include "event_private.h"
#include "events.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

static int	 evh_remind_one(const struct config *, struct store *,
		    long long, int, time_t);
static int	 evh_lead_parse(const config_setting_t *, int *);

/* ---------------------------------------------------------- reminders */

static int
evh_remind_one(const struct config *cf, struct store *st, long long id,
    int lead, time_t now)
{
	struct evh_people p = { NULL, 0, 1 };
	const struct list *l;
	struct event e;
	int rc, sent = 0;

	if (store_begin(st) != 0)
		return -1;
	if ((rc = events_get(st, id, &e)) <= 0) {
		store_rollback(st);
		return rc;
	}
	if ((rc = events_reminder_mark(st, &e, lead, now)) <= 0)
		goto done;	/* another process was first */
	if ((l = config_list(cf, e.list)) == NULL) {
		log_warnx("%s: its list %s is no longer configured; no "
		    "reminder", e.ref, e.list);
		goto done;
	}
	if (events_foreach_rsvp(st, e.id, evh_person_add, &p) != 0) {
		rc = -1;
		goto done;
	}
	for (size_t i = 0; i < p.n; i++) {
		struct evmail_vars v;
		struct evmail_to t;

		evmail_vars_init(&v);
		evmail_vars_event(&v, cf, l, &e);
		evh_state_vars(&v, cf, l, p.v[i].answer, p.v[i].guests, 0);
		memset(&t, 0, sizeof(t));
		t.addr = p.v[i].addr;
		t.name = p.v[i].name;
		rc = evmail_personal(cf, st, l, &e, "event-reminder", &v, &t);
		evmail_vars_free(&v);
		if (rc != 0)
			goto done;
		sent++;
	}
	log_info("%s: reminder (%d s before) to %d attending", e.ref, lead,
	    sent);
	rc = 0;
done:
	evh_people_free(&p);
	event_clear(&e);
	if (rc < 0 || store_commit(st) != 0) {
		store_rollback(st);
		return -1;
	}
	return sent;
}

/*
 * Send the reminders that are due.  Called from the daemon's processor
 * every turn; one cheap query per configured lead when nothing is due.
 * Returns the number of reminder mails queued, or -1.
 */
int
event_reminders_run(const struct config *cf, struct store *st)
{
	/* Only the processor thread calls this: a failure waits a minute
	 * rather than being retried (and logged) every second. */
	static time_t not_before;
	time_t now = time(NULL);
	int total = 0;

	if (now < not_before)
		return 0;
	for (size_t k = 0; k < cf->nreminders; k++) {
		long long *ids;
		size_t n;

		if (events_due_reminders(st, cf->reminders[k], now, &ids,
		    &n) != 0)
			goto fail;
		for (size_t i = 0; i < n; i++) {
			int r = evh_remind_one(cf, st, ids[i],
			    cf->reminders[k], now);

			if (r < 0) {
				free(ids);
				goto fail;
			}
			total += r;
		}
		free(ids);
	}
	return total;
fail:
	log_warnx("event reminders failed; trying again in a minute");
	not_before = now + 60;
	return -1;
}

/* ------------------------------------------------------ configuration */

/* 24 (hours), "24h", "90m", "30s", "2d".  0, or -1. */
static int
evh_lead_parse(const config_setting_t *s, int *out)
{
	const char *p;
	char *end;
	long v;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (long)config_setting_get_int64(s);
		if (v < 1 || v > 24 * 30)
			return -1;
		*out = (int)v * 3600;
		return 0;
	case CONFIG_TYPE_STRING:
		p = config_setting_get_string(s);
		if (!isdigit((unsigned char)*p))
			return -1;
		v = strtol(p, &end, 10);
		if (strcmp(end, "s") == 0)
			v *= 1;
		else if (strcmp(end, "m") == 0)
			v *= 60;
		else if (strcmp(end, "h") == 0 || *end == '\0')
			v *= 3600;
		else if (strcmp(end, "d") == 0)
			v *= 86400;
		else
			return -1;
		if (v < 1 || v > 30 * 86400)
			return -1;
		*out = (int)v;
		return 0;
	default:
		return -1;
	}
}

/*
 * The "reminders" setting: a lead time or a list of them, each a number
 * of hours or a string "24h", "90m", "30s", "2d".  Absent: 24 hours;
 * an empty list: no reminders.  0, or -1 with *bad and *why set.
 */
int
event_conf_reminders(const config_setting_t *s, int **leads, size_t *n,
    const config_setting_t **bad, const char **why)
{
	static const char *msg = "\"reminders\" must be hours (24) or "
	    "strings like \"24h\", \"90m\", \"30s\", \"2d\", up to 30 days, "
	    "at most 8 of them";
	int i, len;

	*leads = xcalloc(EVENT_REMINDERS_MAX, sizeof(**leads));
	*n = 0;
	*bad = s;
	*why = msg;
	if (s == NULL) {
		(*leads)[(*n)++] = EVENT_REMINDER_DEFAULT;
		return 0;
	}
	if (!config_setting_is_aggregate(s)) {
		if (evh_lead_parse(s, &(*leads)[0]) != 0)
			return -1;
		*n = 1;
		return 0;
	}
	if (config_setting_is_group(s))
		return -1;
	len = config_setting_length(s);
	if (len > EVENT_REMINDERS_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (evh_lead_parse(e, &(*leads)[*n]) != 0) {
			*bad = e;
			return -1;
		}
		(*n)++;
	}
	return 0;
}
