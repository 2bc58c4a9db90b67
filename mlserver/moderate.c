/*
 * moderate - the moderation queue and the filter stage; see moderate.h.
 *
 * Acting on a held post (approve, reject, allow, expire) is one function,
 * moderate_act(), that runs inside the caller's transaction: a token
 * mail's own transaction, mlserverctl's, or the expiry's.  The held row
 * is deleted in that transaction, so two moderators acting at once (or a
 * moderator and the expiry) act once: the second finds no row.  The file
 * in spool/held goes only after the commit; when the caller cannot wait
 * for it (a token mail, handled inside process.c's transaction), the
 * file is left and the next sweep removes held files without a row.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "command.h"
#include "config.h"
#include "dmarc.h"
#include "filter.h"
#include "log.h"
#include "message.h"
#include "moderate.h"
#include "post.h"
#include "process.h"
#include "reply.h"
#include "request.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

#define MOD_SWEEP_INTERVAL	3600	/* seconds between held/ sweeps */
#define MOD_SWEEP_AGE		600	/* an orphan is this old at least */
#define MOD_EXPIRE_BATCH	50

/* Filter verdicts made before the transaction, per list. */
struct moderate_prep {
	struct {
		char			 list[65];
		struct filter_result	 r;
		int			 taken;
	}		*v;
	size_t		 n;
};

/* A held post loaded for acting on. */
struct held {
	char			 id[SPOOL_ID_LEN + 1];
	char			 list[65];
	char			 sender[ADDR_MAX + 1];
	char			*subject;
	char			*reason;
	struct spool_envelope	 env;
	char			*raw;
	size_t			 len;
	struct message		 msg;
	int			 parsed;
	struct mail_ctx		 ctx;
};

static const char *const moderation_steps[] = {
	/* 0 -> 1 */
	"CREATE TABLE mod_allowed ("		/* approve-and-allow */
	"  list TEXT NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (list, addr)) WITHOUT ROWID;"
	"CREATE TABLE mod_notices ("		/* poster told: when */
	"  addr TEXT PRIMARY KEY,"
	"  last INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX mod_held_created ON held (created);",
};

const struct store_schema moderation_schema = {
	"moderation", moderation_steps,
	sizeof(moderation_steps) / sizeof(moderation_steps[0])
};

static void	 moderate_msg_init(struct filter_msg *, struct buf *,
		    struct buf *, const struct mail_ctx *,
		    const struct list *);
static void	 moderate_run_chain(const struct mail_ctx *,
		    const struct list *, int, struct filter_result *);
static int	 moderate_poster_due(struct mail_ctx *, const char *);
static int	 moderate_tell_moderator(struct mail_ctx *,
		    const struct list *, struct reply_vars *, const char *);
static int	 held_row(struct store *, const char *, struct held *);
static int	 held_load(const struct config *, struct store *,
		    struct held *);
static void	 held_free(struct held *);
static void	 held_unlink(const struct config *, const char *);
static int	 moderate_tell_poster(struct held *, const struct list *,
		    const char *, const char *, const char *);
static void	 moderate_sweep(const struct config *, struct store *);
static const char *moderate_act_name(enum moderate_act);
static int	 moderate_reply_rejects(const char *);

static const char *
moderate_act_name(enum moderate_act a)
{
	static const char *const names[] = {
		"approved", "rejected", "approved and allowed", "expired"
	};

	return names[a];
}

/* ---------------------------------------------------------------- filters */

static void
moderate_msg_init(struct filter_msg *fm, struct buf *addr, struct buf *id,
    const struct mail_ctx *ctx, const struct list *l)
{
	filter_msg_init(fm, ctx->msg->raw, ctx->msg->len);
	buf_printf(addr, "%s@%s", l->name, ctx->cf->domain);
	buf_printf(id, "%s.%s", l->name, ctx->cf->domain);
	fm->sender = ctx->env->sender;
	fm->from = ctx->msg->from;
	fm->list = l->name;
	fm->list_addr = buf_cstr(addr);
	fm->list_id = buf_cstr(id);
	fm->ja = strcmp(l->language, "ja") == 0;
}

