/*
 * request - command mail; see request.h.
 *
 * Subscribing and unsubscribing are double opt-in: the command makes a
 * token, and the reply that carries it goes to the address concerned, so
 * nobody can subscribe or remove another person.  The token is used by
 * replying (Reply-To is LIST-confirm+TOKEN@D) or by "confirm TOKEN".
 */
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "bounce.h"
#include "buf.h"
#include "command.h"
#include "config.h"
#include "event_handle.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "moderate.h"
#include "process.h"
#include "proposal_command.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

static int	request_run(struct request *, const struct command *);
static void	request_token_issued(struct request *);
static int	request_subscribe(struct request *, const struct command *);
static int	request_unsubscribe(struct request *,
		    const struct command *);
static int	request_confirm(struct request *, const struct command *,
		    const char *);
static int	request_set(struct request *, const struct command *);
static int	request_who(struct request *, const struct command *);
static int	request_who_line(const struct member *, void *);
static int	request_reply(struct request *, int);

/*
 * Append one result to the reply: the command line, quoted, then the
 * template (with the request's variables).
 */
int
request_result(struct request *s, const char *tmpl, const struct command *c)
{
	struct buf out = BUF_INIT;
	int rc;

	rc = template_render(s->ctx->cf, s->list->language, tmpl, s->rv.v,
	    s->rv.n, &out);
	if (rc == 0) {
		if (s->results.len)
			buf_addc(&s->results, '\n');
		if (c)
			buf_printf(&s->results, "> %s\n", c->line);
		buf_add(&s->results, out.data, out.len);
	}
	buf_free(&out);
	return rc;
}

/*
 * Attach a copy of data to the reply; the command's result line says
 * what it is.  Freed with the request, whether or not a reply is sent.
 */
void
request_attach(struct request *s, const char *type, const char *filename,
    const void *data, size_t len)
{
	compose_parts_add(&s->parts, type, filename, data, len);
}

/* The variables a confirmation request shows. */
static void
request_token_issued(struct request *s)
{
	const struct config *cf = s->ctx->cf;

	s->ntokens++;
	snprintf(s->confirm, sizeof(s->confirm), "%s-confirm+%s@%s",
	    s->list->name, s->token, cf->domain);
	snprintf(s->days, sizeof(s->days), "%d", cf->token_ttl / 86400);
	reply_var(&s->rv, "confirm", s->confirm);
	reply_var(&s->rv, "days", s->days);
}

static int
request_subscribe(struct request *s, const struct command *c)
{
	struct mail_ctx *ctx = s->ctx;
	const char *name = *c->args ? c->args :
	    ctx->msg->from_name ? ctx->msg->from_name : "";
	int rc;

	if ((rc = members_get(ctx->st, s->list->name, ctx->who, NULL)) < 0)
		return -1;
	if (rc == 1)
		return request_result(s, "already-member", c);
	if (token_create(ctx->st, s->list->name, ctx->who, "subscribe", name,
	    ctx->cf->token_ttl, s->token) != 0)
		return -1;
	request_token_issued(s);
	log_info("%s: %s: subscription of <%s> awaits confirmation",
	    ctx->id, s->list->name, ctx->who);
	return request_result(s, "confirm-subscribe", c);
}

static int
request_unsubscribe(struct request *s, const struct command *c)
{
	struct mail_ctx *ctx = s->ctx;
	int rc;

	if ((rc = members_get(ctx->st, s->list->name, ctx->who, NULL)) < 0)
		return -1;
	if (rc == 0)
		return request_result(s, "not-member", c);
	if (token_create(ctx->st, s->list->name, ctx->who, "unsubscribe", "",
	    ctx->cf->token_ttl, s->token) != 0)
		return -1;
	request_token_issued(s);
	return request_result(s, "confirm-unsubscribe", c);
}

/*
 * Use a token.  It must have been sent to the address now confirming
 * (From, or the envelope sender when From is someone else).
 */
