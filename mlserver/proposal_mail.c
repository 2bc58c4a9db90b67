/*
 * proposal_mail - the mail of proposals; see proposal_mail.h.
 *
 * Mail to the list (the announcement, comments, answers, the summary's
 * copy) carries the same list header fields as a post, made by
 * post_rewrite() (compose_list_fields) so that there is one definition of them; mail to one
 * person comes from LIST-request@D like any reply.  The announcement and
 * the comments come from the comment address LIST-proposal+REF@D, so a
 * member's "reply" is a comment and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "compose.h"
#include "config.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "outq.h"
#include "process.h"
#include "proposal_mail.h"
#include "proposal_sched.h"
#include "proposal_text.h"
#include "proposals.h"
#include "reply.h"
#include "route.h"
#include "store.h"
#include "template.h"
#include "text.h"
#include "token.h"
#include "xmalloc.h"

#define PROPOSAL_TITLE_MAX	200	/* octets */

struct strlist {
	char	**v;
	size_t	  n;
};

static int	 pmail_reply(struct mail_ctx *, const struct list *,
		    const char *, struct proposal_vars *);
static int	 pmail_proposer(const struct config *, struct store *,
		    const struct list *, const struct proposal *,
		    const char *, struct proposal_vars *);
static int	 pmail_approval(const struct config *, struct store *,
		    const struct list *, const struct proposal *);
static int	 pmail_comment_policy(struct mail_ctx *, const struct list *);
static int	 pmail_comment_hold(struct mail_ctx *, const struct list *,
		    const struct proposal *, long long, const char *);
static char	*pmail_title(const char *);
static char	*pmail_name(struct mail_ctx *, const struct list *);
static int	 pmail_collect(const char *, void *);
static void	 strlist_free(struct strlist *);
static int	 pmail_list_covers(const struct list *, const struct list *);

/* ------------------------------------------------------------ vars */

void
proposal_vars_init(struct proposal_vars *pv, const struct config *cf,
    const struct list *l)
{
	static const char *const suffixes[] = {
		"request", "join", "leave", "owner", "propose"
	};
	struct buf b = BUF_INIT;

	pv->n = 0;
	proposal_vars_set(pv, "list", l->name);
	proposal_vars_set(pv, "listname", l->description);
	proposal_vars_set(pv, "description", l->description);
	buf_printf(&b, "%s@%s", l->name, cf->domain);
	proposal_vars_set(pv, "post", buf_cstr(&b));
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		buf_reset(&b);
		compose_list_addr(&b, cf, l, suffixes[i]);
		proposal_vars_set(pv, suffixes[i], buf_cstr(&b));
	}
	buf_free(&b);
}

void
proposal_vars_set(struct proposal_vars *pv, const char *name,
    const char *value)
{
	size_t i;

	for (i = 0; i < pv->n; i++)
		if (strcmp(pv->v[i].name, name) == 0)
			break;
	if (i == pv->n) {
		if (pv->n == PROPOSAL_VARS_MAX) {
			log_warnx("proposal: too many template variables (%s)",
			    name);
			return;
		}
		pv->n++;
		pv->v[i].name = name;
	} else
		free(pv->own[i]);
	pv->own[i] = xstrdup(value ? value : "");
	pv->v[i].value = pv->own[i];
}

void
proposal_vars_free(struct proposal_vars *pv)
{
	for (size_t i = 0; i < pv->n; i++)
		free(pv->own[i]);
	pv->n = 0;
}

/*
 * A short text from the "proposal-labels" template ("key=text" lines):
 * state names, history events, small words.  The key itself when the
 * template has no such line, so a missing label shows.
 */
void
proposal_label(struct buf *b, const struct config *cf, const char *lang,
    const char *key)
{
	char *text = template_load(cf, lang, "proposal-labels");
	size_t k = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > k && strncmp(p, key, k) == 0 && p[k] == '=') {
			buf_add(b, p + k + 1, n - k - 1);
			free(text);
			return;
		}
		p = eol ? eol + 1 : p + n;
	}
	free(text);
	buf_adds(b, key);
}

