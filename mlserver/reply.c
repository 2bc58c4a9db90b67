/*
 * reply - answering a person; see reply.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "compose.h"
#include "config.h"
#include "log.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "route.h"
#include "spool.h"
#include "store.h"

static int	reply_count_recent(struct store *, const char *);
static int	reply_compose(struct mail_ctx *, const struct list *,
		    const char *, const char *, struct reply_vars *,
		    const char *, int, const struct compose_parts *);

/* Whether the mail was written by a machine, so must not be answered. */
int
reply_is_automatic(const struct mail_ctx *ctx)
{
	const struct message *m = ctx->msg;
	struct route r;

	if (ctx->env->sender[0] == '\0' || m->is_dsn)
		return 1;
	if (m->auto_submitted && strncasecmp(m->auto_submitted, "no", 2) != 0)
		return 1;
	if (m->precedence && (strcasecmp(m->precedence, "bulk") == 0 ||
	    strcasecmp(m->precedence, "junk") == 0 ||
	    strcasecmp(m->precedence, "list") == 0))
		return 1;
	/* Mail from one of our own addresses is our own mail come back. */
	if (route_lookup(ctx->cf, ctx->env->sender, &r) == 0 ||
	    strcasecmp(addr_domain(ctx->env->sender), ctx->cf->domain) == 0)
		return 1;
	if (strncasecmp(ctx->env->sender, "mailer-daemon@", 14) == 0 ||
	    strncasecmp(ctx->env->sender, "postmaster@", 11) == 0)
		return 1;
	return 0;
}

static int
reply_count_recent(struct store *st, const char *to)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM replies "
	    "WHERE addr = ?1 AND ts > ?2");
	int n = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (long long)time(NULL) - 3600);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return n;
}

/*
 * Whether we may answer to now, counting this answer if so.  The count
 * lives in the database, so the cap holds across restarts.
 */
int
reply_allowed(struct mail_ctx *ctx, const char *to)
{
	sqlite3_stmt *s;
	int n;

	if (reply_is_automatic(ctx) || *to == '\0')
		return 0;
	if ((n = reply_count_recent(ctx->st, to)) < 0)
		return 0;
	if (n >= ctx->cf->reply_limit) {
		log_info("%s: no reply to <%s>: %d replies in the last hour",
		    ctx->id, to, n);
		return 0;
	}
	if ((s = store_stmt(ctx->st, "INSERT INTO replies (addr, ts) "
	    "VALUES (?1, ?2)")) == NULL)
		return 0;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (long long)time(NULL));
	return store_step_done(ctx->st, s) == 0;
}

void
reply_vars_init(struct reply_vars *rv, const struct mail_ctx *ctx,
    const struct list *l)
{
	const char *d = ctx->cf->domain;

	snprintf(rv->list, sizeof(rv->list), "%s@%s", l->name, d);
	snprintf(rv->request, sizeof(rv->request), "%s-request@%s", l->name,
	    d);
	snprintf(rv->join, sizeof(rv->join), "%s-join@%s", l->name, d);
	snprintf(rv->leave, sizeof(rv->leave), "%s-leave@%s", l->name, d);
	snprintf(rv->owner, sizeof(rv->owner), "%s-owner@%s", l->name, d);
	rv->n = 0;
	reply_var(rv, "list", l->name);
	reply_var(rv, "post", rv->list);
	reply_var(rv, "request", rv->request);
	reply_var(rv, "join", rv->join);
	reply_var(rv, "leave", rv->leave);
	reply_var(rv, "owner", rv->owner);
	reply_var(rv, "description", l->description);
	reply_var(rv, "subject", ctx->msg->subject);
	reply_var(rv, "id", ctx->id);
}

void
reply_var(struct reply_vars *rv, const char *name, const char *value)
{
	for (size_t i = 0; i < rv->n; i++)
		if (strcmp(rv->v[i].name, name) == 0) {
			rv->v[i].value = value;
			return;
		}
	if (rv->n < REPLY_VARS_MAX) {
		rv->v[rv->n].name = name;
		rv->v[rv->n++].value = value;
	}
}

/*
 * Send template tmpl of l's language to one address, from the list's
 * -request address (or -owner for notices), threaded on the message
 * being answered.  reply_to, when set, is where a reply to it goes;
 * attach attaches the message being answered (a notice).  The caller has
 * decided that an answer is allowed.
 */
int
reply_send(struct mail_ctx *ctx, const struct list *l, const char *to,
    const char *tmpl, struct reply_vars *rv, const char *reply_to,
    int attach)
{
	return reply_compose(ctx, l, to, tmpl, rv, reply_to, attach, NULL);
}

/*
 * The same, an answer (never a notice) with parts after its text: what
 * the commands of a command mail asked for (a roster, an archived post),
 * so that the one reply carries it all.
 */
int
reply_send_parts(struct mail_ctx *ctx, const struct list *l, const char *to,
    const char *tmpl, struct reply_vars *rv, const char *reply_to,
    const struct compose_parts *parts)
{
	return reply_compose(ctx, l, to, tmpl, rv, reply_to, 0, parts);
}

static int
reply_compose(struct mail_ctx *ctx, const struct list *l, const char *to,
    const char *tmpl, struct reply_vars *rv, const char *reply_to,
    int attach, const struct compose_parts *parts)
{
	struct compose c;
	struct buf bounces = BUF_INIT;
	char *rcpt = (char *)to;
	int rc;

	compose_init(&c);
	compose_field_addr(&c, "From", l->description, rv->request);
	compose_field_addr(&c, "To", NULL, to);
	if (compose_template(&c, ctx->cf, l->language, tmpl, rv->v,
	    rv->n) != 0) {
		compose_free(&c);
		return -1;
	}
	compose_basics(&c, ctx->cf, attach ? "auto-generated" :
	    "auto-replied", ctx->msg->message_id);
	compose_field(&c, "X-Loop", rv->request);
	if (reply_to)
		compose_field_addr(&c, "Reply-To", NULL, reply_to);
	if (attach) {
		c.attach = ctx->msg->raw;
		c.attach_len = ctx->msg->len;
	}
	c.parts = parts;
	buf_printf(&bounces, "%s-bounces@%s", l->name, ctx->cf->domain);
	rc = compose_queue(&c, ctx->st, ctx->cf, l->name, "reply",
	    buf_cstr(&bounces), &rcpt, 1);
	buf_free(&bounces);
	compose_free(&c);
	return rc;
}
