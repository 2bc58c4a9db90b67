/*
 * event_handle - events meet the server; see event_handle.h.
 *
 * Everything for one incoming mail runs in the processor's transaction
 * for it, mail we send included (compose queues inside it): an answer is
 * recorded and confirmed, or neither.  Reminders take a transaction per
 * event and record themselves in it, so each goes out exactly once, even
 * across a crash or restart.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "command.h"
#include "config.h"
#include "ctl.h"
#include "event_date.h"
#include "event_handle.h"
#include "event_mail.h"
#include "event_parse.h"
#include "events.h"
#include "ical.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

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

struct evh_events {
	const struct config	*cf;
	const struct list	*l;	/* the asking list, for its language */
	struct buf		*out;
	int			 json;
	int			 n;
};

static int	 evh_staff(const struct config *, const struct list *,
		    const char *);
static int	 evh_may_answer(struct store *, const struct config *,
		    const struct list *, const char *);
static void	 evh_name(struct store *, const struct message *,
		    const char *, struct buf *);
static int	 evh_reply(struct mail_ctx *, const struct list *,
		    struct buf *);
static void	 evh_bad_line(struct buf *, const struct config *,
		    const struct list *, const char *, const char *, int);
static int	 evh_create(struct mail_ctx *, const struct list *,
		    struct event_fields *, struct buf *);
static int	 evh_update(struct mail_ctx *, const struct list *,
		    struct event_fields *, struct buf *);
static int	 evh_cancel(struct mail_ctx *, const struct list *,
		    struct event *, struct event_fields *, struct buf *);
static int	 evh_person_add(const struct rsvp *, void *);
static void	 evh_people_free(struct evh_people *);
static int	 evh_notify(const struct config *, struct store *,
		    const struct list *, struct event *, const char *,
		    const char *, const char *, const char *,
		    const struct strv *, int *);
static int	 evh_promoted(const struct config *, struct store *,
		    const struct list *, struct event *, const struct strv *);
static int	 evh_record(struct evh_answer *, struct buf *);
static void	 evh_walk_calendar(struct mailmime *, struct strv *);
static void	 evh_calendar_parts(const char *, size_t, struct strv *);
static int	 evh_calendar(struct mail_ctx *, const struct list *,
		    const struct event *, enum rsvp_answer *, int *,
		    struct buf *, struct buf *);
static int	 evh_lookup(struct store *, const struct config *,
		    const char *, struct event *, const struct list **);
static int	 evh_cmd_events(struct request *, struct buf *);
static int	 evh_cmd_rsvp(struct request *, const struct command *,
		    struct buf *);
static int	 evh_cmd_status(struct request *, const struct command *,
		    struct buf *);
static int	 evh_cmd_roster(struct request *, const struct command *,
		    struct buf *);
static int	 evh_event_line(const struct event *, void *);
static int	 evh_ctl_line(const struct event *, void *);
static void	 evh_state_vars(struct evmail_vars *, const struct config *,
		    const struct list *, enum rsvp_answer, int, int);
static void	 evh_changed(struct buf *, const struct config *,
		    const struct list *, const char *);
static int	 evh_remind_one(const struct config *, struct store *,
		    long long, int, time_t);
static int	 evh_lead_parse(const config_setting_t *, int *);

/* ------------------------------------------------------------ helpers */

static int
evh_staff(const struct config *cf, const struct list *l, const char *who)
{
	return config_is_moderator(l, who) || config_is_organizer(cf, l, who);
}

/* Those l reaches may answer, and its organizers and moderators. */
static int
evh_may_answer(struct store *st, const struct config *cf,
    const struct list *l, const char *who)
{
	if (evh_staff(cf, l, who))
		return 1;
	return members_in_audience(st, l->name, who);
}

/* The name to show for who: From's, else a member record's. */
static void
evh_name(struct store *st, const struct message *m, const char *who,
    struct buf *out)
{
	sqlite3_stmt *s;