/* A person's name as shown, or the word for "a member". */
const char *
proposal_display_name(const struct config *cf, const char *lang,
    const char *name, struct buf *b)
{
	buf_reset(b);
	if (name && *name)
		buf_adds(b, name);
	else
		proposal_label(b, cf, lang, "member");
	return buf_cstr(b);
}

/* The variables every mail about p shows, in l's language. */
void
proposal_vars_proposal(struct proposal_vars *pv, const struct config *cf,
    const struct list *l, const struct proposal *p)
{
	const struct list *pl = config_list(cf, p->list);
	struct buf b = BUF_INIT;
	char n[32];

	proposal_vars_set(pv, "ref", p->ref);
	proposal_vars_set(pv, "title", p->title);
	proposal_vars_set(pv, "theme", p->theme);
	proposal_vars_set(pv, "text", p->body);
	proposal_vars_set(pv, "chapter", pl ? pl->description : p->list);
	proposal_vars_set(pv, "proposal_list", p->list);
	proposal_sched_local(&b, cf->timezone, (time_t)p->created, 0);
	proposal_vars_set(pv, "date", buf_cstr(&b));
	buf_reset(&b);
	proposal_label(&b, cf, l->language, proposal_state_name(p->state));
	proposal_vars_set(pv, "state", buf_cstr(&b));
	proposal_vars_set(pv, "proposer", proposal_display_name(cf,
	    l->language, p->name, &b));
	proposal_vars_set(pv, "proposer_address", p->proposer);
	buf_reset(&b);
	if (*p->theme) {
		proposal_label(&b, cf, l->language, "theme");
		buf_printf(&b, ": %s\n", p->theme);
	}
	proposal_vars_set(pv, "theme_line", buf_cstr(&b));
	buf_reset(&b);
	buf_printf(&b, "%s-proposal+%s@%s", p->list, p->ref, cf->domain);
	proposal_vars_set(pv, "comment", buf_cstr(&b));
	buf_reset(&b);
	buf_printf(&b, "%s-request@%s", p->list, cf->domain);
	proposal_vars_set(pv, "proposal_request", buf_cstr(&b));
	snprintf(n, sizeof(n), "%lld", p->supporters);
	proposal_vars_set(pv, "supporters", n);
	snprintf(n, sizeof(n), "%lld", p->comments);
	proposal_vars_set(pv, "comments", n);
	buf_free(&b);
}

/* ------------------------------------------------------------ sending */

/*
 * Render template tmpl in l's language and queue it: to o->rcpts, and
 * with o->list_copy to l's audience as well (each address once), inside
 * the caller's transaction.  o->msgid is set to the Message-ID.
 */
int
proposal_mail_send(const struct config *cf, struct store *st,
    const struct list *l, const char *tmpl, struct proposal_vars *pv,
    struct proposal_out *o)
{
	struct compose c;
	struct buf out = BUF_INIT, addr = BUF_INIT, to = BUF_INIT;
	const char *body, *eol;
	char *subject = NULL;
	long long n = 0;
	int rc = -1;

