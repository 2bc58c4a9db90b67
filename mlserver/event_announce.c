/*
 * event_announce - the mail to LIST-events@D, from the organizers of the
 * list's chapter (or region) and its moderators: a new event, "Event:
 * E12" and the lines that change, or "Cancel: yes".  It owns what
 * follows from them as well: the announcement to the list, the notice
 * to everyone who answered yes or maybe or waits, and the mail to each
 * person a change moves off the waitlist (evh_promoted, which answers
 * use too, through event_private.h).
 *
 * All of it runs in the processor's transaction for the mail, mail we
 * send included: an event is changed and its people told, or neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "event_date.h"
#include "event_handle.h"
#include "event_mail.h"
#include "event_parse.h"
#include "event_private.h"
#include "events.h"
#include "log.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

static void	 evh_bad_line(struct buf *, const struct config *,
		    const struct list *, const char *, const char *, int);
static int	 evh_create(struct mail_ctx *, const struct list *,
		    struct event_fields *, struct buf *);
static int	 evh_update(struct mail_ctx *, const struct list *,
		    struct event_fields *, struct buf *);
static int	 evh_cancel(struct mail_ctx *, const struct list *,
		    struct event *, struct event_fields *, struct buf *);
static int	 evh_notify(const struct config *, struct store *,
		    const struct list *, struct event *, const char *,
		    const char *, const char *, const char *,
		    const struct strv *, int *);
static void	 evh_changed(struct buf *, const struct config *,
		    const struct list *, const char *);

/* "The line ... could not be read: reason." */
static void
evh_bad_line(struct buf *out, const struct config *cf, const struct list *l,
    const char *line, const char *reason_key, int weekday)
{
	struct evmail_vars v;
	struct buf reason = BUF_INIT, wd = BUF_INIT;
	char key[16];

	evmail_vars_init(&v);
	if (weekday >= 0 && weekday < 7) {
		snprintf(key, sizeof(key), "wday-%d", weekday);
		evmail_label(&wd, cf, l->language, key, NULL);
	}
	evmail_var(&v, "weekday", buf_cstr(&wd));
	evmail_label(&reason, cf, l->language, reason_key, &v);
	evmail_var(&v, "line", line);
	evmail_var(&v, "reason", buf_cstr(&reason));
	evmail_label(out, cf, l->language, "bad-line", &v);
	evmail_vars_free(&v);
	buf_free(&reason);
	buf_free(&wd);
}

/*
 * A new event from the fields.  Mistakes are answered in results and
 * nothing is stored; 0 then too.  -1 only on a system error.
 */
static int
evh_create(struct mail_ctx *ctx, const struct list *l, struct event_fields *f,
    struct buf *results)
{
	const struct config *cf = ctx->cf;
	struct event e;
	struct event_when when, w;
	struct evmail_vars v;
	const char *title;
	time_t now = time(NULL);
	int rc, wd = -1, capacity = 0;
	long long n;

