/*
 * event_handle - events meet the server; see event_handle.h.  The work
 * is split by concern, each file named for its own:
 *
 *	event_announce.c  LIST-events@D: create, update, cancel, and the
 *			  notices and promotions they cause
 *	event_rsvp.c	  answers, however they come: recording them,
 *			  calendar REPLY parts, LIST-rsvp+EVENT@D
 *	event_command.c	  the commands events, rsvp, status and roster,
 *			  and mlserverctl's events and roster
 *	event_remind.c	  reminders, and the "reminders" setting
 *
 * This file keeps what several of them use (event_private.h): who may
 * announce or answer, a person's name and the words for their answer,
 * the people told of a change, and the one reply to a mail at
 * LIST-events or LIST-rsvp.
 *
 * Everything for one incoming mail runs in the processor's transaction
 * for it, mail we send included (compose queues inside it): an answer is
 * recorded and confirmed, or neither.  Reminders take a transaction per
 * event and record themselves in it, so each goes out exactly once, even
 * across a crash or restart.
 */
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "config.h"
#include "event_mail.h"
#include "event_private.h"
#include "events.h"
#include "members.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "store.h"
#include "xmalloc.h"

/* -------------------------------------------------------- who may act */

int
evh_staff(const struct config *cf, const struct list *l, const char *who)
{
	return config_is_moderator(l, who) || config_is_organizer(cf, l, who);
}

/* Those l reaches may answer, and its organizers and moderators. */
int
evh_may_answer(struct store *st, const struct config *cf,
    const struct list *l, const char *who)
{
	if (evh_staff(cf, l, who))
		return 1;
	return members_in_audience(st, l->name, who);
}

/* ---------------------------------------------------------- the texts */

/* The name to show for who: From's, else a member record's. */
void
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
int
evh_reply(struct mail_ctx *ctx, const struct list *l, struct buf *results)
{
	struct reply_vars rv;

	if (results->len == 0 || !reply_allowed(ctx, ctx->who))
		return 0;
	reply_vars_init(&rv, ctx, l);
	reply_var(&rv, "results", buf_cstr(results));
	return reply_send(ctx, l, ctx->who, "reply", &rv, NULL, 0);
}

/* The words of a person's current answer, for the texts. */
void
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

/* ---------------------------------------------------- the people told */

int
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

void
evh_people_free(struct evh_people *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	p->v = NULL;
	p->n = 0;
}