	buf_reset(out);
	if (m && m->from_name && *m->from_name) {
		buf_adds(out, m->from_name);
		return;
	}
	s = store_stmt(st, "SELECT name FROM members WHERE addr = ?1 AND "
	    "name != '' ORDER BY created LIMIT 1");
	if (s == NULL)
		return;
	sqlite3_bind_text(s, 1, who, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		buf_adds(out, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	buf_cstr(out);
}

/* The one reply to a mail at LIST-events or LIST-rsvp, from -request. */
static int
evh_reply(struct mail_ctx *ctx, const struct list *l, struct buf *results)
{
	struct reply_vars rv;

	if (results->len == 0 || !reply_allowed(ctx, ctx->who))
		return 0;
	reply_vars_init(&rv, ctx, l);
	reply_var(&rv, "results", buf_cstr(results));
	return reply_send(ctx, l, ctx->who, "reply", &rv, NULL, 0);
}

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

/* ---------------------------------------------------------- announce */

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

static int
evh_person_add(const struct rsvp *r, void *arg)
{
	struct evh_people *p = arg;
	struct evh_person *x;

	if (r->answer == RSVP_NO ||
	    (p->going_only && (r->answer != RSVP_YES || r->position > 0)))
		return 0;
	p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
	x = &p->v[p->n++];
	snprintf(x->addr, sizeof(x->addr), "%s", r->addr);
	x->name = xstrdup(r->name ? r->name : "");
	x->answer = r->answer;
	x->guests = r->guests;
	x->position = r->position;
	return 0;
}

static void
evh_people_free(struct evh_people *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

/* The words of a person's current answer, for the texts. */
static void
evh_state_vars(struct evmail_vars *v, const struct config *cf,
    const struct list *l, enum rsvp_answer a, int guests, int position)
{
	struct buf b = BUF_INIT;

	evmail_var_int(v, "people", 1 + guests);
	evmail_var_int(v, "guests", guests);
	evmail_var_int(v, "position", position);
	evmail_label(&b, cf, l->language, a == RSVP_YES ? (position > 0 ?
	    "state-waiting" : "state-going") : a == RSVP_NO ?
	    "state-declined" : a == RSVP_MAYBE ? "state-tentative" :
	    "state-none", v);
	evmail_var(v, "state", buf_cstr(&b));
	buf_free(&b);
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
static int
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

/* ------------------------------------------------------------ answers */

/*
 * Record one answer and mail what follows from it: the person's own
 * confirmation (with their METHOD:REQUEST) when a->confirm, and a mail
 * to each person promoted by it.  status gets the sentence saying what
 * became of the answer.  0 or -1.
 */
static int
evh_record(struct evh_answer *a, struct buf *status)
{
	static const char *const keys[] = {
		[RSVP_GOING] = "status-going",
		[RSVP_WAITLISTED] = "status-waiting",
		[RSVP_DECLINED] = "status-declined",
		[RSVP_TENTATIVE] = "status-tentative",
		[RSVP_KEPT] = "status-kept",
		[RSVP_CLOSED] = "status-closed",
		[RSVP_OVER] = "status-over",
	};
	struct rsvp_result res;
	struct evmail_vars v;
	struct evmail_to t;
	int rc = -1, recorded;

	if (events_rsvp(a->st, a->e, a->who, a->name, a->answer, a->guests,
	    a->via, time(NULL), &res) != 0)
		return -1;
	recorded = res.outcome != RSVP_CLOSED && res.outcome != RSVP_OVER;
	a->recorded = recorded;
	if (a->command && !recorded)
		a->confirm = 0;	/* the command's reply says it all */
	if (events_count_seats(a->st, a->e) != 0)
		goto done;
	evmail_vars_init(&v);
	evmail_vars_event(&v, a->cf, a->l, a->e);
	evh_state_vars(&v, a->cf, a->l, res.outcome == RSVP_DECLINED ?
	    RSVP_NO : res.outcome == RSVP_TENTATIVE ? RSVP_MAYBE : RSVP_YES,
	    res.guests, res.position);
	evmail_label(status, a->cf, a->l->language, keys[res.outcome], &v);
	evmail_var(&v, "status", buf_cstr(status));
	if (a->confirm && recorded) {
		struct buf note = BUF_INIT;

		evmail_label(&note, a->cf, a->l->language, "calendar-attached",
		    NULL);
		evmail_var(&v, "calendar_note", buf_cstr(&note));
		buf_free(&note);
	} else
		evmail_var(&v, "calendar_note", "");
	if (a->confirm) {
		memset(&t, 0, sizeof(t));
		t.addr = a->who;
		t.name = a->name;
		t.auto_submitted = "auto-replied";
		t.in_reply_to = a->in_reply_to;
		if (recorded) {
			t.method = "REQUEST";
			t.partstat = res.outcome == RSVP_GOING ||
			    res.outcome == RSVP_KEPT ? ICAL_PS_ACCEPTED :
			    res.outcome == RSVP_DECLINED ? ICAL_PS_DECLINED :
			    ICAL_PS_TENTATIVE;
		}
		if (evmail_personal(a->cf, a->st, a->l, a->e, "event-confirm",
		    &v, &t) != 0) {
			evmail_vars_free(&v);
			goto done;
		}
	}
	evmail_vars_free(&v);
	if (evh_promoted(a->cf, a->st, a->l, a->e, &res.promoted) != 0)
		goto done;
	if (recorded)
		store_count(a->st, "rsvps", 1);
	log_info("%s: <%s> answered %s%s%d via %s: %s", a->e->ref, a->who,
	    events_answer_name(a->answer), " +", a->guests, a->via,
	    keys[res.outcome] + 7);
	rc = 0;
done:
	rsvp_result_clear(&res);
	return rc;
}

static void
evh_walk_calendar(struct mailmime *mime, struct strv *out)
{
	struct mailmime_content *ct = mime->mm_content_type;
	clistiter *it;

	switch (mime->mm_type) {
	case MAILMIME_MULTIPLE:
		for (it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list);
		    it; it = clist_next(it))
			evh_walk_calendar(clist_content(it), out);
		return;
	case MAILMIME_MESSAGE:
		/* Only the mail itself: a forwarded invitation is not ours. */
		if (mime->mm_parent == NULL &&
		    mime->mm_data.mm_message.mm_msg_mime)
			evh_walk_calendar(mime->mm_data.mm_message.mm_msg_mime,
			    out);
		return;
	case MAILMIME_SINGLE:
		break;
	default:
		return;
	}
	if (ct == NULL || ct->ct_subtype == NULL)
		return;
	{
		const char *type = ct->ct_type->tp_type ==
		    MAILMIME_TYPE_DISCRETE_TYPE && ct->ct_type->tp_data.
		    tp_discrete_type->dt_type == MAILMIME_DISCRETE_TYPE_TEXT ?
		    "text" : "application";
		char *name = mailmime_content_param_get(ct, "name");
		struct mailmime_data *d = mime->mm_data.mm_single;
		char *decoded = NULL, *cs;
		size_t idx = 0, dlen = 0, nlen = name ? strlen(name) : 0;
		int enc = MAILMIME_MECHANISM_8BIT;
		struct buf b = BUF_INIT;

		if (!(strcmp(type, "text") == 0 &&
		    (strcasecmp(ct->ct_subtype, "calendar") == 0 ||
		    strcasecmp(ct->ct_subtype, "x-vcalendar") == 0)) &&
		    strcasecmp(ct->ct_subtype, "ics") != 0 &&
		    !(nlen > 4 && strcasecmp(name + nlen - 4, ".ics") == 0))
			return;
		if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
			return;
		if (mime->mm_mime_fields)
			enc = mailmime_transfer_encoding_get(
			    mime->mm_mime_fields);
		if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
		    d->dt_data.dt_text.dt_length, &idx, enc, &decoded,
		    &dlen) != MAILIMF_NO_ERROR)
			return;
		cs = mailmime_content_charset_get(ct);
		if (cs == NULL || strcasecmp(cs, "utf-8") == 0 ||
		    strcasecmp(cs, "us-ascii") == 0 ||
		    charset_to_utf8(cs, decoded, dlen, &b) != 0) {
			buf_reset(&b);
			buf_add(&b, decoded, dlen);
		}
		mailmime_decoded_part_free(decoded);
		events_strv_add(out, buf_cstr(&b));
		buf_free(&b);
	}
}

/* The iCalendar objects attached to the raw message, decoded. */
static void
evh_calendar_parts(const char *raw, size_t len, struct strv *out)
{
	struct mailmime *mime = NULL;
	size_t idx = 0;

	if (mailmime_parse(raw, len, &idx, &mime) != MAILIMF_NO_ERROR ||
	    mime == NULL)
		return;
	evh_walk_calendar(mime, out);
	mailmime_free(mime);
}

/*
 * A calendar REPLY in the mail: 1 with the answer (and the CN in name),
 * 0 when there is none, -1 when there is one we refuse (said in
 * results).
 */
static int
evh_calendar(struct mail_ctx *ctx, const struct list *l,
    const struct event *e, enum rsvp_answer *answer, int *guests,
    struct buf *name, struct buf *results)
{
	struct strv parts = { NULL, 0 };
	struct ical_reply r;
	struct evmail_vars v;
	char env[ADDR_MAX + 1];
	enum ical_reply_error err = ICAL_REPLY_UNPARSABLE;
	const char *key = NULL;
	size_t i;
	int rc = 0;

