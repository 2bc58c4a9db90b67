/*
 * event_mail - the mail events send; see event_mail.h.
 *
 * The texts are templates (conf/templates/LANG/event-*.txt); the short
 * phrases that are put together (the lines of an event's details, the
 * words of the roster) are the KEY=TEXT lines of event-labels.txt, so a
 * chapter can reword everything without touching code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "compose.h"
#include "config.h"
#include "ctl.h"
#include "event_date.h"
#include "event_mail.h"
#include "log.h"
#include "outq.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

struct roster_ctx {
	const struct config	*cf;
	const struct list	*l;
	struct buf		*out;
	struct evmail_vars	*vars;
};

static void	 evmail_expand_label(struct buf *, const char *, size_t,
		    const struct evmail_vars *);
static void	 evmail_event_lines(struct evmail_vars *,
		    const struct config *, const struct list *,
		    const struct event *);
static void	 evmail_base64_part(struct buf *, const char *, size_t);
static void	 evmail_mime(struct buf *, const struct config *,
		    const struct list *, const struct compose *,
		    const char *, const char *);
static int	 evmail_queue(const struct config *, struct store *,
		    const struct list *, struct compose *, struct buf *,
		    const char *, int, long long *);
static int	 evmail_split_subject(const struct config *, const char *,
		    const char *, struct evmail_vars *, char **,
		    struct buf *);
static void	 evmail_csv_field(struct buf *, const char *);
static int	 evmail_roster_row(const struct rsvp *, void *);

void
evmail_vars_init(struct evmail_vars *v)
{
	memset(v, 0, sizeof(*v));
}

/* Set (or replace) variable name to a copy of value. */
void
evmail_var(struct evmail_vars *v, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i].name, name) == 0) {
			free((char *)v->v[i].value);
			v->v[i].value = xstrdup(value ? value : "");
			return;
		}
	if (v->n == EVMAIL_VARS_MAX) {
		log_warnx("event mail: too many template variables (%s)", name);
		return;
	}
	v->v[v->n].name = name;
	v->v[v->n++].value = xstrdup(value ? value : "");
}

void
evmail_var_int(struct evmail_vars *v, const char *name, long long n)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", n);
	evmail_var(v, name, s);
}

void
evmail_vars_free(struct evmail_vars *v)
{
	for (size_t i = 0; i < v->n; i++)
		free((char *)v->v[i].value);
	v->n = 0;
}

/* The list's addresses and name, as every template may use them. */
void
evmail_vars_list(struct evmail_vars *v, const struct config *cf,
    const struct list *l)
{
	struct buf b = BUF_INIT;
	static const char *const suffixes[][2] = {
		{ "request", "request" }, { "owner", "owner" },
		{ "join", "join" }, { "leave", "leave" },
	};

	evmail_var(v, "list", l->name);
	evmail_var(v, "description", l->description);
	compose_list_addr(&b, cf, l, NULL);
	evmail_var(v, "post", buf_cstr(&b));
	for (size_t i = 0; i < 4; i++) {
		buf_reset(&b);
		compose_list_addr(&b, cf, l, suffixes[i][1]);
		evmail_var(v, suffixes[i][0], buf_cstr(&b));
	}
	buf_free(&b);
}

/* Expand one label value: %{vars}, and "\n" written as two characters. */
static void
evmail_expand_label(struct buf *out, const char *s, size_t n,
    const struct evmail_vars *v)
{
	struct buf raw = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
			buf_addc(&raw, '\n');
			i++;
		} else
			buf_addc(&raw, s[i]);
	}
	template_expand(out, buf_cstr(&raw), v ? v->v : NULL, v ? v->n : 0);
	buf_free(&raw);
}

/*
 * Append the label key of event-labels in lang, expanded with v (may be
 * NULL).  A missing key shows as itself, so that a gap is seen.
 */
void
evmail_label(struct buf *out, const struct config *cf, const char *lang,
    const char *key, const struct evmail_vars *v)
{
	char *text = template_load(cf, lang, "event-labels");
	size_t k = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > k && strncmp(p, key, k) == 0 && p[k] == '=') {
			evmail_expand_label(out, p + k + 1, n - k - 1, v);
			free(text);
			return;
		}
		p = eol ? eol + 1 : p + n;
	}
	free(text);
	log_warnx("event-labels (%s): no \"%s\"", lang, key);
	buf_adds(out, key);
}

void
evmail_rsvp_addr(struct buf *b, const struct config *cf,
    const struct list *l, const struct event *e)
{
	buf_printf(b, "%s-rsvp+%s@%s", l->name, e->ref, cf->domain);
}

