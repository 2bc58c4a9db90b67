/*
 * bounce - dead addresses: VERP, delivery reports, scores; see bounce.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "addr.h"
#include "bounce.h"
#include "buf.h"
#include "compose.h"
#include "config.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "process.h"
#include "reply.h"
#include "route.h"
#include "spool.h"
#include "token.h"
#include "xmalloc.h"

#define DAY	86400

static int	bounce_group(struct mailimf_fields *, struct bounce_report *);
static int	bounce_one(struct store *, const struct config *,
		    const char *list, const char *addr, int hard,
		    const char *why);
static int	bounce_notice(struct store *, const struct config *,
		    const char *list, const char *addr, const char *tmpl);
static int	bounce_list_of(sqlite3_stmt *, char *, size_t);

static const char *const bounce_steps[] = {
	"CREATE TABLE bounces ("
	"  list TEXT NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  score REAL NOT NULL DEFAULT 0,"
	"  last_day INTEGER NOT NULL DEFAULT 0,"	/* day counted last */
	"  last_bounce INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"	/* when, or 0 */
	"  warnings INTEGER NOT NULL DEFAULT 0,"
	"  last_warning INTEGER NOT NULL DEFAULT 0,"
	"  reason TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (list, addr)) WITHOUT ROWID;"
	"CREATE TABLE verp_counter ("
	"  list TEXT PRIMARY KEY,"
	"  posts INTEGER NOT NULL DEFAULT 0);",
};

const struct store_schema bounce_schema = {
	"bounce", bounce_steps, sizeof(bounce_steps) / sizeof(bounce_steps[0])
};

/*
 * LIST-bounces+ENC@D for addr: '@' becomes '=', and every octet outside
 * [A-Za-z0-9.-] is written _XX, so the argument passes route.c's check
 * and decodes back exactly.
 */
void
bounce_verp_encode(struct buf *b, const char *list, const char *domain,
    const char *addr)
{
	const char *at = strrchr(addr, '@');

	buf_printf(b, "%s-bounces+", list);
	for (const char *p = addr; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (p == at)
			buf_addc(b, '=');
		else if (isalnum(c) || c == '.' || c == '-')
			buf_addc(b, c);
		else
			buf_printf(b, "_%02X", c);
	}
	buf_printf(b, "@%s", domain);
}

/* The address a VERP argument stands for; 0, or -1 if it is not one. */
int
bounce_verp_decode(const char *arg, char *addr, size_t size)
{
	struct buf b = BUF_INIT;
	const char *eq = strrchr(arg, '=');
	int rc;

	if (eq == NULL)
		return -1;
	for (const char *p = arg; *p; p++) {
		if (p == eq)
			buf_addc(&b, '@');
		else if (*p == '_' && isxdigit((unsigned char)p[1]) &&
		    isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], '\0' };

			buf_addc(&b, (int)strtol(hex, NULL, 16));
			p += 2;
		} else
			buf_addc(&b, *p);
	}
	rc = addr_canon(buf_cstr(&b), addr, size);
	buf_free(&b);
	return rc;
}

/* One per-recipient group of a report: 1 and *r filled when it failed
 * or was delayed, 0 when it says nothing about a failure. */