/* Runs l's chain on the message of ctx (approved: see filter_run). */
static void
moderate_run_chain(const struct mail_ctx *ctx, const struct list *l,
    int approved, struct filter_result *r)
{
	struct filter_msg fm;
	struct buf addr = BUF_INIT, id = BUF_INIT;

	moderate_msg_init(&fm, &addr, &id, ctx, l);
	filter_run(l->filters, &fm, approved, r);
	if (r->verdict != FILTER_ACCEPT)
		log_info("%s: %s: filter %s: %s: %s", ctx->id, l->name, r->by,
		    filter_verdict_name(r->verdict), r->reason);
	filter_msg_free(&fm);
	buf_free(&addr);
	buf_free(&id);
}

/*
 * Before process.c's transaction: the filter chain of every list the
 * message is posted to, and the DMARC lookups its From will need, so
 * that neither a slow filter command nor DNS holds the database.
 */
void
moderate_prepare(struct mail_ctx *ctx)
{
	struct moderate_prep *p = xcalloc(1, sizeof(*p));
	const struct list *l;
	struct route r;
	size_t i, j;

	ctx->prep = p;
	for (i = 0; i < ctx->env->nrcpts; i++) {
		if (route_lookup(ctx->cf, ctx->env->rcpts[i], &r) != 0 ||
		    r.action != ROUTE_POST)
			continue;
		l = r.list;
		if (l->from_munging == MUNGE_WHEN_NEEDED && ctx->msg->from[0])
			(void)dmarc_wanted(ctx->cf, l, ctx->msg->from);
		if (l->filters == NULL)
			continue;
		for (j = 0; j < p->n; j++)
			if (strcmp(p->v[j].list, l->name) == 0)
				break;
		if (j < p->n)
			continue;
		p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
		memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
		snprintf(p->v[p->n].list, sizeof(p->v[p->n].list), "%s",
		    l->name);
		moderate_run_chain(ctx, l, 0, &p->v[p->n].r);
		p->n++;
	}
}

void
moderate_release(struct mail_ctx *ctx)
{
	struct moderate_prep *p = ctx->prep;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		filter_result_free(&p->v[i].r);
	free(p->v);
	free(p);
	ctx->prep = NULL;
}

/*
 * The verdict of l's filters on the post of ctx, and the post as they
 * left it (LF line ends): prepared, or run now.  Free with
 * filter_result_free.
 */
void
moderate_filter(struct mail_ctx *ctx, const struct list *l,
    struct filter_result *r)
{
	struct moderate_prep *p = ctx->prep;

	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->v[i].list, l->name) == 0 && !p->v[i].taken) {
			*r = p->v[i].r;
			if (r->reason)
				r->reason = xstrdup(r->reason);
			buf_init(&r->raw);
			buf_add(&r->raw, p->v[i].r.raw.data ?
			    p->v[i].r.raw.data : "", p->v[i].r.raw.len);
			return;
		}
	moderate_run_chain(ctx, l, 0, r);
}

/* ---------------------------------------------------------------- policy */

/* 1 if addr may post to list without a moderator, 0 if not, -1 error. */
int
moderate_allowed(struct store *st, const char *list, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM mod_allowed WHERE "
	    "list = ?1 AND addr = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	return store_exists(st, s);
}

/*
 * 1 if the poster may be told of a held post now (and it is recorded),
 * 0 if they were told within the notice interval.
 */
static int
moderate_poster_due(struct mail_ctx *ctx, const char *addr)
{
	sqlite3_stmt *s;
	long long now = (long long)time(NULL);

	s = store_stmt(ctx->st, "INSERT INTO mod_notices (addr, last) "
	    "VALUES (?1, ?2) ON CONFLICT (addr) DO UPDATE SET last = ?2 "
	    "WHERE last <= ?2 - ?3");
	if (s == NULL)
		return 0;
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, ctx->cf->moderation.notice_interval);
	if (store_step_done(ctx->st, s) != 0)
		return 0;
	return sqlite3_changes(ctx->st->db) > 0;
}