/* The details block: when, where, seats, deadline; one line each. */
static void
evmail_event_lines(struct evmail_vars *v, const struct config *cf,
    const struct list *l, const struct event *e)
{
	struct buf b = BUF_INIT;
	const char *lang = l->language;

	evmail_label(&b, cf, lang, "line-when", v);
	buf_addc(&b, '\n');
	if (*e->place) {
		evmail_label(&b, cf, lang, "line-place", v);
		buf_addc(&b, '\n');
	}
	if (e->capacity > 0) {
		evmail_label(&b, cf, lang, e->taken >= e->capacity ?
		    "line-capacity-full" : "line-capacity", v);
		buf_addc(&b, '\n');
	}
	if (e->deadline) {
		evmail_label(&b, cf, lang, "line-deadline", v);
		buf_addc(&b, '\n');
	}
	if (e->cancelled) {
		evmail_label(&b, cf, lang, "line-cancelled", v);
		buf_addc(&b, '\n');
	}
	while (b.len && b.data[b.len - 1] == '\n')
		b.len--;
	evmail_var(v, "event_lines", buf_cstr(&b));
	buf_free(&b);
}

/* Everything a template may say about the event. */
void
evmail_vars_event(struct evmail_vars *v, const struct config *cf,
    const struct list *l, const struct event *e)
{
	struct buf b = BUF_INIT;
	int left = e->capacity - e->taken;

	evmail_vars_list(v, cf, l);
	evmail_var(v, "event", e->ref);
	evmail_var(v, "title", e->title);
	event_date_format(&b, l->language, cf->timezone, &e->when);
	evmail_var(v, "when", buf_cstr(&b));
	buf_reset(&b);
	event_date_short(&b, l->language, cf->timezone, e->when.start);
	evmail_var(v, "date_short", buf_cstr(&b));
	evmail_var(v, "place", e->place);
	evmail_var(v, "details", e->description);
	buf_reset(&b);
	if (*e->description)
		buf_printf(&b, "%s\n\n", e->description);
	evmail_var(v, "details_block", buf_cstr(&b));
	buf_reset(&b);
	evmail_rsvp_addr(&b, cf, l, e);
	evmail_var(v, "rsvp", buf_cstr(&b));
	evmail_var_int(v, "capacity", e->capacity);
	evmail_var_int(v, "seats_left", left > 0 ? left : 0);
	evmail_var_int(v, "waiting", e->waiting);
	evmail_var_int(v, "taken", e->taken);
	buf_reset(&b);
	if (e->deadline) {
		struct event_when d = { e->deadline, 0, 0 };

		event_date_format(&b, l->language, cf->timezone, &d);
	}
	evmail_var(v, "deadline", buf_cstr(&b));
	buf_reset(&b);
	evmail_label(&b, cf, l->language, e->capacity == 0 ? "seats-unlimited" :
	    left > 0 ? "seats-left" : "seats-full", v);
	evmail_var(v, "seats", buf_cstr(&b));
	evmail_event_lines(v, cf, l, e);
	buf_free(&b);
}

/* The calendar's view of e. orgbuf holds the ORGANIZER address. */
void
evmail_ical_event(struct ical_event *ie, const struct config *cf,
    const struct list *l, const struct event *e, struct buf *orgbuf)
{
	memset(ie, 0, sizeof(*ie));
	buf_reset(orgbuf);
	evmail_rsvp_addr(orgbuf, cf, l, e);
	ie->uid = e->uid;
	ie->summary = e->title;
	ie->location = e->place;
	ie->description = e->description;
	ie->organizer = buf_cstr(orgbuf);
	ie->organizer_name = l->description;
	ie->tz = cf->timezone;
	ie->start = e->when.start;
	ie->end = e->when.end;
	ie->allday = e->when.allday;
	ie->sequence = e->sequence;
	ie->cancelled = e->cancelled;
}

enum ical_partstat
evmail_partstat(enum rsvp_answer a, int waiting)
{
	switch (a) {
	case RSVP_YES:
		return waiting ? ICAL_PS_TENTATIVE : ICAL_PS_ACCEPTED;
	case RSVP_NO:
		return ICAL_PS_DECLINED;
	case RSVP_MAYBE:
		return ICAL_PS_TENTATIVE;
	default:
		return ICAL_PS_NEEDS_ACTION;
	}
}

static void
evmail_base64_part(struct buf *m, const char *data, size_t len)
{
	buf_adds(m, "Content-Transfer-Encoding: base64\n\n");
	base64_encode(m, data ? data : "", len, 76);
	if (m->len && m->data[m->len - 1] != '\n')
		buf_addc(m, '\n');
}

/*
 * The mail m: c's header, then the text alone, or the text and a
 * calendar (cal, with method).  The header and
 * the text are in l's charset as compose writes them (ISO-2022-JP for
 * the phones of a list that asks for it); a calendar is UTF-8 always,
 * as RFC 5545 says.
 */