	if (template_render(cf, l->language, tmpl, pv->v, pv->n, &out) != 0) {
		buf_free(&out);
		return -1;
	}
	body = buf_cstr(&out);
	if (strncmp(body, "Subject: ", 9) == 0) {
		eol = strchr(body, '\n');
		subject = xstrndup(body + 9, eol ? (size_t)(eol - body - 9) :
		    strlen(body + 9));
		body = eol ? eol + 1 : "";
	}
	compose_init(&c);
	compose_list_addr(&addr, cf, l, "request");
	compose_field_addr(&c, "From", o->from_name ? o->from_name :
	    l->description, o->from ? o->from : buf_cstr(&addr));
	if (o->to)
		buf_adds(&to, o->to);
	else if (o->list_copy || o->nrcpts == 0)
		buf_printf(&to, "<%s@%s>", l->name, cf->domain);
	else
		buf_printf(&to, "<%s>", o->rcpts[0]);
	compose_field(&c, "To", buf_cstr(&to));
	if (o->list_copy)
		compose_list_fields(&c, cf, l, subject);
	else {
		compose_field_text(&c, "Subject", subject ? subject : "");
		compose_field(&c, "X-Loop", buf_cstr(&addr));
	}
	compose_basics(&c, cf, o->auto_submitted ? o->auto_submitted :
	    "auto-generated", o->in_reply_to);
	if (o->reply_to)
		compose_field_addr(&c, "Reply-To", NULL, o->reply_to);
	buf_adds(&c.text, body);
	buf_reset(&addr);
	compose_list_addr(&addr, cf, l, "bounces");
	if (compose_queue(&c, st, cf, l->name, "proposal", buf_cstr(&addr),
	    o->rcpts, o->nrcpts) != 0)
		goto done;
	if (o->list_copy && ((n = outq_fanout(st, cf, c.id, l->name)) < 0 ||
	    outq_message_ready(st, c.id) != 0))
		goto done;
	if (o->list_copy)
		log_info("%s: %s: %s to the list's %lld recipients", c.id,
		    l->name, tmpl, n);
	snprintf(o->msgid, sizeof(o->msgid), "%s.mlserver@%s", c.id,
	    cf->domain);
	rc = 0;
done:
	free(subject);
	compose_free(&c);
	buf_free(&out);
	buf_free(&addr);
	buf_free(&to);
	return rc;
}

/* An answer to the mail being handled, if one may be sent. */
static int
pmail_reply(struct mail_ctx *ctx, const struct list *l, const char *tmpl,
    struct proposal_vars *pv)
{
	struct proposal_out o;
	char *rcpt = ctx->who;

	if (!reply_allowed(ctx, ctx->who))
		return 0;
	memset(&o, 0, sizeof(o));
	o.auto_submitted = "auto-replied";
	o.in_reply_to = ctx->msg->message_id;
	o.rcpts = &rcpt;
	o.nrcpts = 1;
	return proposal_mail_send(ctx->cf, ctx->st, l, tmpl, pv, &o);
}

/* A notice to the proposer of p. */
static int
pmail_proposer(const struct config *cf, struct store *st,
    const struct list *l, const struct proposal *p, const char *tmpl,
    struct proposal_vars *pv)
{
	struct proposal_out o;
	char *rcpt = (char *)p->proposer;

	memset(&o, 0, sizeof(o));
	o.rcpts = &rcpt;
	o.nrcpts = 1;
	return proposal_mail_send(cf, st, l, tmpl, pv, &o);
}

/* ------------------------------------------------------------ roles */

/* Whether list w's scope covers list l (w is l, or wider). */
static int
pmail_list_covers(const struct list *w, const struct list *l)
{
	if (w == l || w->scope == SCOPE_NETWORK)
		return 1;
	return w->scope == SCOPE_REGION && l->scope == SCOPE_CHAPTER &&
	    strcmp(w->region, l->region) == 0;
}

/* 1 when addr is a member of l for proposals, 0 not, -1 error. */
int
proposal_is_member(const struct config *cf, struct store *st,
    const struct list *l, const char *addr)
{
	if (config_is_moderator(l, addr) || config_is_organizer(cf, l, addr))
		return 1;
	return members_in_audience(st, l->name, addr);
}

/* Whether addr moderates list or a list whose scope covers it. */
int
proposal_is_moderator(const struct config *cf, const char *list,
    const char *addr)
{
	const struct list *l = config_list(cf, list);

	if (l == NULL)
		return 0;
	for (size_t i = 0; i < cf->nlists; i++)
		if (pmail_list_covers(&cf->lists[i], l) &&
		    config_is_moderator(&cf->lists[i], addr))
			return 1;
	return 0;
}