static int
bounce_group(struct mailimf_fields *fields, struct bounce_report *r)
{
	const char *rcpt = NULL, *action = NULL, *status = NULL;
	clistiter *it;

	for (it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *f = clist_content(it);
		struct mailimf_optional_field *o;

		if (f->fld_type != MAILIMF_FIELD_OPTIONAL_FIELD)
			continue;
		o = f->fld_data.fld_optional_field;
		if (strcasecmp(o->fld_name, "Final-Recipient") == 0 ||
		    (rcpt == NULL &&
		    strcasecmp(o->fld_name, "Original-Recipient") == 0))
			rcpt = o->fld_value;
		else if (strcasecmp(o->fld_name, "Action") == 0)
			action = o->fld_value;
		else if (strcasecmp(o->fld_name, "Status") == 0)
			status = o->fld_value;
	}
	if (rcpt == NULL || action == NULL)
		return 0;
	while (isspace((unsigned char)*action))
		action++;
	if (strncasecmp(action, "failed", 6) != 0 &&
	    strncasecmp(action, "delayed", 7) != 0)
		return 0;
	/* "rfc822; user@example.jp" */
	if (strchr(rcpt, ';'))
		rcpt = strchr(rcpt, ';') + 1;
	{
		char *tmp = xstrdup(rcpt), *end;

		end = tmp + strlen(tmp);
		while (end > tmp && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (addr_canon(tmp, r->addr, sizeof(r->addr)) != 0) {
			free(tmp);
			return 0;
		}
		free(tmp);
	}
	while (status && isspace((unsigned char)*status))
		status++;
	r->hard = strncasecmp(action, "failed", 6) == 0 &&
	    (status == NULL || *status != '4');
	return 1;
}

/*
 * Read the per-recipient groups of a message/delivery-status text (RFC
 * 3464: header-like groups separated by empty lines) with libetpan's
 * field parser.  Returns how many failures were found (at most max).
 */
int
bounce_dsn_parse(const char *text, size_t len, struct bounce_report *out,
    size_t max)
{
	size_t idx = 0, n = 0;

	while (idx < len && n < max) {
		struct mailimf_fields *fields = NULL;
		size_t before = idx;

		while (idx < len && (text[idx] == '\r' || text[idx] == '\n'))
			idx++;
		if (idx >= len)
			break;
		if (mailimf_fields_parse(text, len, &idx, &fields) !=
		    MAILIMF_NO_ERROR || fields == NULL) {
			/* Not fields: skip this line and go on. */
			while (idx < len && text[idx] != '\n')
				idx++;
			if (idx < len)
				idx++;
			continue;
		}
		if (bounce_group(fields, &out[n]))
			n++;
		mailimf_fields_free(fields);
		if (idx == before)
			break;
	}
	return (int)n;
}

/* The list column of a statement's first row into list. */
static int
bounce_list_of(sqlite3_stmt *s, char *list, size_t size)
{
	const char *l = (const char *)sqlite3_column_text(s, 0);

	snprintf(list, size, "%s", l ? l : "");
	return 0;
}

/*
 * Count a bounce of addr for each of its memberships that list reaches
 * (a region post reaches chapter members: the chapter membership is the
 * one that bounces).  Returns 0, -1 on a database error.
 */
int
bounce_record(struct store *st, const struct config *cf, const char *list,
    const char *addr, int hard, const char *why)
{
	char lists[16][65];
	size_t n = 0, i;
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, "SELECT m.list FROM members m "
	    "JOIN lists l ON l.name = m.list JOIN lists w ON w.name = ?1 "
	    "WHERE m.addr = ?2 AND " MEMBERS_REACH_SQL);
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < 16)
		bounce_list_of(s, lists[n++], sizeof(lists[0]));
	sqlite3_reset(s);
	if (n == 0)
		log_info("bounce: <%s> is not a member reached by %s; "
		    "not counted", addr, list);
	for (i = 0; i < n; i++)
		if (bounce_one(st, cf, lists[i], addr, hard, why) != 0)
			return -1;
	return 0;
}

static int
bounce_one(struct store *st, const struct config *cf, const char *list,
    const char *addr, int hard, const char *why)
{
	long long now = (long long)time(NULL), today = now / DAY;
	double score = 0;
	long long last_day = 0, last_bounce = 0, disabled = 0;
	sqlite3_stmt *s;

	s = store_stmt(st, "SELECT score, last_day, last_bounce, disabled "
	    "FROM bounces WHERE list = ?1 AND addr = ?2");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		score = sqlite3_column_double(s, 0);
		last_day = sqlite3_column_int64(s, 1);
		last_bounce = sqlite3_column_int64(s, 2);
		disabled = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (last_bounce && now - last_bounce > (long long)cf->bounce.stale_days
	    * DAY)
		score = 0;	/* stale: start again */
	if (last_day != today) {
		score += hard ? 1.0 : 0.5;
		last_day = today;
	}
	s = store_stmt(st, "INSERT INTO bounces (list, addr, score, last_day, "
	    "last_bounce, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (list, addr) DO UPDATE SET score = ?3, "
	    "last_day = ?4, last_bounce = ?5, reason = ?6");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 3, score);
	sqlite3_bind_int64(s, 4, last_day);
	sqlite3_bind_int64(s, 5, now);
	sqlite3_bind_text(s, 6, why ? why : "", -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	log_info("bounce: %s: <%s> %s, score %.1f (%s)", list, addr,
	    hard ? "hard" : "soft", score, why ? why : "");
	store_count(st, "bounces_counted", 1);
	if (disabled || score < cf->bounce.threshold)
		return 0;

	/* At the threshold: delivery stops, and the member is told. */
	if (members_set_mode(st, list, addr, MEMBER_BOUNCING) < 0)
		return -1;
	s = store_stmt(st, "UPDATE bounces SET disabled = ?3, warnings = 0, "
	    "last_warning = ?3 WHERE list = ?1 AND addr = ?2");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s) != 0)
		return -1;
	log_info("bounce: %s: delivery to <%s> disabled (score %.1f)", list,
	    addr, score);
	store_count(st, "bounce_disabled", 1);
	return bounce_notice(st, cf, list, addr, "bounce-disabled");
}