/* One moderator's notice, with token addresses of their own. */
static int
moderate_tell_moderator(struct mail_ctx *ctx, const struct list *l,
    struct reply_vars *rv, const char *mod)
{
	static const char *const actions[] = {
		"mod-approve", "mod-reject", "mod-allow"
	};
	static const char *const vars[] = { "approve", "reject", "allow" };
	char tok[3][TOKEN_LEN + 1], addr[3][ADDR_MAX + 1];
	int ttl = ctx->cf->moderation.expire + 86400, i, rc;

	for (i = 0; i < 3; i++) {
		if (token_create(ctx->st, l->name, mod, actions[i], ctx->id, ttl,
		    tok[i]) != 0)
			return -1;
		snprintf(addr[i], sizeof(addr[i]), "%s-confirm+%s@%s", l->name,
		    tok[i], ctx->cf->domain);
		reply_var(rv, vars[i], addr[i]);
	}
	rc = reply_send(ctx, l, mod, "held-moderator", rv, addr[0], 1);
	/* The addresses live in this frame: leave none behind in rv. */
	for (i = 0; i < 3; i++)
		reply_var(rv, vars[i], "");
	return rc;
}

/*
 * A post was just kept (held table, spool/held): tell each moderator,
 * and the poster unless told lately.
 */
int
moderate_notify(struct mail_ctx *ctx, const struct list *l,
    const char *reason, int nonmember)
{
	struct reply_vars rv;
	char days[16];
	size_t i;

	snprintf(days, sizeof(days), "%d", ctx->cf->moderation.expire / 86400);
	reply_vars_init(&rv, ctx, l);
	reply_var(&rv, "sender", ctx->who[0] ? ctx->who : "<>");
	reply_var(&rv, "reason", reason);
	reply_var(&rv, "days", days);
	for (i = 0; i < l->moderators.n; i++)
		if (moderate_tell_moderator(ctx, l, &rv,
		    l->moderators.v[i]) != 0)
			return -1;
	if (l->moderators.n == 0)
		log_warnx("%s: %s has no moderators to tell of a held post",
		    ctx->id, l->name);
	if (ctx->who[0] && !reply_is_automatic(ctx) &&
	    moderate_poster_due(ctx, ctx->who) && reply_allowed(ctx, ctx->who))
		return reply_send(ctx, l, ctx->who, nonmember ?
		    "held-nonmember" : "held-poster", &rv, NULL, 0);
	return 0;
}

/* A filter refused the post: the poster is told why, with it attached. */
int
moderate_refuse(struct mail_ctx *ctx, const struct list *l,
    const char *reason)
{
	struct reply_vars rv;

	log_info("%s: %s: post from <%s> rejected: %s", ctx->id, l->name,
	    ctx->who, reason);
	store_count(ctx->st, "filter_rejected", 1);
	if (!reply_allowed(ctx, ctx->who))
		return 0;
	reply_vars_init(&rv, ctx, l);
	reply_var(&rv, "reason", reason);
	return reply_send(ctx, l, ctx->who, "post-rejected", &rv, NULL, 1);
}

/* ---------------------------------------------------------------- acting */

/* The held row of id: 1 and h filled, 0 if there is none, -1 error. */
static int
held_row(struct store *st, const char *id, struct held *h)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT list, sender, subject, "
	    "reason FROM held WHERE id = ?1");
	int rc;

	memset(h, 0, sizeof(*h));
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(h->id, sizeof(h->id), "%s", id);
		snprintf(h->list, sizeof(h->list), "%s",
		    (const char *)sqlite3_column_text(s, 0));
		snprintf(h->sender, sizeof(h->sender), "%s",
		    (const char *)sqlite3_column_text(s, 1));
		h->subject = xstrdup((const char *)sqlite3_column_text(s, 2));
		h->reason = xstrdup((const char *)sqlite3_column_text(s, 3));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_log_error(st, "held");
	return -1;
}

/*
 * The held file, parsed, with a mail context as process.c makes one.
 * It is in held/, or still in new/ when the processor has not moved it
 * yet.  0, or -1 when it is missing or unreadable.
 */