	evh_calendar_parts(ctx->msg->raw, ctx->msg->len, &parts);
	if (addr_canon(ctx->env->sender, env, sizeof(env)) != 0)
		env[0] = '\0';
	for (i = 0; i < parts.n; i++) {
		err = ical_parse_reply(parts.v[i], ctx->who, env, &r);
		if (err != ICAL_REPLY_UNPARSABLE && err != ICAL_REPLY_NOT_REPLY)
			break;
	}
	if (i == parts.n) {
		events_strv_free(&parts);
		return 0;
	}
	if (r.nerrors)
		log_info("%s: %s: calendar reply with %d error%s (%s)", ctx->id,
		    e->ref, r.nerrors, r.nerrors == 1 ? "" : "s", r.error);
	if (err == ICAL_REPLY_OK && strcmp(r.uid, e->uid) != 0)
		key = "calendar-other-event";
	else if (err == ICAL_REPLY_NOT_SENDER)
		key = "calendar-not-sender";
	else if (err != ICAL_REPLY_OK)
		key = "calendar-unreadable";
	if (key) {
		log_info("%s: %s: calendar reply from <%s> refused: %s (uid "
		    "%s, attendee %s)", ctx->id, e->ref, ctx->who, key, r.uid,
		    r.attendee);
		evmail_vars_init(&v);
		evmail_vars_event(&v, ctx->cf, l, e);
		evmail_var(&v, "attendee", r.attendee);
		evmail_var(&v, "address", ctx->who);
		evmail_label(results, ctx->cf, l->language, key, &v);
		evmail_vars_free(&v);
		rc = -1;
	} else {
		*answer = r.partstat == ICAL_PS_ACCEPTED ? RSVP_YES :
		    r.partstat == ICAL_PS_DECLINED ? RSVP_NO : RSVP_MAYBE;
		*guests = r.guests > 0 ? r.guests : 0;
		if (*guests > EVENT_GUESTS_MAX)
			*guests = EVENT_GUESTS_MAX;
		if (r.name[0] && name->len == 0)
			buf_adds(name, r.name);
		rc = 1;
	}
	events_strv_free(&parts);
	return rc;
}

/* LIST-rsvp+EVENT@D: a calendar REPLY, or a line of text. */
int
event_rsvp_handle(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;
	struct buf results = BUF_INIT, name = BUF_INIT, status = BUF_INIT;
	struct evmail_vars v;
	struct event e;
	struct evh_answer a;
	enum rsvp_answer answer = RSVP_NONE;
	char ref[EVENT_REF_MAX];
	long long id;
	int guests = 0, rc = 0, cal;

	if (reply_is_automatic(ctx) || ctx->who[0] == '\0') {
		log_info("%s: %s-rsvp: automatic or senderless mail from <%s> "
		    "ignored", ctx->id, l->name, ctx->env->sender);
		return 0;
	}
	memset(&e, 0, sizeof(e));
	evmail_vars_init(&v);
	evmail_var(&v, "event", r->arg);
	rc = events_parse_ref(r->arg, &id) != 0 ? 0 :
	    events_get(ctx->st, id, &e);
	if (rc < 0)
		goto done;
	if (rc == 0 || strcmp(e.list, l->name) != 0) {
		evmail_label(&results, ctx->cf, l->language, "unknown-event",
		    &v);
		rc = 0;
		goto reply;
	}
	rc = 0;
	evh_name(ctx->st, ctx->msg, ctx->who, &name);
	if ((cal = evh_calendar(ctx, l, &e, &answer, &guests, &name,
	    &results)) < 0)
		goto reply;
	if (cal == 0 && (event_answer_from_mail(ctx->msg->text,
	    ctx->msg->subject, &answer, &guests, ref, sizeof(ref)) != 0 ||
	    (*ref && strcasecmp(ref, e.ref) != 0))) {
		evmail_vars_event(&v, ctx->cf, l, &e);
		evmail_label(&results, ctx->cf, l->language,
		    "unreadable-answer", &v);
		goto reply;
	}
	if ((rc = evh_may_answer(ctx->st, ctx->cf, l, ctx->who)) <= 0) {
		if (rc < 0)
			goto done;
		rc = 0;
		evmail_label(&results, ctx->cf, l->language,
		    "rsvp-members-only", &v);
		goto reply;
	}
	memset(&a, 0, sizeof(a));
	a.cf = ctx->cf;
	a.st = ctx->st;
	a.l = l;
	a.e = &e;
	a.who = ctx->who;
	a.name = buf_cstr(&name);
	a.answer = answer;
	a.guests = guests;
	a.via = cal ? "calendar" : "reply";
	a.in_reply_to = ctx->msg->message_id;
	a.confirm = reply_allowed(ctx, ctx->who);
	rc = evh_record(&a, &status);
	goto done;
reply:
	rc = evh_reply(ctx, l, &results);
done:
	evmail_vars_free(&v);
	event_clear(&e);
	buf_free(&results);
	buf_free(&name);
	buf_free(&status);
	return rc;
}

/* ----------------------------------------------------------- commands */

/*
 * The event ref names and its list (from the config).  1 found, 0 not
 * (or its list is no longer configured), -1 on error.
 */
static int
evh_lookup(struct store *st, const struct config *cf, const char *ref,
    struct event *e, const struct list **l)
{
	long long id;
	int rc;