	title = f->value[EVF_TITLE] ? f->value[EVF_TITLE] : ctx->msg->subject;
	while (*title == ' ')
		title++;
	if (f->value[EVF_CANCEL]) {
		evmail_label(results, cf, l->language, "cancel-needs-event",
		    NULL);
		return 0;
	}
	if (f->value[EVF_DATE] == NULL) {
		evmail_label(results, cf, l->language, "no-date", NULL);
		return 0;
	}
	if ((rc = event_date_parse(f->value[EVF_DATE], EVD_START, cf->timezone,
	    now, NULL, &when, &wd)) != EVD_OK) {
		evh_bad_line(results, cf, l, f->line[EVF_DATE],
		    event_date_error(rc), wd);
		return 0;
	}
	if (f->value[EVF_END]) {
		if ((rc = event_date_parse(f->value[EVF_END], EVD_END,
		    cf->timezone, now, &when, &w, &wd)) != EVD_OK) {
			evh_bad_line(results, cf, l, f->line[EVF_END],
			    event_date_error(rc), wd);
			return 0;
		}
		when.end = w.end;
	}
	if (f->value[EVF_CAPACITY] && event_count_parse(f->value[EVF_CAPACITY],
	    &capacity) != 0) {
		evh_bad_line(results, cf, l, f->line[EVF_CAPACITY],
		    "capacity-bad", -1);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	if (f->value[EVF_DEADLINE]) {
		if ((rc = event_date_parse(f->value[EVF_DEADLINE],
		    EVD_DEADLINE, cf->timezone, now, &when, &w, &wd)) !=
		    EVD_OK) {
			evh_bad_line(results, cf, l, f->line[EVF_DEADLINE],
			    event_date_error(rc), wd);
			return 0;
		}
		if (w.start > when.start && !when.allday) {
			evh_bad_line(results, cf, l, f->line[EVF_DEADLINE],
			    "deadline-after", -1);
			return 0;
		}
		e.deadline = w.start;
	}
	if (*title == '\0') {
		evmail_label(results, cf, l->language, "no-title", NULL);
		return 0;
	}
	snprintf(e.list, sizeof(e.list), "%s", l->name);
	e.title = xstrdup(title);
	e.place = xstrdup(f->value[EVF_PLACE] ? f->value[EVF_PLACE] : "");
	e.description = xstrdup(f->rest ? f->rest : "");
	e.organizer = xstrdup(ctx->who);
	e.when = when;
	e.capacity = capacity;
	if (events_create(ctx->st, &e, cf->domain) != 0) {
		event_clear(&e);
		return -1;
	}
	evmail_vars_init(&v);
	evmail_vars_event(&v, cf, l, &e);
	if ((n = evmail_announce(cf, ctx->st, l, &e, &v)) < 0) {
		evmail_vars_free(&v);
		event_clear(&e);
		return -1;
	}
	evmail_var_int(&v, "count", n);
	evmail_label(results, cf, l->language, "created", &v);
	log_info("%s: %s: event %s \"%s\" announced by <%s> to %lld",
	    ctx->id, l->name, e.ref, e.title, ctx->who, n);
	store_count(ctx->st, "events", 1);
	evmail_vars_free(&v);
	event_clear(&e);
	return 0;
}

/*
 * Tell everyone who answered yes or maybe, or waits, of e's change with
 * template tmpl and a calendar part of method (their own PARTSTAT); note
 * is the organizer's text, changes the names of what changed.  Those in
 * skip were told otherwise.  *count gets how many.
 */
static int
evh_notify(const struct config *cf, struct store *st, const struct list *l,
    struct event *e, const char *tmpl, const char *method, const char *note,
    const char *changes, const struct strv *skip, int *count)
{
	struct evh_people p = { NULL, 0, 0 };
	struct evmail_vars nv;
	struct buf block = BUF_INIT;
	size_t i, j;
	int rc = 0;

	*count = 0;
	if (note && *note) {
		evmail_vars_init(&nv);
		evmail_var(&nv, "text", note);
		evmail_label(&block, cf, l->language, "note", &nv);
		evmail_vars_free(&nv);
	}
	if (events_foreach_rsvp(st, e->id, evh_person_add, &p) != 0) {
		evh_people_free(&p);
		return -1;
	}
	for (i = 0; i < p.n && rc == 0; i++) {
		struct evmail_vars v;
		struct evmail_to t;

		for (j = 0; skip && j < skip->n; j++)
			if (strcasecmp(skip->v[j], p.v[i].addr) == 0)
				break;
		if (skip && j < skip->n)
			continue;
		evmail_vars_init(&v);
		evmail_vars_event(&v, cf, l, e);
		evh_state_vars(&v, cf, l, p.v[i].answer, p.v[i].guests,
		    p.v[i].position);
		evmail_var(&v, "note", buf_cstr(&block));
		evmail_var(&v, "changes", changes ? changes : "");
		memset(&t, 0, sizeof(t));
		t.addr = p.v[i].addr;
		t.name = p.v[i].name;
		t.partstat = evmail_partstat(p.v[i].answer,
		    p.v[i].position > 0);
		t.method = method;
		rc = evmail_personal(cf, st, l, e, tmpl, &v, &t);
		evmail_vars_free(&v);
		if (rc == 0)
			(*count)++;
	}
	evh_people_free(&p);
	buf_free(&block);
	return rc;
}

/* Mail each person moved off the waitlist: they have a seat now. */
int
evh_promoted(const struct config *cf, struct store *st, const struct list *l,
    struct event *e, const struct strv *promoted)
{
	for (size_t i = 0; i < promoted->n; i++) {
		struct evmail_vars v;
		struct evmail_to t;
		struct rsvp r;
		int rc;

		if (events_rsvp_get(st, e->id, promoted->v[i], &r) != 1)
			return -1;
		if (events_count_seats(st, e) != 0) {
			rsvp_clear(&r);
			return -1;
		}
		evmail_vars_init(&v);
		evmail_vars_event(&v, cf, l, e);
		evh_state_vars(&v, cf, l, r.answer, r.guests, r.position);
		memset(&t, 0, sizeof(t));
		t.addr = r.addr;
		t.name = r.name;
		t.partstat = ICAL_PS_ACCEPTED;
		t.method = "REQUEST";
		rc = evmail_personal(cf, st, l, e, "event-promoted", &v, &t);
		evmail_vars_free(&v);
		rsvp_clear(&r);
		if (rc != 0)
			return -1;
		store_count(st, "event_promotions", 1);
	}
	return 0;
}

static int
evh_cancel(struct mail_ctx *ctx, const struct list *l, struct event *e,
    struct event_fields *f, struct buf *results)
{
	struct evmail_vars v;
	int n;