static int
request_confirm(struct request *s, const struct command *c,
    const char *token)
{
	struct mail_ctx *ctx = s->ctx;
	struct token_rec rec;
	char env[ADDR_MAX + 1];
	int rc;

	if (strlen(token) != TOKEN_LEN)
		return request_result(s, "token-invalid", c);
	if (addr_canon(ctx->env->sender, env, sizeof(env)) != 0)
		snprintf(env, sizeof(env), "%s", ctx->who);
	rc = token_take(ctx->st, s->list->name, token, ctx->who, env, &rec);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		log_info("%s: %s: invalid confirmation from <%s>", ctx->id,
		    s->list->name, ctx->who);
		return request_result(s, "token-invalid", c);
	}
	if (strcmp(rec.action, "subscribe") == 0) {
		if (members_add(ctx->st, s->list->name, rec.addr,
		    rec.arg) < 0)
			return -1;
		log_info("%s: %s: <%s> subscribed", ctx->id, s->list->name,
		    rec.addr);
		store_count(ctx->st, "subscribed", 1);
		return request_result(s, "subscribed", c);
	}
	if (strcmp(rec.action, "unsubscribe") == 0) {
		if (members_remove(ctx->st, s->list->name, rec.addr) < 0)
			return -1;
		log_info("%s: %s: <%s> unsubscribed", ctx->id,
		    s->list->name, rec.addr);
		store_count(ctx->st, "unsubscribed", 1);
		return request_result(s, "unsubscribed", c);
	}
	if (strcmp(rec.action, "reenable") == 0) {
		/* Delivery stopped by bounces starts again, score forgotten. */
		if (members_set_mode(ctx->st, s->list->name, rec.addr,
		    MEMBER_NORMAL) < 0 || bounce_forget(ctx->st,
		    s->list->name, rec.addr) != 0)
			return -1;
		log_info("%s: %s: delivery to <%s> re-enabled", ctx->id,
		    s->list->name, rec.addr);
		return request_result(s, "reenabled", c);
	}
	if (strncmp(rec.action, "proposal-", 9) == 0)
		return proposal_command_confirm(s, c, &rec);
	if (strncmp(rec.action, "mod-", 4) == 0)
		return moderate_confirm(s, c, &rec);
	log_warnx("%s: token with unknown action \"%s\"", ctx->id,
	    rec.action);
	return request_result(s, "token-invalid", c);
}

static int
request_set(struct request *s, const struct command *c)
{
	static const struct {
		const char	*word;
		enum member_mode mode;
		const char	*ja;
	} modes[] = {
		{ "normal", MEMBER_NORMAL, "通常配信" },
		{ "digest", MEMBER_DIGEST, "まとめ読み" },
		{ "nomail", MEMBER_NOMAIL, "配信停止" },
	};
	size_t i;
	int rc;

	for (i = 0; i < 3; i++)
		if (strcasecmp(c->args, modes[i].word) == 0)
			break;
	if (i == 3)
		return request_result(s, "set-usage", c);
	rc = members_set_mode(s->ctx->st, s->list->name, s->ctx->who,
	    modes[i].mode);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return request_result(s, "members-only", c);
	reply_var(&s->rv, "mode", strcmp(s->list->language, "ja") == 0 ?
	    modes[i].ja : modes[i].word);
	return request_result(s, "set-done", c);
}

static int
request_who_line(const struct member *m, void *arg)
{
	struct buf *b = arg;

	buf_printf(b, "  %s", m->addr);
	if (m->name && *m->name)
		buf_printf(b, " (%s)", m->name);
	if (m->mode != MEMBER_NORMAL)
		buf_printf(b, " [%s]", members_mode_name(m->mode));
	buf_addc(b, '\n');
	return 0;
}

static int
request_who(struct request *s, const struct command *c)
{
	struct buf lines = BUF_INIT;
	char count[32];
	int rc;

	if (!config_is_moderator(s->list, s->ctx->who))
		return request_result(s, "moderators-only", c);
	if (members_foreach(s->ctx->st, s->list->name, request_who_line,
	    &lines) != 0) {
		buf_free(&lines);
		return -1;
	}
	snprintf(count, sizeof(count), "%lld",
	    members_count(s->ctx->st, s->list->name));
	reply_var(&s->rv, "count", count);
	reply_var(&s->rv, "members", buf_cstr(&lines));
	rc = request_result(s, "who", c);
	reply_var(&s->rv, "members", "");
	buf_free(&lines);
	return rc;
}