	if (events_parse_ref(ref, &id) != 0)
		return 0;
	if ((rc = events_get(st, id, e)) <= 0)
		return rc;
	if ((*l = config_list(cf, e->list)) == NULL) {
		event_clear(e);
		return 0;
	}
	return 1;
}

static int
evh_event_line(const struct event *e, void *arg)
{
	struct evh_events *x = arg;
	const struct list *el = config_list(x->cf, e->list);
	struct evmail_vars v;

	if (el == NULL)
		return 0;
	evmail_vars_init(&v);
	/* The words in the asking list's language, the addresses its own. */
	evmail_vars_event(&v, x->cf, el, e);
	if (el->language != x->l->language &&
	    strcmp(el->language, x->l->language) != 0) {
		struct buf b = BUF_INIT;

		event_date_format(&b, x->l->language, x->cf->timezone,
		    &e->when);
		evmail_var(&v, "when", buf_cstr(&b));
		buf_reset(&b);
		evmail_label(&b, x->cf, x->l->language, e->capacity == 0 ?
		    "seats-unlimited" : e->capacity > e->taken ? "seats-left" :
		    "seats-full", &v);
		evmail_var(&v, "seats", buf_cstr(&b));
		buf_free(&b);
	}
	evmail_label(x->out, x->cf, x->l->language, *e->place ?
	    "events-line-place" : "events-line", &v);
	buf_addc(x->out, '\n');
	evmail_vars_free(&v);
	x->n++;
	return 0;
}

static int
evh_cmd_events(struct request *s, struct buf *out)
{
	struct buf lines = BUF_INIT;
	struct evh_events x = { s->ctx->cf, s->list, &lines, 0, 0 };
	struct evmail_vars v;

	if (events_foreach_upcoming(s->ctx->st, s->list->name, time(NULL),
	    evh_event_line, &x) != 0) {
		buf_free(&lines);
		return -1;
	}
	evmail_vars_init(&v);
	evmail_vars_list(&v, s->ctx->cf, s->list);
	while (lines.len && lines.data[lines.len - 1] == '\n')
		lines.len--;
	evmail_var(&v, "events", buf_cstr(&lines));
	evmail_var_int(&v, "count", x.n);
	evmail_label(out, s->ctx->cf, s->list->language, x.n ? "events-list" :
	    "events-none", &v);
	evmail_vars_free(&v);
	buf_free(&lines);
	return 0;
}

static int
evh_cmd_rsvp(struct request *s, const struct command *c, struct buf *out)
{
	struct mail_ctx *ctx = s->ctx;
	struct event e;
	const struct list *el = NULL;
	struct evmail_vars v;
	struct evh_answer a;
	struct buf name = BUF_INIT;
	enum rsvp_answer answer;
	char ref[EVENT_REF_MAX];
	int guests, rc;

	memset(&e, 0, sizeof(e));
	evmail_vars_init(&v);
	if (event_answer_parse(c->args, &answer, &guests, ref,
	    sizeof(ref)) != 0 || *ref == '\0') {
		evmail_vars_list(&v, ctx->cf, s->list);
		evmail_label(out, ctx->cf, s->list->language, "rsvp-usage",
		    &v);
		evmail_vars_free(&v);
		return 0;
	}
	evmail_var(&v, "event", ref);
	if ((rc = evh_lookup(ctx->st, ctx->cf, ref, &e, &el)) <= 0) {
		if (rc == 0)
			evmail_label(out, ctx->cf, s->list->language,
			    "unknown-event", &v);
		evmail_vars_free(&v);
		return rc;
	}
	if ((rc = evh_may_answer(ctx->st, ctx->cf, el, ctx->who)) <= 0) {
		if (rc == 0)
			evmail_label(out, ctx->cf, s->list->language,
			    "rsvp-members-only", &v);
		goto done;
	}
	evh_name(ctx->st, ctx->msg, ctx->who, &name);
	memset(&a, 0, sizeof(a));
	a.cf = ctx->cf;
	a.st = ctx->st;
	a.l = el;
	a.e = &e;
	a.who = ctx->who;
	a.name = buf_cstr(&name);
	a.answer = answer;
	a.guests = guests;
	a.via = "command";
	a.command = 1;
	a.in_reply_to = ctx->msg->message_id;
	a.confirm = reply_allowed(ctx, ctx->who);
	if ((rc = evh_record(&a, out)) == 0 && a.confirm && a.recorded) {
		buf_addc(out, '\n');
		evmail_label(out, ctx->cf, s->list->language,
		    "calendar-follows", NULL);
	}
done:
	evmail_vars_free(&v);
	event_clear(&e);
	buf_free(&name);
	return rc < 0 ? -1 : 0;
}

static int
evh_cmd_status(struct request *s, const struct command *c, struct buf *out)
{
	struct mail_ctx *ctx = s->ctx;
	struct event e;
	const struct list *el = NULL;
	struct evmail_vars v;
	struct rsvp r;
	char ref[EVENT_REF_MAX];
	int rc;

	memset(&e, 0, sizeof(e));
	evmail_vars_init(&v);
	snprintf(ref, sizeof(ref), "%.*s", (int)strcspn(c->args, " \t"),
	    c->args);
	evmail_var(&v, "event", ref);
	if ((rc = evh_lookup(ctx->st, ctx->cf, ref, &e, &el)) <= 0) {
		if (rc == 0)
			evmail_label(out, ctx->cf, s->list->language,
			    *ref ? "unknown-event" : "status-usage", &v);
		evmail_vars_free(&v);
		return rc;
	}
	evmail_vars_event(&v, ctx->cf, el, &e);
	if ((rc = events_rsvp_get(ctx->st, e.id, ctx->who, &r)) < 0)
		goto done;
	if (rc == 1) {
		struct buf when = BUF_INIT;

		evh_state_vars(&v, ctx->cf, s->list, r.answer, r.guests,
		    r.position);
		event_date_stamp(&when, ctx->cf->timezone, r.answered);
		evmail_var(&v, "answered", buf_cstr(&when));
		buf_free(&when);
		rsvp_clear(&r);
	} else
		evh_state_vars(&v, ctx->cf, s->list, RSVP_NONE, 0, 0);
	evmail_label(out, ctx->cf, s->list->language, rc == 1 ? "status" :
	    "status-unanswered", &v);
	rc = 0;
done:
	evmail_vars_free(&v);
	event_clear(&e);
	return rc;
}

static int
evh_cmd_roster(struct request *s, const struct command *c, struct buf *out)
{
	struct mail_ctx *ctx = s->ctx;
	struct event e;
	const struct list *el = NULL;
	struct evmail_vars v;
	char ref[EVENT_REF_MAX];
	int rc;

	memset(&e, 0, sizeof(e));
	evmail_vars_init(&v);
	snprintf(ref, sizeof(ref), "%.*s", (int)strcspn(c->args, " \t"),
	    c->args);
	evmail_var(&v, "event", ref);
	if ((rc = evh_lookup(ctx->st, ctx->cf, ref, &e, &el)) <= 0) {
		if (rc == 0)
			evmail_label(out, ctx->cf, s->list->language,
			    *ref ? "unknown-event" : "roster-usage", &v);
		evmail_vars_free(&v);
		return rc;
	}
	rc = 0;
	if (!evh_staff(ctx->cf, el, ctx->who)) {
		log_info("%s: roster of %s refused to <%s>", ctx->id, e.ref,
		    ctx->who);
		evmail_label(out, ctx->cf, s->list->language, "roster-denied",
		    &v);
	} else if (!reply_allowed(ctx, ctx->who)) {
		evmail_label(out, ctx->cf, s->list->language, "roster-later",
		    &v);
	} else if ((rc = evmail_roster(ctx->cf, ctx->st, el, &e, ctx->who,
	    ctx->msg->message_id)) == 0)
		evmail_label(out, ctx->cf, s->list->language, "roster-sent",
		    &v);
	evmail_vars_free(&v);
	event_clear(&e);
	return rc;
}

/*
 * The commands events, rsvp (参加/不参加/未定), status and roster (名簿
 * EVENT), called from request_run().  Each adds one result.
 */
int
event_command(struct request *s, const struct command *c)
{
	struct buf out = BUF_INIT;
	int rc;

	switch (c->verb) {
	case CMD_EVENTS:
		rc = evh_cmd_events(s, &out);
		break;
	case CMD_RSVP:
		rc = evh_cmd_rsvp(s, c, &out);
		break;
	case CMD_STATUS:
		rc = evh_cmd_status(s, c, &out);
		break;
	case CMD_ROSTER:
		rc = evh_cmd_roster(s, c, &out);
		break;
	default:
		rc = request_result(s, "unavailable", c);
		buf_free(&out);
		return rc;
	}
	if (rc == 0) {
		reply_var(&s->rv, "event_result", buf_cstr(&out));
		rc = request_result(s, "event-result", c);
		reply_var(&s->rv, "event_result", "");
	}
	buf_free(&out);
	return rc;
}

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

/* -------------------------------------------------------- mlserverctl */

static int
evh_ctl_line(const struct event *e, void *arg)
{
	struct evh_events *x = arg;
	struct buf when = BUF_INIT;

	event_date_stamp(&when, x->cf->timezone, e->when.start);
	if (x->json) {
		buf_adds(x->out, x->n ? ",\n {\"event\": " : "\n {\"event\": ");
		ctl_json_string(x->out, e->ref);
		buf_adds(x->out, ", \"list\": ");
		ctl_json_string(x->out, e->list);
		buf_adds(x->out, ", \"title\": ");
		ctl_json_string(x->out, e->title);
		buf_adds(x->out, ", \"place\": ");
		ctl_json_string(x->out, e->place);
		buf_printf(x->out, ", \"start\": %lld, \"end\": %lld, "
		    "\"allday\": %s, \"capacity\": %d, \"taken\": %d, "
		    "\"waiting\": %d, \"deadline\": %lld, \"sequence\": %d, "
		    "\"cancelled\": %s}", (long long)e->when.start,
		    (long long)e->when.end, e->when.allday ? "true" : "false",
		    e->capacity, e->taken, e->waiting,
		    (long long)e->deadline, e->sequence,
		    e->cancelled ? "true" : "false");
	} else {
		buf_printf(x->out, "%-5s %s  %-12s ", e->ref, buf_cstr(&when),
		    e->list);
		if (e->capacity)
			buf_printf(x->out, "%3d/%-3d", e->taken, e->capacity);
		else
			buf_printf(x->out, "%3d/-  ", e->taken);
		buf_printf(x->out, " %2d waiting  %s%s\n", e->waiting,
		    e->title, e->cancelled ? "  (cancelled)" : "");
	}
	x->n++;
	buf_free(&when);
	return 0;
}

/* mlserverctl events [LIST]: 0 or a sysexits code. */
int
event_ctl_events(const struct config *cf, struct store *st, const char *list,
    int json, struct buf *out)
{
	struct evh_events x = { cf, NULL, out, json, 0 };

	if (list && config_list(cf, list) == NULL) {
		fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n", list,
		    cf->path);
		return 67;
	}
	if (json)
		buf_adds(out, "[");
	if (events_foreach_upcoming(st, list, time(NULL), evh_ctl_line,
	    &x) != 0)
		return 75;
	if (json)
		buf_adds(out, "\n]\n");
	else if (x.n == 0)
		buf_adds(out, "no upcoming events\n");
	return 0;
}

/* mlserverctl roster EVENT: the CSV, as the organizers get it. */
int
event_ctl_roster(const struct config *cf, struct store *st, const char *ref,
    struct buf *out)
{
	struct event e;
	const struct list *l;
	int rc;

	if ((rc = evh_lookup(st, cf, ref, &e, &l)) < 0)
		return 75;
	if (rc == 0) {
		fprintf(stderr, "mlserverctl: no event \"%s\"\n", ref);
		return 67;
	}
	rc = evmail_roster_csv(cf, st, l, &e, out) == 0 ? 0 : 75;
	event_clear(&e);
	return rc;
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