	e->cancelled = 1;
	e->sequence++;
	if (events_save(ctx->st, e) != 0 ||
	    evh_notify(ctx->cf, ctx->st, l, e, "event-cancel", "CANCEL",
	    f->rest, NULL, NULL, &n) != 0)
		return -1;
	evmail_vars_init(&v);
	evmail_vars_event(&v, ctx->cf, l, e);
	evmail_var_int(&v, "count", n);
	evmail_label(results, ctx->cf, l->language, "cancelled", &v);
	evmail_vars_free(&v);
	log_info("%s: %s: event %s cancelled by <%s>; %d told", ctx->id,
	    l->name, e->ref, ctx->who, n);
	return 0;
}

/* Append the label of a changed field to the list of changes. */
static void
evh_changed(struct buf *changes, const struct config *cf,
    const struct list *l, const char *key)
{
	if (changes->len)
		evmail_label(changes, cf, l->language, "list-separator", NULL);
	evmail_label(changes, cf, l->language, key, NULL);
}

/* "Event: E12" and the lines that change, or "Cancel: yes". */
static int
evh_update(struct mail_ctx *ctx, const struct list *l, struct event_fields *f,
    struct buf *results)
{
	const struct config *cf = ctx->cf;
	struct event e;
	struct event_when when, w;
	struct evmail_vars v;
	struct buf changes = BUF_INIT;
	struct strv promoted = { NULL, 0 };
	time_t now = time(NULL);
	long long id;
	int rc = -1, wd = -1, n = 0, cap;