/* The PROPOSAL_ROLE_* bits of addr for p; 0 or -1. */
int
proposal_roles(const struct config *cf, struct store *st,
    const struct proposal *p, const char *addr, unsigned *roles)
{
	const struct list *l = config_list(cf, p->list);
	int m;

	*roles = 0;
	if (addr_same(addr, p->proposer))
		*roles |= PROPOSAL_ROLE_PROPOSER;
	if (proposal_is_moderator(cf, p->list, addr))
		*roles |= PROPOSAL_ROLE_MODERATOR;
	if (l == NULL)
		return 0;
	if ((m = proposal_is_member(cf, st, l, addr)) < 0)
		return -1;
	if (m)
		*roles |= PROPOSAL_ROLE_MEMBER;
	return 0;
}

/* ------------------------------------------------------------ submit */

/*
 * The Subject as a title: one line (an encoded word may hide a line
 * break), blanks trimmed, at most 200 octets.
 */
static char *
pmail_title(const char *subject)
{
	char *t;
	size_t n;

	while (*subject == ' ' || *subject == '\t')
		subject++;
	n = text_utf8_prefix(subject, PROPOSAL_TITLE_MAX);
	while (n && (subject[n - 1] == ' ' || subject[n - 1] == '\t'))
		n--;
	t = xstrndup(subject, n);
	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return t;
}

/*
 * The sender's name: the one in From, else the one the member gave when
 * joining (this list's first).  Allocated, "" when neither.
 */