static int
request_run(struct request *s, const struct command *c)
{
	switch (c->verb) {
	case CMD_SUBSCRIBE:
		return request_subscribe(s, c);
	case CMD_UNSUBSCRIBE:
		return request_unsubscribe(s, c);
	case CMD_CONFIRM:
		return request_confirm(s, c, c->args);
	case CMD_SET:
		return request_set(s, c);
	case CMD_HELP:
		return request_result(s, "help", c);
	case CMD_WHO:
		return request_who(s, c);
	case CMD_PROPOSALS:
	case CMD_PROPOSAL:
	case CMD_SUPPORT:
	case CMD_WITHDRAW:
	case CMD_APPROVE:
	case CMD_REJECT:
	case CMD_ANSWER:
		return proposal_command(s, c);
	case CMD_EVENTS:
	case CMD_RSVP:
	case CMD_STATUS:
	case CMD_ROSTER:
		return event_command(s, c);
	case CMD_INDEX:
	case CMD_GET:
		return archive_command(s, c);
	default:
		/* Events, proposals and the archive come with their own
		 * modules; until then say so rather than stay silent. */
		return request_result(s, "unavailable", c);
	}
}

/*
 * Queue the one reply of this command mail, with whatever its commands
 * attached (request_attach).  When it asks for exactly one
 * confirmation, replying to it confirms: Reply-To is the token address.
 */
static int
request_reply(struct request *s, int ncommands)
{
	struct mail_ctx *ctx = s->ctx;

	if (!reply_allowed(ctx, ctx->who))
		return 0;
	if (ncommands == 0) {
		request_result(s, "no-commands", NULL);
		buf_addc(&s->results, '\n');
		request_result(s, "help", NULL);
	}
	reply_var(&s->rv, "results", buf_cstr(&s->results));
	return reply_send_parts(ctx, s->list, ctx->who, "reply", &s->rv,
	    s->ntokens == 1 ? s->confirm : NULL, &s->parts);
}

int
request_handle(struct mail_ctx *ctx, const struct route *r)
{
	struct request s;
	struct command_list cl = { NULL, 0 };
	struct command one = { CMD_HELP, NULL, NULL, NULL };
	int rc = 0;

	if (reply_is_automatic(ctx)) {
		log_info("%s: %s-%s: automatic mail from <%s> ignored",
		    ctx->id, r->list->name, route_action_name(r->action),
		    ctx->env->sender);
		return 0;
	}
	if (ctx->who[0] == '\0') {
		log_info("%s: %s: no usable sender address; ignored",
		    ctx->id, r->list->name);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.list = r->list;
	buf_init(&s.results);
	reply_vars_init(&s.rv, ctx, r->list);
	reply_var(&s.rv, "address", ctx->who);
	reply_var(&s.rv, "token", s.token);

	switch (r->action) {
	case ROUTE_JOIN:
		one.verb = CMD_SUBSCRIBE;
		one.line = xstrdup("subscribe");
		one.args = xstrdup("");
		break;
	case ROUTE_LEAVE:
		one.verb = CMD_UNSUBSCRIBE;
		one.line = xstrdup("unsubscribe");
		one.args = xstrdup("");
		break;
	case ROUTE_CONFIRM:
		one.verb = CMD_CONFIRM;
		one.line = xstrdup("confirm");
		one.args = xstrdup(r->arg);
		break;
	default:
		command_parse(ctx->msg->subject, ctx->msg->text, &cl);
		break;
	}
	if (one.line) {
		one.word = xstrdup(one.line);
		cl.v = xmalloc(sizeof(one));
		cl.v[0] = one;
		cl.n = 1;
	}
	for (size_t i = 0; i < cl.n && rc == 0 && !s.stop; i++)
		rc = request_run(&s, &cl.v[i]);
	if (rc == 0)
		rc = request_reply(&s, (int)cl.n);
	command_list_free(&cl);
	buf_free(&s.results);
	compose_parts_free(&s.parts);
	return rc;
}