static void
evmail_mime(struct buf *m, const struct config *cf, const struct list *l,
    const struct compose *c, const char *cal, const char *method)
{
	const char *cs = compose_charset(cf, l->name);

	compose_header(m, c, cs);
	if (cal == NULL) {
		compose_text_part(m, &c->text, cs);
		return;
	}
	buf_printf(m, "Content-Type: multipart/mixed; "
	    "boundary=\"=_mls_%s_m\"\n\n", c->id);
	buf_printf(m, "--=_mls_%s_m\n", c->id);
	buf_printf(m, "Content-Type: multipart/alternative; "
	    "boundary=\"=_mls_%s_a\"\n\n--=_mls_%s_a\n", c->id, c->id);
	compose_text_part(m, &c->text, cs);
	buf_printf(m, "\n--=_mls_%s_a\nContent-Type: text/calendar; "
	    "charset=UTF-8; method=%s\n", c->id, method);
	evmail_base64_part(m, cal, strlen(cal));
	buf_printf(m, "\n--=_mls_%s_a--\n\n--=_mls_%s_m\n", c->id, c->id);
	buf_adds(m, "Content-Type: application/ics; name=\"invite.ics\"\n"
	    "Content-Disposition: attachment; filename=\"invite.ics\"\n");
	evmail_base64_part(m, cal, strlen(cal));
	buf_printf(m, "\n--=_mls_%s_m--\n", c->id);
}

/*
 * Write the message m (c's id) to out/ and queue it: to rcpt, or with
 * fanout to l's audience.  In the caller's transaction.
 */
static int
evmail_queue(const struct config *cf, struct store *st, const struct list *l,
    struct compose *c, struct buf *m, const char *rcpt, int fanout,
    long long *count)
{
	struct buf bounces = BUF_INIT;
	long long n = 1;
	int rc = -1;

	compose_list_addr(&bounces, cf, l, "bounces");
	if (compose_write_out(cf, st, c->id, m->data, m->len) != 0 ||
	    outq_message_add(st, c->id, l->name, "event",
	    buf_cstr(&bounces)) != 0)
		goto done;
	if (fanout)
		n = outq_fanout(st, cf, c->id, l->name);
	else if (outq_add_rcpt(st, c->id, rcpt) != 0)
		n = -1;
	if (n < 0 || outq_message_ready(st, c->id) != 0)
		goto done;
	if (count)
		*count = n;
	rc = 0;
done:
	buf_free(&bounces);
	return rc;
}

/* Render tmpl; its "Subject:" line apart from the body. */
static int
evmail_split_subject(const struct config *cf, const char *lang,
    const char *tmpl, struct evmail_vars *v, char **subject, struct buf *body)
{
	struct buf out = BUF_INIT;
	const char *p, *eol;

	*subject = NULL;
	if (template_render(cf, lang, tmpl, v->v, v->n, &out) != 0) {
		buf_free(&out);
		return -1;
	}
	p = buf_cstr(&out);
	if (strncmp(p, "Subject: ", 9) == 0) {
		eol = strchr(p, '\n');
		*subject = xstrndup(p + 9, eol ? (size_t)(eol - p - 9) :
		    strlen(p + 9));
		p = eol ? eol + 1 : "";
	}
	buf_adds(body, p);
	buf_free(&out);
	return 0;
}

/*
 * The announcement: template event-announce to l's audience, with the
 * event as METHOD:PUBLISH.  Returns the number of recipients, or -1.
 */
long long
evmail_announce(const struct config *cf, struct store *st,
    const struct list *l, const struct event *e, struct evmail_vars *v)
{
	struct compose c;
	struct ical_event ie;
	struct buf rsvp = BUF_INIT, cal = BUF_INIT, m = BUF_INIT,
	    to = BUF_INIT;
	char *subject = NULL;
	long long n = -1;

	compose_init(&c);
	if (evmail_split_subject(cf, l->language, "event-announce", v,
	    &subject, &c.text) != 0)
		goto done;
	evmail_rsvp_addr(&rsvp, cf, l, e);
	compose_field_addr(&c, "From", l->description, buf_cstr(&rsvp));
	compose_list_addr(&to, cf, l, NULL);
	compose_field_addr(&c, "To", l->description, buf_cstr(&to));
	compose_list_fields(&c, cf, l, subject ? subject : e->title);
	compose_basics(&c, cf, "auto-generated", NULL);
	compose_field_addr(&c, "Reply-To", NULL, buf_cstr(&rsvp));
	evmail_ical_event(&ie, cf, l, e, &rsvp);
	if (ical_build(&cal, &ie, "PUBLISH", NULL) != 0)
		goto done;
	evmail_mime(&m, cf, l, &c, buf_cstr(&cal), "PUBLISH");
	if (evmail_queue(cf, st, l, &c, &m, NULL, 1, &n) != 0)
		n = -1;
	else
		log_info("%s: %s: %s announced as %s to %lld recipients",
		    c.id, l->name, e->ref, c.id, n);
done:
	free(subject);
	compose_free(&c);
	buf_free(&rsvp);
	buf_free(&cal);
	buf_free(&m);
	buf_free(&to);
	return n;
}