static int
held_load(const struct config *cf, struct store *st, struct held *h)
{
	char *path = spool_path(cf->state_dir, "held", h->id);

	if (spool_read(path, &h->env, &h->raw, &h->len) != 0) {
		free(path);
		path = spool_path(cf->state_dir, "new", h->id);
		if (spool_read(path, &h->env, &h->raw, &h->len) != 0) {
			log_warn("%s: held post not found in spool", h->id);
			free(path);
			return -1;
		}
	}
	free(path);
	if (message_parse(h->raw, h->len, &h->msg) != 0) {
		message_free(&h->msg);
		log_warnx("%s: held post cannot be parsed", h->id);
		return -1;
	}
	h->parsed = 1;
	h->ctx.cf = cf;
	h->ctx.st = st;
	h->ctx.id = h->id;
	h->ctx.env = &h->env;
	h->ctx.msg = &h->msg;
	snprintf(h->ctx.who, sizeof(h->ctx.who), "%s", h->sender);
	return 0;
}

static void
held_free(struct held *h)
{
	if (h->parsed)
		message_free(&h->msg);
	spool_envelope_free(&h->env);
	free(h->raw);
	free(h->subject);
	free(h->reason);
	memset(h, 0, sizeof(*h));
}

static void
held_unlink(const struct config *cf, const char *id)
{
	char *path = spool_path(cf->state_dir, "held", id);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: unlink %s", id, path);
	free(path);
}

/* The poster hears of a rejection or an expiry, the post attached. */
static int
moderate_tell_poster(struct held *h, const struct list *l, const char *tmpl,
    const char *reason, const char *days)
{
	struct reply_vars rv;

	if (h->sender[0] == '\0' || !reply_allowed(&h->ctx, h->sender))
		return 0;
	if (reason == NULL || *reason == '\0')
		reason = strcmp(l->language, "ja") == 0 ?
		    "モデレーターが配信しないと判断しました" :
		    "a moderator decided not to distribute it";
	reply_vars_init(&rv, &h->ctx, l);
	reply_var(&rv, "reason", reason);
	reply_var(&rv, "days", days);
	return reply_send(&h->ctx, l, h->sender, tmpl, &rv, NULL, 1);
}

/*
 * Acts on held post id (of list, when list is not NULL), inside the
 * caller's transaction.  Returns 1 when done, 0 when there is no such
 * held post (handled already, or of another list), -1 on error; note
 * gets a line for people either way.
 */
int
moderate_act(const struct config *cf, struct store *st, const char *id,
    const char *list, enum moderate_act act, const char *reason,
    struct buf *note)
{
	const struct list *l;
	struct filter_result fr;
	struct held h;
	sqlite3_stmt *s;
	char days[16];
	int rc = -1;

	if (!spool_valid_id(id))
		return 0;
	if ((rc = held_row(st, id, &h)) <= 0) {
		if (rc == 0 && note)
			buf_printf(note, "%s: no such held post\n", id);
		return rc;
	}
	rc = -1;
	if (list && strcmp(list, h.list) != 0) {
		rc = 0;
		goto done;
	}
	l = config_list(cf, h.list);
	if ((act == MOD_APPROVE || act == MOD_ALLOW) && (l == NULL ||
	    strncmp(h.reason, "owner mail", 10) == 0)) {
		if (note)
			buf_printf(note, "%s: %s cannot be approved (%s)\n", id,
			    l ? "owner mail" : "a post to a list no longer "
			    "configured", h.list);
		rc = 0;
		goto done;
	}
	if (l != NULL && held_load(cf, st, &h) != 0 &&
	    (act == MOD_APPROVE || act == MOD_ALLOW)) {
		if (note)
			buf_printf(note, "%s: the held message is missing or "
			    "unreadable\n", id);
		goto done;
	}
	snprintf(days, sizeof(days), "%d", cf->moderation.expire / 86400);
	switch (act) {
	case MOD_ALLOW:
		if ((s = store_stmt(st, "INSERT OR IGNORE INTO mod_allowed "
		    "(list, addr, created) VALUES (?1, ?2, ?3)")) == NULL)
			goto done;
		sqlite3_bind_text(s, 1, h.list, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, h.sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (long long)time(NULL));
		if (store_step_done(st, s) != 0)
			goto done;
		/* FALLTHROUGH */
	case MOD_APPROVE:
		moderate_run_chain(&h.ctx, l, 1, &fr);
		rc = post_send(&h.ctx, l, fr.raw.data, fr.raw.len);
		filter_result_free(&fr);
		if (rc != 0) {
			rc = -1;
			goto done;
		}
		break;
	case MOD_REJECT:
	case MOD_EXPIRE:
		if (l && h.parsed && moderate_tell_poster(&h, l, act ==
		    MOD_REJECT ? "held-rejected" : "held-expired", reason,
		    days) != 0)
			goto done;
		break;
	}
	if ((s = store_stmt(st, "DELETE FROM held WHERE id = ?1")) == NULL)
		goto done;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		goto done;
	store_count(st, act == MOD_EXPIRE ? "held_expired" : act ==
	    MOD_REJECT ? "held_rejected" : "held_approved", 1);
	log_info("%s: %s: held post from <%s> %s%s%s", id, h.list, h.sender,
	    moderate_act_name(act), reason && *reason ? ": " : "",
	    reason ? reason : "");
	if (note)
		buf_printf(note, "%s: %s (%s, <%s>)\n", id,
		    moderate_act_name(act), h.list, h.sender);
	rc = 1;
done:
	held_free(&h);
	return rc;
}