	memset(&e, 0, sizeof(e));
	evmail_vars_init(&v);
	evmail_var(&v, "event", f->value[EVF_EVENT]);
	rc = events_parse_ref(f->value[EVF_EVENT], &id) != 0 ? 0 :
	    events_get(ctx->st, id, &e);
	if (rc < 0)
		goto done;
	if (rc == 0 || strcmp(e.list, l->name) != 0) {
		evmail_label(results, cf, l->language, "unknown-event", &v);
		rc = 0;
		goto done;
	}
	rc = 0;
	evmail_vars_event(&v, cf, l, &e);
	if (e.cancelled) {
		evmail_label(results, cf, l->language, "already-cancelled", &v);
		goto done;
	}
	if (now >= e.when.start) {
		evmail_label(results, cf, l->language, "event-started", &v);
		goto done;
	}
	if (f->value[EVF_CANCEL] && event_is_yes(f->value[EVF_CANCEL])) {
		rc = evh_cancel(ctx, l, &e, f, results);
		goto done;
	}
	when = e.when;
	if (f->value[EVF_DATE]) {
		if ((rc = event_date_parse(f->value[EVF_DATE], EVD_START,
		    cf->timezone, now, NULL, &w, &wd)) != EVD_OK) {
			evh_bad_line(results, cf, l, f->line[EVF_DATE],
			    event_date_error(rc), wd);
			rc = 0;
			goto done;
		}
		/* A new date alone keeps the length the event had. */
		if (w.end == 0 && e.when.end && w.allday == e.when.allday)
			w.end = w.start + (e.when.end - e.when.start);
		when = w;
	}
	if (f->value[EVF_END]) {
		if ((rc = event_date_parse(f->value[EVF_END], EVD_END,
		    cf->timezone, now, &when, &w, &wd)) != EVD_OK) {
			evh_bad_line(results, cf, l, f->line[EVF_END],
			    event_date_error(rc), wd);
			rc = 0;
			goto done;
		}
		when.end = w.end;
	}
	if (when.start != e.when.start || when.end != e.when.end ||
	    when.allday != e.when.allday) {
		e.when = when;
		evh_changed(&changes, cf, l, "field-date");
	}
	if (f->value[EVF_TITLE] && strcmp(f->value[EVF_TITLE], e.title)) {
		free(e.title);
		e.title = xstrdup(f->value[EVF_TITLE]);
		evh_changed(&changes, cf, l, "field-title");
	}
	if (f->value[EVF_PLACE] && strcmp(f->value[EVF_PLACE], e.place)) {
		free(e.place);
		e.place = xstrdup(f->value[EVF_PLACE]);
		evh_changed(&changes, cf, l, "field-place");
	}
	if (f->value[EVF_CAPACITY]) {
		if (event_count_parse(f->value[EVF_CAPACITY], &cap) != 0) {
			evh_bad_line(results, cf, l, f->line[EVF_CAPACITY],
			    "capacity-bad", -1);
			goto done;
		}
		if (cap != e.capacity) {
			e.capacity = cap;
			evh_changed(&changes, cf, l, "field-capacity");
		}
	}
	if (f->value[EVF_DEADLINE]) {
		time_t d = 0;
		int none = 0;

		if (event_count_parse(f->value[EVF_DEADLINE], &cap) == 0 &&
		    cap == 0)
			none = 1;	/* "なし": no deadline any more */
		else if ((rc = event_date_parse(f->value[EVF_DEADLINE],
		    EVD_DEADLINE, cf->timezone, now, &e.when, &w, &wd)) !=
		    EVD_OK) {
			evh_bad_line(results, cf, l, f->line[EVF_DEADLINE],
			    event_date_error(rc), wd);
			rc = 0;
			goto done;
		}
		if (!none)
			d = w.start;
		if (d > e.when.start && !e.when.allday) {
			evh_bad_line(results, cf, l, f->line[EVF_DEADLINE],
			    "deadline-after", -1);
			rc = 0;
			goto done;
		}
		if (d != e.deadline) {
			e.deadline = d;
			evh_changed(&changes, cf, l, "field-deadline");
		}
	}
	rc = 0;
	if (changes.len == 0) {
		evmail_label(results, cf, l->language, "nothing-changed", &v);
		goto done;
	}
	e.sequence++;
	if (events_save(ctx->st, &e) != 0 ||
	    events_promote(ctx->st, &e, &promoted) != 0 ||
	    events_count_seats(ctx->st, &e) != 0 ||
	    evh_promoted(cf, ctx->st, l, &e, &promoted) != 0 ||
	    evh_notify(cf, ctx->st, l, &e, "event-update", "REQUEST", f->rest,
	    buf_cstr(&changes), &promoted, &n) != 0) {
		rc = -1;
		goto done;
	}
	evmail_vars_event(&v, cf, l, &e);
	evmail_var(&v, "changes", buf_cstr(&changes));
	evmail_var_int(&v, "count", n + (int)promoted.n);
	evmail_label(results, cf, l->language, "updated", &v);
	log_info("%s: %s: event %s updated by <%s> (sequence %d); %d told, "
	    "%zu promoted", ctx->id, l->name, e.ref, ctx->who, e.sequence, n,
	    promoted.n);
done:
	events_strv_free(&promoted);
	buf_free(&changes);
	evmail_vars_free(&v);
	event_clear(&e);
	return rc < 0 ? -1 : 0;
}

/* LIST-events@D: announce, update or cancel. */
int
event_announce_handle(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;
	struct event_fields f;
	struct buf results = BUF_INIT;
	int rc = 0;

	if (reply_is_automatic(ctx) || ctx->who[0] == '\0') {
		log_info("%s: %s-events: automatic or senderless mail from "
		    "<%s> ignored", ctx->id, l->name, ctx->env->sender);
		return 0;
	}
	if (!evh_staff(ctx->cf, l, ctx->who)) {
		struct evmail_vars v;

		log_info("%s: %s-events: <%s> is not an organizer; refused",
		    ctx->id, l->name, ctx->who);
		evmail_vars_init(&v);
		evmail_vars_list(&v, ctx->cf, l);
		evmail_label(&results, ctx->cf, l->language, "not-organizer",
		    &v);
		evmail_vars_free(&v);
	} else {
		event_fields_parse(ctx->msg->text, &f);
		if (f.value[EVF_EVENT])
			rc = evh_update(ctx, l, &f, &results);
		else
			rc = evh_create(ctx, l, &f, &results);
		event_fields_free(&f);
	}
	if (rc == 0)
		rc = evh_reply(ctx, l, &results);
	buf_free(&results);
	return rc;
}