/*
 * A personal mail about e: template tmpl to t->addr, from the event's
 * rsvp address, with the person's own calendar part when t->method.
 */
int
evmail_personal(const struct config *cf, struct store *st,
    const struct list *l, const struct event *e, const char *tmpl,
    struct evmail_vars *v, const struct evmail_to *t)
{
	struct compose c;
	struct ical_event ie;
	struct ical_attendee a;
	struct buf rsvp = BUF_INIT, cal = BUF_INIT, m = BUF_INIT,
	    g = BUF_INIT;
	int rc = -1;

	evmail_var(v, "name", t->name ? t->name : "");
	evmail_var(v, "address", t->addr);
	evmail_label(&g, cf, l->language, t->name && *t->name ? "greeting" :
	    "greeting-anon", v);
	evmail_var(v, "greeting", buf_cstr(&g));
	compose_init(&c);
	evmail_rsvp_addr(&rsvp, cf, l, e);
	compose_field_addr(&c, "From", l->description, buf_cstr(&rsvp));
	compose_field_addr(&c, "To", t->name, t->addr);
	if (compose_template(&c, cf, l->language, tmpl, v->v, v->n) != 0)
		goto done;
	compose_basics(&c, cf, t->auto_submitted ? t->auto_submitted :
	    "auto-generated", t->in_reply_to);
	compose_field_addr(&c, "Reply-To", NULL, buf_cstr(&rsvp));
	compose_field(&c, "X-Loop", buf_cstr(&rsvp));
	if (t->method != NULL) {
		evmail_ical_event(&ie, cf, l, e, &rsvp);
		a.addr = t->addr;
		a.name = t->name;
		a.partstat = t->partstat;
		a.rsvp = strcmp(t->method, "REQUEST") == 0;
		if (ical_build(&cal, &ie, t->method, &a) != 0)
			goto done;
		evmail_mime(&m, cf, l, &c, buf_cstr(&cal), t->method);
	} else
		evmail_mime(&m, cf, l, &c, NULL, NULL);
	if (evmail_queue(cf, st, l, &c, &m, t->addr, 0, NULL) != 0)
		goto done;
	log_info("%s: %s: %s %s to <%s>", c.id, l->name, e->ref, tmpl,
	    t->addr);
	rc = 0;
done:
	compose_free(&c);
	buf_free(&rsvp);
	buf_free(&cal);
	buf_free(&m);
	buf_free(&g);
	return rc;
}

/*
 * A CSV field.  A leading = + - @ would make Excel run the cell as a
 * formula, and names come from mail headers anyone can write: such a
 * field is written with a leading apostrophe, as Excel itself does.
 */
static void
evmail_csv_field(struct buf *b, const char *s)
{
	if (*s && strchr("=+-@\t\r", *s)) {
		struct buf t = BUF_INIT;

		buf_printf(&t, "'%s", s);
		ctl_csv_field(b, buf_cstr(&t));
		buf_free(&t);
		return;
	}
	ctl_csv_field(b, s);
}

static int
evmail_roster_row(const struct rsvp *r, void *arg)
{
	struct roster_ctx *rc = arg;
	struct buf *b = rc->out;
	const char *lang = rc->l->language;

	evmail_csv_field(b, r->name ? r->name : "");
	buf_addc(b, ',');
	evmail_csv_field(b, r->addr);
	buf_addc(b, ',');
	evmail_label(b, rc->cf, lang, r->answer == RSVP_YES ? "answer-yes" :
	    r->answer == RSVP_NO ? "answer-no" : "answer-maybe", NULL);
	buf_printf(b, ",%d,", r->guests);
	event_date_stamp(b, rc->cf->timezone, r->answered);
	buf_addc(b, ',');
	if (r->position > 0)
		buf_printf(b, "%d", r->position);
	buf_adds(b, "\r\n");
	return 0;
}

/*
 * The roster of e as CSV: UTF-8 with a BOM (Excel in Japan reads a CSV
 * without one as Shift_JIS), CRLF, a header row in the list's language;
 * name, address, answer, guests, answered at, waitlist position.
 */
int
evmail_roster_csv(const struct config *cf, struct store *st,
    const struct list *l, const struct event *e, struct buf *out)
{
	struct roster_ctx rc = { cf, l, out, NULL };

	buf_adds(out, "\xef\xbb\xbf");
	evmail_label(out, cf, l->language, "csv-header", NULL);
	buf_adds(out, "\r\n");
	return events_foreach_rsvp(st, e->id, evmail_roster_row, &rc);
}