/*
 * A moderator used a token of a held-post notice (request.c).  The token
 * was made for this list and this moderator; the post may have been
 * handled meanwhile.
 */
int
moderate_confirm(struct request *s, const struct command *c,
    const struct token_rec *rec)
{
	static const struct {
		const char		*action;
		enum moderate_act	 act;
		const char		*tmpl;
	} acts[] = {
		{ "mod-approve", MOD_APPROVE, "moderated-approved" },
		{ "mod-reject", MOD_REJECT, "moderated-rejected" },
		{ "mod-allow", MOD_ALLOW, "moderated-allowed" },
	};
	struct held h;
	size_t i;
	int rc;

	for (i = 0; i < 3; i++)
		if (strcmp(rec->action, acts[i].action) == 0)
			break;
	if (i == 3)
		return request_result(s, "token-invalid", c);
	/* A reply to the notice goes to approve; it may say otherwise. */
	if (acts[i].act == MOD_APPROVE &&
	    moderate_reply_rejects(s->ctx->msg->text))
		i = 1;
	if ((rc = held_row(s->ctx->st, rec->arg, &h)) < 0)
		return -1;
	reply_var(&s->rv, "held_id", rec->arg);
	reply_var(&s->rv, "held_sender", rc ? h.sender : "");
	reply_var(&s->rv, "held_subject", rc ? h.subject : "");
	rc = moderate_act(s->ctx->cf, s->ctx->st, rec->arg, s->list->name,
	    acts[i].act, NULL, NULL);
	if (rc >= 0)
		rc = request_result(s, rc ? acts[i].tmpl : "moderated-gone", c);
	reply_var(&s->rv, "held_sender", "");
	reply_var(&s->rv, "held_subject", "");
	held_free(&h);
	return rc;
}

/*
 * Whether a moderator's reply says to reject: its first line that is
 * neither blank nor quoted starts with 却下, 拒否 or "reject".  A reply
 * approves by default (as the notice says), but "却下で" written back
 * must not send a spam to the list.
 */
static int
moderate_reply_rejects(const char *text)
{
	static const char *const words[] = { "却下", "拒否", "reject" };
	const char *p = text ? text : "";
	size_t i;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncmp(p, "\xe3\x80\x80", 3) == 0) {	/* U+3000 */
			p += 3;
			continue;
		}
		if (*p != '>')
			break;
		p += strcspn(p, "\n");
	}
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncasecmp(p, words[i], strlen(words[i])) == 0)
			return 1;
	return 0;
}

/*
 * mlserverctl approve / reject: one act in its own transaction, the
 * held file removed once it commits.  1 done, 0 nothing to do, -1 error.
 */
int
moderate_ctl(const struct config *cf, struct store *st, const char *id,
    enum moderate_act act, const char *reason, struct buf *note)
{
	int rc;

	if (store_begin(st) != 0)
		return -1;
	rc = moderate_act(cf, st, id, NULL, act, reason, note);
	if (rc < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st) != 0) {
		store_rollback(st);
		return -1;
	}
	if (rc == 1)
		held_unlink(cf, id);
	return rc;
}