static char *
pmail_name(struct mail_ctx *ctx, const struct list *l)
{
	sqlite3_stmt *s;
	char *name = NULL;

	if (ctx->msg->from_name && *ctx->msg->from_name)
		return xstrdup(ctx->msg->from_name);
	s = store_stmt(ctx->st, "SELECT name FROM members WHERE addr = ?1 "
	    "AND name != '' ORDER BY list = ?2 DESC, list LIMIT 1");
	if (s != NULL) {
		sqlite3_bind_text(s, 1, ctx->who, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, l->name, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			name = xstrdup((const char *)sqlite3_column_text(s,
			    0));
		sqlite3_reset(s);
	}
	return name ? name : xstrdup("");
}

/*
 * Ask the list's moderators to approve p: each gets two token addresses
 * of their own, one to approve and one to reject, and the commands.
 */
static int
pmail_approval(const struct config *cf, struct store *st,
    const struct list *l, const struct proposal *p)
{
	struct proposal_vars pv;
	struct buf a = BUF_INIT, r = BUF_INIT, days = BUF_INIT;
	int rc = 0;

	if (l->moderators.n == 0) {
		log_warnx("%s: %s has no moderators to approve it; use "
		    "\"approve %s\" from a moderator of a wider list", p->ref,
		    l->name, p->ref);
		return 0;
	}
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	buf_printf(&days, "%d", cf->token_ttl / 86400);
	proposal_vars_set(&pv, "days", buf_cstr(&days));
	for (size_t i = 0; i < l->moderators.n && rc == 0; i++) {
		char ta[TOKEN_LEN + 1], tr[TOKEN_LEN + 1];
		struct proposal_out o;
		char *rcpt = l->moderators.v[i];

		if (token_create(st, l->name, rcpt, "proposal-approve",
		    p->ref, cf->token_ttl, ta) != 0 ||
		    token_create(st, l->name, rcpt, "proposal-reject", p->ref,
		    cf->token_ttl, tr) != 0) {
			rc = -1;
			break;
		}
		buf_reset(&a);
		buf_reset(&r);
		buf_printf(&a, "%s-confirm+%s@%s", l->name, ta, cf->domain);
		buf_printf(&r, "%s-confirm+%s@%s", l->name, tr, cf->domain);
		proposal_vars_set(&pv, "approve", buf_cstr(&a));
		proposal_vars_set(&pv, "reject", buf_cstr(&r));
		memset(&o, 0, sizeof(o));
		o.reply_to = buf_cstr(&a);
		o.rcpts = &rcpt;
		o.nrcpts = 1;
		rc = proposal_mail_send(cf, st, l, "proposal-approval", &pv,
		    &o);
	}
	proposal_vars_free(&pv);
	buf_free(&a);
	buf_free(&r);
	buf_free(&days);
	return rc;
}

/*
 * LIST-propose@D: a member's proposal.  Subject = title, text = the
 * proposal, an optional first line "テーマ:" / "Theme:".
 */
int
proposal_mail_submit(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;
	struct proposal_vars pv;
	struct proposal p;
	char *title = NULL, *raw = NULL, *theme = NULL, *text = NULL;
	char *name = NULL;
	long long now = (long long)time(NULL);
	int member, rc = -1;

	if (reply_is_automatic(ctx)) {
		log_info("%s: %s-propose: automatic mail from <%s> ignored",
		    ctx->id, l->name, ctx->env->sender);
		return 0;
	}
	if (ctx->who[0] == '\0') {
		log_info("%s: %s-propose: no usable sender address; ignored",
		    ctx->id, l->name);
		return 0;
	}
	proposal_vars_init(&pv, ctx->cf, l);
	proposal_vars_set(&pv, "address", ctx->who);
	proposal_vars_set(&pv, "subject", ctx->msg->subject);
	if ((member = proposal_is_member(ctx->cf, ctx->st, l, ctx->who)) < 0)
		goto done;
	if (!member) {
		log_info("%s: %s: proposal from <%s> refused: not a member",
		    ctx->id, l->name, ctx->who);
		rc = pmail_reply(ctx, l, "proposal-not-member", &pv);
		goto done;
	}
	title = pmail_title(ctx->msg->subject ? ctx->msg->subject : "");
	raw = proposal_theme_split(ctx->msg->text ? ctx->msg->text : "",
	    &theme);
	text = proposal_text_clean(raw, 0);
	if (*title == '\0' || *text == '\0') {
		log_info("%s: %s: proposal from <%s> refused: no %s", ctx->id,
		    l->name, ctx->who, *title ? "text" : "title");
		rc = pmail_reply(ctx, l, *title ? "proposal-no-text" :
		    "proposal-no-title", &pv);
		goto done;
	}
	memset(&p, 0, sizeof(p));
	p.year = proposal_sched_year(ctx->cf->timezone, (time_t)now);
	p.list = l->name;
	snprintf(p.proposer, sizeof(p.proposer), "%s", ctx->who);
	p.name = name = pmail_name(ctx, l);
	p.title = title;
	p.theme = theme;
	p.body = text;
	if (proposal_create(ctx->st, &p, now) != 0)
		goto done;
	log_info("%s: %s: proposal %s from <%s> submitted", ctx->id,
	    l->name, p.ref, ctx->who);
	store_count(ctx->st, "proposals", 1);
	if (pmail_approval(ctx->cf, ctx->st, l, &p) != 0)
		goto done;
	proposal_vars_proposal(&pv, ctx->cf, l, &p);
	rc = pmail_reply(ctx, l, "proposal-submitted", &pv);
done:
	proposal_vars_free(&pv);
	free(title);
	free(raw);
	free(theme);
	free(text);
	free(name);
	return rc;
}

/* ------------------------------------------------------------ notices */

/*
 * p was just approved: the announcement to the list's audience, from
 * and replying to its comment address, and the notice to the proposer.
 */
int
proposal_mail_opened(const struct config *cf, struct store *st,
    struct proposal *p)
{
	const struct list *l = config_list(cf, p->list);
	struct proposal_vars pv;
	struct proposal_out o;
	struct buf from = BUF_INIT;
	int rc = -1;

	if (l == NULL)
		return 0;
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	buf_printf(&from, "%s-proposal+%s@%s", l->name, p->ref, cf->domain);
	memset(&o, 0, sizeof(o));
	o.from = buf_cstr(&from);
	o.reply_to = buf_cstr(&from);
	o.list_copy = 1;
	if (proposal_mail_send(cf, st, l, "proposal-announce", &pv, &o) != 0 ||
	    proposal_set_msgid(st, p->ref, o.msgid) != 0)
		goto done;
	free(p->msgid);
	p->msgid = xstrdup(o.msgid);
	rc = pmail_proposer(cf, st, l, p, "proposal-opened", &pv);
done:
	proposal_vars_free(&pv);
	buf_free(&from);
	return rc;
}

/* p was not approved; reason may be NULL. */
int
proposal_mail_not_approved(const struct config *cf, struct store *st,
    const struct proposal *p, const char *reason)
{
	const struct list *l = config_list(cf, p->list);
	struct proposal_vars pv;
	struct buf b = BUF_INIT;
	int rc;

	if (l == NULL)
		return 0;
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	if (reason && *reason)
		buf_adds(&b, reason);
	else
		proposal_label(&b, cf, l->language, "no-reason");
	proposal_vars_set(&pv, "reason", buf_cstr(&b));
	rc = pmail_proposer(cf, st, l, p, "proposal-not-approved", &pv);
	proposal_vars_free(&pv);
	buf_free(&b);
	return rc;
}

/* p was forwarded by list by: tell the proposer to whom. */
int
proposal_mail_forwarded(const struct config *cf, struct store *st,
    const struct proposal *p, const struct list *by)
{
	const struct list *l = config_list(cf, p->list);
	struct proposal_vars pv;
	struct buf b = BUF_INIT;
	int rc;

	if (l == NULL)
		return 0;
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	proposal_vars_set(&pv, "forwarder", by->description);
	for (size_t i = 0; i < by->forward_to.n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", by->forward_to.v[i]);
	proposal_vars_set(&pv, "forward_to", buf_cstr(&b));
	rc = pmail_proposer(cf, st, l, p, "proposal-forwarded", &pv);
	proposal_vars_free(&pv);
	buf_free(&b);
	return rc;
}

static int
pmail_collect(const char *addr, void *arg)
{
	struct strlist *sl = arg;

	sl->v = xrealloc(sl->v, (sl->n + 1) * sizeof(*sl->v));
	sl->v[sl->n++] = xstrdup(addr);
	return 0;
}

static void
strlist_free(struct strlist *sl)
{
	for (size_t i = 0; i < sl->n; i++)
		free(sl->v[i]);
	free(sl->v);
	sl->v = NULL;
	sl->n = 0;
}

/*
 * The institution's answer (or note) recorded on p: the proposer gets
 * it, and the list's audience and the supporters (each address once)
 * get it as list mail.  *told is the number of supporters.
 */
int
proposal_mail_answered(const struct config *cf, struct store *st,
    const struct proposal *p, int *told)
{
	const struct list *l = config_list(cf, p->list);
	struct proposal_vars pv;
	struct proposal_out o;
	struct strlist sup = { NULL, 0 };
	struct buf b = BUF_INIT;
	int rc = -1;

	*told = 0;
	if (l == NULL)
		return 0;
	if (proposal_supporters_foreach(st, p->ref, pmail_collect, &sup) != 0)
		return -1;
	*told = (int)sup.n;
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	proposal_label(&b, cf, l->language, p->answer_state);
	proposal_vars_set(&pv, "answer_state", buf_cstr(&b));
	proposal_vars_set(&pv, "answer", p->answer);
	buf_reset(&b);
	proposal_sched_local(&b, cf->timezone, (time_t)p->answered, 0);
	proposal_vars_set(&pv, "answer_date", buf_cstr(&b));
	if (pmail_proposer(cf, st, l, p, "proposal-answer-proposer", &pv) != 0)
		goto done;
	memset(&o, 0, sizeof(o));
	buf_reset(&b);
	compose_list_addr(&b, cf, l, "owner");
	o.from = buf_cstr(&b);
	o.list_copy = 1;
	o.in_reply_to = *p->msgid ? p->msgid : NULL;
	o.rcpts = sup.v;
	o.nrcpts = sup.n;
	rc = proposal_mail_send(cf, st, l, "proposal-answer-list", &pv, &o);
done:
	proposal_vars_free(&pv);
	strlist_free(&sup);
	buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------ comments */

/*
 * The list's posting policy applied to a comment, as to a post:
 * 1 send, 0 hold for the moderators, -1 refuse, -2 error.
 */
static int
pmail_comment_policy(struct mail_ctx *ctx, const struct list *l)
{
	int staff = config_is_moderator(l, ctx->who) ||
	    config_is_organizer(ctx->cf, l, ctx->who);
	int member;

	switch (l->policy) {
	case POLICY_OPEN:
		return 1;
	case POLICY_ANNOUNCE:
		return staff ? 1 : -1;
	case POLICY_MODERATED:
		return 0;
	case POLICY_MEMBERS:
		if (staff)
			return 1;
		if ((member = members_in_audience(ctx->st, l->name,
		    ctx->who)) < 0)
			return -2;
		return member ? 1 : 0;
	}
	return -2;
}

/* A kept comment of p goes to the list, threaded on the announcement. */
int
proposal_mail_comment_out(const struct config *cf, struct store *st,
    const struct proposal *p, const struct proposal_comment *cm)
{
	const struct list *l = config_list(cf, p->list);
	struct proposal_vars pv;
	struct proposal_out o;
	struct buf from = BUF_INIT, name = BUF_INIT;
	int rc;

	if (l == NULL)
		return 0;
	proposal_vars_init(&pv, cf, l);
	proposal_vars_proposal(&pv, cf, l, p);
	proposal_vars_set(&pv, "author", proposal_display_name(cf,
	    l->language, cm->name, &name));
	proposal_vars_set(&pv, "comment_text", cm->body);
	buf_printf(&from, "%s-proposal+%s@%s", l->name, p->ref, cf->domain);
	memset(&o, 0, sizeof(o));
	o.from = buf_cstr(&from);
	o.from_name = buf_cstr(&name);
	o.reply_to = buf_cstr(&from);
	o.in_reply_to = *p->msgid ? p->msgid : NULL;
	o.list_copy = 1;
	rc = proposal_mail_send(cf, st, l, "proposal-comment", &pv, &o);
	proposal_vars_free(&pv);
	buf_free(&from);
	buf_free(&name);
	return rc;
}

/* A held comment: the moderators are asked, the author is told. */
static int
pmail_comment_hold(struct mail_ctx *ctx, const struct list *l,
    const struct proposal *p, long long id, const char *text)
{
	struct proposal_vars pv;
	struct buf a = BUF_INIT, r = BUF_INIT, arg = BUF_INIT;
	int rc = 0;

	proposal_vars_init(&pv, ctx->cf, l);
	proposal_vars_proposal(&pv, ctx->cf, l, p);
	proposal_vars_set(&pv, "sender", ctx->who);
	proposal_vars_set(&pv, "comment_text", text);
	buf_printf(&arg, "%lld", id);
	if (l->moderators.n == 0)
		log_warnx("%s: %s has no moderators to approve a comment on "
		    "%s", ctx->id, l->name, p->ref);
	for (size_t i = 0; i < l->moderators.n && rc == 0; i++) {
		char ta[TOKEN_LEN + 1], tr[TOKEN_LEN + 1];
		struct proposal_out o;
		char *rcpt = l->moderators.v[i];

		if (token_create(ctx->st, l->name, rcpt,
		    "proposal-comment-approve", buf_cstr(&arg),
		    ctx->cf->token_ttl, ta) != 0 || token_create(ctx->st,
		    l->name, rcpt, "proposal-comment-reject", buf_cstr(&arg),
		    ctx->cf->token_ttl, tr) != 0) {
			rc = -1;
			break;
		}
		buf_reset(&a);
		buf_reset(&r);
		buf_printf(&a, "%s-confirm+%s@%s", l->name, ta,
		    ctx->cf->domain);
		buf_printf(&r, "%s-confirm+%s@%s", l->name, tr,
		    ctx->cf->domain);
		proposal_vars_set(&pv, "approve", buf_cstr(&a));
		proposal_vars_set(&pv, "reject", buf_cstr(&r));
		memset(&o, 0, sizeof(o));
		o.reply_to = buf_cstr(&a);
		o.rcpts = &rcpt;
		o.nrcpts = 1;
		rc = proposal_mail_send(ctx->cf, ctx->st, l,
		    "proposal-comment-approval", &pv, &o);
	}
	if (rc == 0)
		rc = pmail_reply(ctx, l, "proposal-comment-held", &pv);
	proposal_vars_free(&pv);
	buf_free(&a);
	buf_free(&r);
	buf_free(&arg);
	return rc;
}

/*
 * LIST-proposal+REF@D: a comment on REF, kept with it and sent to the
 * list under the list's posting policy.  Quoted text is left out: the
 * comment is what the person wrote.
 */
int
proposal_mail_comment(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;
	struct proposal_vars pv;
	struct proposal p;
	struct proposal_comment cm;
	char ref[PROPOSAL_REF_MAX], *text = NULL, *name = NULL;
	long long now = (long long)time(NULL), id;
	int found = 0, rc = -1, policy;

	if (reply_is_automatic(ctx)) {
		log_info("%s: %s-proposal: automatic mail from <%s> ignored",
		    ctx->id, l->name, ctx->env->sender);
		return 0;
	}
	if (ctx->who[0] == '\0')
		return 0;
	proposal_vars_init(&pv, ctx->cf, l);
	proposal_vars_set(&pv, "ref", r->arg);
	proposal_vars_set(&pv, "subject", ctx->msg->subject);
	memset(&p, 0, sizeof(p));
	if (proposal_ref_parse(r->arg, ref) == 0 &&
	    (found = proposal_get(ctx->st, ref, &p)) < 0)
		goto done;
	if (!found || strcasecmp(p.list, l->name) != 0 || p.opened == 0) {
		log_info("%s: %s: comment from <%s> on unknown proposal %s",
		    ctx->id, l->name, ctx->who, r->arg);
		rc = pmail_reply(ctx, l, "proposal-comment-unknown", &pv);
		goto done;
	}
	proposal_vars_proposal(&pv, ctx->cf, l, &p);
	if (proposal_may(p.state, PROPOSAL_COMMENT, 0, NULL) != PROPOSAL_OK) {
		rc = pmail_reply(ctx, l, "proposal-comment-closed", &pv);
		goto done;
	}
	text = proposal_text_clean(ctx->msg->text ? ctx->msg->text : "", 1);
	if (*text == '\0') {
		rc = pmail_reply(ctx, l, "proposal-comment-empty", &pv);
		goto done;
	}
	if ((policy = pmail_comment_policy(ctx, l)) < -1)
		goto done;
	if (policy < 0) {
		log_info("%s: %s: comment on %s from <%s> refused: announce "
		    "list", ctx->id, l->name, p.ref, ctx->who);
		rc = pmail_reply(ctx, l, "proposal-comment-refused", &pv);
		goto done;
	}
	name = pmail_name(ctx, l);
	id = proposal_comment_add(ctx->st, p.ref, ctx->who, name, text,
	    policy == 0, now);
	if (id < 0)
		goto done;
	if (policy == 0) {
		log_info("%s: %s: comment %lld on %s from <%s> held", ctx->id,
		    l->name, id, p.ref, ctx->who);
		rc = pmail_comment_hold(ctx, l, &p, id, text);
		goto done;
	}
	log_info("%s: %s: comment %lld on %s from <%s>", ctx->id, l->name, id,
	    p.ref, ctx->who);
	memset(&cm, 0, sizeof(cm));
	cm.id = id;
	cm.ts = now;
	snprintf(cm.addr, sizeof(cm.addr), "%s", ctx->who);
	cm.name = name;
	cm.body = text;
	rc = proposal_mail_comment_out(ctx->cf, ctx->st, &p, &cm);
done:
	if (found > 0)
		proposal_clear(&p);
	proposal_vars_free(&pv);
	free(text);
	free(name);
	return rc;
}