/*
 * Tell a disabled member, with a token that turns delivery back on.  It
 * may well bounce too; it goes all the same, as Mailman's does, since a
 * temporary fault is the common case.
 */
static int
bounce_notice(struct store *st, const struct config *cf, const char *list,
    const char *addr, const char *tmpl)
{
	const struct list *l = config_list(cf, list);
	struct compose c;
	struct buf from = BUF_INIT, confirm = BUF_INIT, env = BUF_INIT;
	char token[TOKEN_LEN + 1], days[16];
	char *rcpt = (char *)addr;
	int rc = -1;

	if (l == NULL)
		return 0;
	if (token_create(st, list, addr, "reenable", "",
	    cf->token_ttl > cf->bounce.warning_days * DAY ? cf->token_ttl :
	    cf->bounce.warning_days * DAY * (cf->bounce.warnings + 1),
	    token) != 0)
		return -1;
	buf_printf(&from, "%s-request@%s", l->name, cf->domain);
	buf_printf(&confirm, "%s-confirm+%s@%s", l->name, token, cf->domain);
	buf_printf(&env, "%s-bounces@%s", l->name, cf->domain);
	snprintf(days, sizeof(days), "%d", cf->bounce.warning_days);
	{
		struct tvar v[] = {
			{ "list", l->name }, { "address", addr },
			{ "confirm", buf_cstr(&confirm) }, { "token", token },
			{ "request", buf_cstr(&from) }, { "days", days },
		};

		compose_init(&c);
		compose_field_addr(&c, "From", l->description,
		    buf_cstr(&from));
		compose_field_addr(&c, "To", NULL, addr);
		compose_field_addr(&c, "Reply-To", NULL, buf_cstr(&confirm));
		if (compose_template(&c, cf, l->language, tmpl, v,
		    sizeof(v) / sizeof(v[0])) == 0) {
			compose_basics(&c, cf, "auto-generated", NULL);
			rc = compose_queue(&c, st, cf, l->name, "notice",
			    buf_cstr(&env), &rcpt, 1);
		}
		compose_free(&c);
	}
	buf_free(&from);
	buf_free(&confirm);
	buf_free(&env);
	return rc;
}

/*
 * LIST-bounces@D and LIST-bounces+VERP@D.  Never answered; what can be
 * read is counted, what cannot is logged.
 */
int
bounce_handle(struct mail_ctx *ctx, const struct route *r)
{
	struct bounce_report rep[32];
	char addr[ADDR_MAX + 1];
	int n, i;

	store_count(ctx->st, "bounces", 1);
	n = ctx->msg->dsn ? bounce_dsn_parse(ctx->msg->dsn, ctx->msg->dsn_len,
	    rep, sizeof(rep) / sizeof(rep[0])) : 0;
	if (r->arg[0] && bounce_verp_decode(r->arg, addr, sizeof(addr)) == 0) {
		/* VERP names the address; a report may say it was soft. */
		int hard = 1;

		for (i = 0; i < n; i++)
			if (addr_same(rep[i].addr, addr))
				hard = rep[i].hard;
		log_info("%s: %s: VERP bounce for <%s>", ctx->id,
		    r->list->name, addr);
		return bounce_record(ctx->st, ctx->cf, r->list->name, addr,
		    hard, "VERP bounce");
	}
	if (n == 0) {
		log_info("%s: %s: bounce from <%s> with no readable report; "
		    "not counted", ctx->id, r->list->name, ctx->env->sender);
		return 0;
	}
	for (i = 0; i < n; i++) {
		log_info("%s: %s: report: <%s> %s", ctx->id, r->list->name,
		    rep[i].addr, rep[i].hard ? "failed" : "delayed");
		if (bounce_record(ctx->st, ctx->cf, r->list->name, rep[i].addr,
		    rep[i].hard, rep[i].hard ? "delivery report: failed" :
		    "delivery report: delayed") != 0)
			return -1;
	}
	return 0;
}