/*
 * mlserverctl approve ID | reject ID [REASON...]: an exit status of
 * sysexits.h.  The daemon is poked (SIGUSR1) to send the mail now.
 */
int
moderate_ctl_verb(const struct config *cf, struct store *st,
    const char *verb, int argc, char **argv, struct buf *out)
{
	enum moderate_act act = strcmp(verb, "approve") == 0 ? MOD_APPROVE :
	    MOD_REJECT;
	struct buf reason = BUF_INIT, note = BUF_INIT;
	char *path;
	FILE *fp;
	long pid = 0;
	int i, rc;

	if (!spool_valid_id(argv[0])) {
		fprintf(stderr, "mlserverctl: \"%s\" is not a queue id (see "
		    "mlserverctl held)\n", argv[0]);
		return 65;
	}
	for (i = 1; i < argc; i++)
		buf_printf(&reason, "%s%s", i > 1 ? " " : "", argv[i]);
	rc = moderate_ctl(cf, st, argv[0], act, reason.len ?
	    buf_cstr(&reason) : NULL, &note);
	buf_free(&reason);
	if (rc != 1) {
		fputs(note.len ? buf_cstr(&note) : "mlserverctl: database "
		    "error\n", stderr);
		buf_free(&note);
		return rc < 0 ? 75 : 67;
	}
	buf_add(out, note.data, note.len);
	buf_free(&note);
	path = config_state_path(cf, "mlserverd.pid");
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) == 1 && pid > 0)
			(void)kill((pid_t)pid, SIGUSR1);
		fclose(fp);
	}
	free(path);
	return 0;
}

/* ---------------------------------------------------------------- expiry */

/* Files in held/ whose row is gone (acted on by mail) are removed. */
static void
moderate_sweep(const struct config *cf, struct store *st)
{
	char *dir = spool_path(cf->state_dir, "held", NULL), *path;
	sqlite3_stmt *s;
	struct dirent *de;
	struct stat sb;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!spool_valid_id(de->d_name))
			continue;
		if ((s = store_stmt(st, "SELECT 1 FROM held WHERE id = ?1")) ==
		    NULL)
			break;
		sqlite3_bind_text(s, 1, de->d_name, -1, SQLITE_STATIC);
		if (store_exists(st, s) != 0)
			continue;	/* held, or unknown: kept */
		path = spool_path(cf->state_dir, "held", de->d_name);
		if (stat(path, &sb) == 0 &&
		    sb.st_mtime < time(NULL) - MOD_SWEEP_AGE &&
		    unlink(path) == 0)
			log_debug("%s: removed from held/ (handled)",
			    de->d_name);
		free(path);
	}
	closedir(d);
	free(dir);
}

/*
 * From the processor's loop: held posts older than moderation.expire are
 * dropped and their posters told; now and then held/ is swept.  Returns
 * how many expired (mail was queued), or -1 on error.
 */
int
moderate_expire(const struct config *cf, struct store *st)
{
	static time_t last_run, last_sweep;
	char ids[MOD_EXPIRE_BATCH][SPOOL_ID_LEN + 1];
	time_t now = time(NULL);
	int interval = cf->moderation.expire / 4, n = 0, done = 0, i, rc;
	sqlite3_stmt *s;

	if (interval > 60)
		interval = 60;
	if (interval < 1)
		interval = 1;
	if (now - last_run < interval)
		return 0;
	last_run = now;
	if (now - last_sweep >= MOD_SWEEP_INTERVAL) {
		moderate_sweep(cf, st);
		last_sweep = now;
	}
	s = store_stmt(st, "SELECT id FROM held WHERE created <= ?1 "
	    "ORDER BY created LIMIT 50");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (long long)now - cf->moderation.expire);
	while (n < MOD_EXPIRE_BATCH && sqlite3_step(s) == SQLITE_ROW)
		snprintf(ids[n++], sizeof(ids[0]), "%s",
		    (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	for (i = 0; i < n; i++) {
		rc = moderate_ctl(cf, st, ids[i], MOD_EXPIRE, NULL, NULL);
		if (rc < 0)
			return -1;
		done += rc;
	}
	return done;
}
