/*
 * event_command - events asked about rather than announced: the -request
 * commands events, rsvp (参加/不参加/未定), status and roster (名簿
 * EVENT), called from request_run(), and mlserverctl's events and
 * roster.  An answer given by command is recorded as every other one
 * (evh_record in event_rsvp.c); the roster is for the organizers and
 * moderators of the event's list, and the administrator.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "command.h"
#include "config.h"
#include "ctl.h"
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
#include "request.h"

/*
 * The events being listed: by the events command (l is the asking
 * list) or by mlserverctl events (json, no list).
 */
struct evh_events {
	const struct config	*cf;
	const struct list	*l;	/* the asking list, for its language */
	struct buf		*out;
	int			 json;
	int			 n;
};

static int	 evh_lookup(struct store *, const struct config *,
		    const char *, struct event *, const struct list **);
static int	 evh_cmd_events(struct request *, struct buf *);
static int	 evh_cmd_rsvp(struct request *, const struct command *,
		    struct buf *);
static int	 evh_cmd_status(struct request *, const struct command *,
		    struct buf *);
static int	 evh_cmd_roster(struct request *, const struct command *,
		    struct buf *);
static int	 evh_roster_attach(struct request *, const struct list *,
		    const struct event *, struct evmail_vars *, struct buf *);
static int	 evh_event_line(const struct event *, void *);
static int	 evh_ctl_line(const struct event *, void *);

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

/* ----------------------------------------------------------- commands */

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

/*
 * Attach e's roster to the command's reply, named in the language of
 * its list (that of its header row), and say so in the result.
 */
static int
evh_roster_attach(struct request *s, const struct list *el,
    const struct event *e, struct evmail_vars *v, struct buf *out)
{
	struct mail_ctx *ctx = s->ctx;
	struct buf csv = BUF_INIT, file = BUF_INIT;

	if (evmail_roster_csv(ctx->cf, ctx->st, el, e, &csv) != 0) {
		buf_free(&csv);
		return -1;
	}
	evmail_vars_event(v, ctx->cf, el, e);
	evmail_label(&file, ctx->cf, el->language, "roster-file", v);
	evmail_var(v, "file", buf_cstr(&file));
	request_attach(s, "text/csv; charset=UTF-8", buf_cstr(&file),
	    csv.data, csv.len);
	evmail_label(out, ctx->cf, s->list->language, "roster-attached", v);
	log_info("%s: %s: roster of %s attached for <%s>", ctx->id, el->name,
	    e->ref, ctx->who);
	buf_free(&csv);
	buf_free(&file);
	return 0;
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
	} else
		rc = evh_roster_attach(s, el, &e, &v, out);
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
