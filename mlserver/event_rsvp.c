/*
 * event_rsvp - answers to an event, however they come: a line of text or
 * a calendar REPLY mailed to LIST-rsvp+EVENT@D, or the rsvp command
 * (read in event_command.c).  Every way ends in evh_record, so that an
 * answer is counted, confirmed and followed by the promotions it causes
 * the same way whichever door it came through.  The calendar REPLY
 * parts are found and decoded here as well, since only answers use them.
 *
 * An answer by mail is recorded and confirmed in the processor's
 * transaction for the mail, or neither.
 */
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "config.h"
#include "event_handle.h"
#include "event_mail.h"
#include "event_parse.h"
#include "event_private.h"
#include "events.h"
#include "ical.h"
#include "log.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "route.h"
#include "spool.h"
#include "store.h"

static void	 evh_walk_calendar(struct mailmime *, struct strv *);
static void	 evh_calendar_parts(const char *, size_t, struct strv *);
static int	 evh_calendar(struct mail_ctx *, const struct list *,
		    const struct event *, enum rsvp_answer *, int *,
		    struct buf *, struct buf *);

/*
 * Record one answer and mail what follows from it: the person's own
 * confirmation (with their METHOD:REQUEST) when a->confirm, and a mail
 * to each person promoted by it.  status gets the sentence saying what
 * became of the answer.  0 or -1.
 */
int
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
	if (res.filled) {
		/* Taking the last seats is said plainly: "full" alone in the
		 * details would read as if this person were waitlisted. */
		struct buf full = BUF_INIT;

		evmail_var(&v, "status", buf_cstr(status));
		evmail_label(&full, a->cf, a->l->language, "status-going-full",
		    &v);
		buf_reset(status);
		buf_add(status, full.data, full.len);
		buf_free(&full);
	}
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