/*
 * Daily work: warn disabled members again, remove those warned enough,
 * forget scores gone stale.
 */
int
bounce_maintain(struct store *st, const struct config *cf)
{
	long long now = (long long)time(NULL);
	struct due { char list[65]; char addr[ADDR_MAX + 1]; int warnings; };
	struct due *due = NULL;
	size_t n = 0, i;
	sqlite3_stmt *s;
	int rc = 0;

	s = store_stmt(st, "SELECT list, addr, warnings FROM bounces "
	    "WHERE disabled > 0 AND last_warning <= ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now - (long long)cf->bounce.warning_days *
	    DAY);
	while (sqlite3_step(s) == SQLITE_ROW) {
		due = xrealloc(due, (n + 1) * sizeof(*due));
		snprintf(due[n].list, sizeof(due[n].list), "%s",
		    (const char *)sqlite3_column_text(s, 0));
		snprintf(due[n].addr, sizeof(due[n].addr), "%s",
		    (const char *)sqlite3_column_text(s, 1));
		due[n].warnings = sqlite3_column_int(s, 2);
		n++;
	}
	sqlite3_reset(s);
	for (i = 0; i < n && rc == 0; i++) {
		if (store_begin(st) != 0)
			break;
		if (due[i].warnings >= cf->bounce.warnings) {
			rc = members_remove(st, due[i].list, due[i].addr) < 0;
			if ((s = store_stmt(st, "DELETE FROM bounces WHERE "
			    "list = ?1 AND addr = ?2")) != NULL) {
				sqlite3_bind_text(s, 1, due[i].list, -1,
				    SQLITE_STATIC);
				sqlite3_bind_text(s, 2, due[i].addr, -1,
				    SQLITE_STATIC);
				rc |= store_step_done(st, s);
			}
			log_info("bounce: %s: <%s> removed after %d warnings",
			    due[i].list, due[i].addr, due[i].warnings);
			store_count(st, "bounce_removed", 1);
		} else {
			rc = bounce_notice(st, cf, due[i].list, due[i].addr,
			    "bounce-warning");
			if (rc == 0 && (s = store_stmt(st, "UPDATE bounces SET "
			    "warnings = warnings + 1, last_warning = ?3 WHERE "
			    "list = ?1 AND addr = ?2")) != NULL) {
				sqlite3_bind_text(s, 1, due[i].list, -1,
				    SQLITE_STATIC);
				sqlite3_bind_text(s, 2, due[i].addr, -1,
				    SQLITE_STATIC);
				sqlite3_bind_int64(s, 3, now);
				rc = store_step_done(st, s);
			}
		}
		if (rc == 0)
			rc = store_commit(st);
		else
			store_rollback(st);
	}
	free(due);
	if ((s = store_stmt(st, "DELETE FROM bounces WHERE disabled = 0 AND "
	    "last_bounce < ?1")) != NULL) {
		sqlite3_bind_int64(s, 1, now - (long long)cf->bounce.stale_days *
		    DAY);
		store_step_done(st, s);
	}
	return rc ? -1 : 0;
}

/* Forget addr's score on list (delivery re-enabled by the member). */
int
bounce_forget(struct store *st, const char *list, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM bounces WHERE "
	    "list = ?1 AND addr = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* Whether this post of list goes out with per-recipient VERP. */
int
bounce_verp_wanted(struct store *st, const struct config *cf,
    const char *list)
{
	sqlite3_stmt *s;
	long long posts = 0;

	if (cf->bounce.verp == VERP_NEVER)
		return 0;
	if (cf->bounce.verp == VERP_ALWAYS)
		return 1;
	s = store_stmt(st, "INSERT INTO verp_counter (list, posts) "
	    "VALUES (?1, 1) ON CONFLICT (list) DO UPDATE SET "
	    "posts = posts + 1 RETURNING posts");
	if (s == NULL)
		return 0;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		posts = sqlite3_column_int64(s, 0);
	while (sqlite3_step(s) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	return posts > 0 && posts % cf->bounce.verp_every == 0;
}
