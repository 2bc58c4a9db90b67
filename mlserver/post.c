/*
 * post - posts and the owner address; see post.h.
 *
 * The body and its charset pass through untouched; of the header, only
 * the fields this list owns are replaced (List-*, Precedence, X-Loop of
 * ours, Return-Path, Delivered-To) and the Subject is re-encoded when a
 * prefix is added.  A post that carries our own List-Id or X-Loop has
 * been here before: it is logged and not sent again.
 *
 * Before the policy, the list's filters judge the post (moderate.h,
 * filters/); on the way out the footer (footer.h) and From munging
 * (dmarc.h) are applied, and the subject is rewritten by subject.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "archive.h"
#include "bounce.h"
#include "buf.h"
#include "compose.h"
#include "config.h"
#include "digest.h"
#include "dmarc.h"
#include "encword.h"
#include "filter.h"
#include "footer.h"
#include "log.h"
#include "members.h"
#include "message.h"
#include "moderate.h"
#include "outq.h"
#include "post.h"
#include "process.h"
#include "reply.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "subject.h"
#include "xmalloc.h"

static int	 post_is_loop(const struct mail_ctx *, const struct list *);
static int	 post_may_post(struct mail_ctx *, const struct list *,
		    const char **, int *);
static int	 post_keep(struct mail_ctx *, const struct list *,
		    const char *);
static int	 post_hold(struct mail_ctx *, const struct list *,
		    const char *, int);
static int	 post_refuse(struct mail_ctx *, const struct list *);
static int	 post_drop_field(const char *, size_t);
static int	 post_filtered(struct mail_ctx *, const struct list *);

/* Header fields the list replaces with its own. */
static const char *const dropped_fields[] = {
	"list-id", "list-post", "list-help", "list-subscribe",
	"list-unsubscribe", "list-archive", "list-owner", "precedence",
	"return-path", "delivered-to", "x-original-to", NULL
};

static int
post_is_loop(const struct mail_ctx *ctx, const struct list *l)
{
	struct buf id = BUF_INIT, loop = BUF_INIT;
	int is = 0;

	buf_printf(&id, "<%s.%s>", l->name, ctx->cf->domain);
	buf_printf(&loop, "%s@%s", l->name, ctx->cf->domain);
	if (ctx->msg->list_id && strcasestr(ctx->msg->list_id, id.data))
		is = 1;
	if (ctx->msg->x_loop && addr_mentioned(ctx->msg->x_loop, loop.data))
		is = 1;
	buf_free(&id);
	buf_free(&loop);
	return is;
}

/*
 * The list's policy: 1 to distribute, 0 to hold (*reason set, and
 * *nonmember when joining would have let the post through), -1 to
 * refuse, -2 on error.
 */
static int
post_may_post(struct mail_ctx *ctx, const struct list *l,
    const char **reason, int *nonmember)
{
	int staff = config_is_moderator(l, ctx->who) ||
	    config_is_organizer(ctx->cf, l, ctx->who);
	int member;

	/*
	 * A bounce or delivery report sent to the post address is never
	 * a post, whatever the policy: a moderator looks at it.
	 */
	if (ctx->env->sender[0] == '\0' || ctx->msg->is_dsn) {
		*reason = strcmp(l->language, "ja") == 0 ?
		    "エラー通知などの自動送信メールです" :
		    "an automatic message such as a bounce";
		return 0;
	}
	switch (l->policy) {
	case POLICY_OPEN:
		return 1;
	case POLICY_ANNOUNCE:
		return staff ? 1 : -1;
	case POLICY_MODERATED:
		/* A sender a moderator allowed ("approve and allow"). */
		if ((member = moderate_allowed(ctx->st, l->name,
		    ctx->who)) != 0)
			return member > 0 ? 1 : -2;
		*reason = strcmp(l->language, "ja") == 0 ?
		    "承認制のリストです" : "the list is moderated";
		return 0;
	case POLICY_MEMBERS:
		if (staff)
			return 1;
		if ((member = members_in_audience(ctx->st, l->name,
		    ctx->who)) < 0)
			return -2;
		if (member || (member = moderate_allowed(ctx->st, l->name,
		    ctx->who)) > 0)
			return 1;
		if (member < 0)
			return -2;
		*reason = strcmp(l->language, "ja") == 0 ?
		    "メンバー以外の方からの投稿です" : "the sender is not a member";
		*nonmember = 1;
		return 0;
	}
	return -2;
}

/*
 * Keep the message: a row in held, and the file moved to held/ once the
 * transaction commits (see process.c).
 */
static int
post_keep(struct mail_ctx *ctx, const struct list *l, const char *reason)
{
	sqlite3_stmt *s;

	s = store_stmt(ctx->st, "INSERT OR IGNORE INTO held (id, list, "
	    "sender, subject, reason, created) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, strftime('%s', 'now'))");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ctx->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, l->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, ctx->who, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ctx->msg->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, reason, -1, SQLITE_STATIC);
	if (store_step_done(ctx->st, s) != 0)
		return -1;
	ctx->held = 1;
	return 0;
}

/*
 * Hold the post for the moderators: keep it, send each moderator a notice
 * with the post attached, and tell the poster (and a non-member how to
 * join).
 */
static int
post_hold(struct mail_ctx *ctx, const struct list *l, const char *reason,
    int nonmember)
{
	if (post_keep(ctx, l, reason) != 0)
		return -1;
	ctx->held = 1;
	log_info("%s: %s: post from <%s> held: %s", ctx->id, l->name,
	    ctx->who, reason);
	store_count(ctx->st, "held", 1);
	return moderate_notify(ctx, l, reason, nonmember);
}

static int
post_refuse(struct mail_ctx *ctx, const struct list *l)
{
	struct reply_vars rv;

	log_info("%s: %s: post from <%s> refused: announce list", ctx->id,
	    l->name, ctx->who);
	store_count(ctx->st, "refused", 1);
	if (!reply_allowed(ctx, ctx->who))
		return 0;
	reply_vars_init(&rv, ctx, l);
	return reply_send(ctx, l, ctx->who, "refused-announce", &rv, NULL, 0);
}

static int
post_drop_field(const char *line, size_t n)
{
	for (size_t i = 0; dropped_fields[i]; i++) {
		size_t k = strlen(dropped_fields[i]);

		if (n > k && line[k] == ':' &&
		    strncasecmp(line, dropped_fields[i], k) == 0)
			return 1;
	}
	return 0;
}

/*
 * The post as the list sends it: the original header less the fields the
 * list owns (and the Subject, when a prefix is set), then ours, then the
 * body exactly as received.
 */
void
post_rewrite(struct buf *out, const struct config *cf, const struct list *l,
    const char *raw, size_t len)
{
	size_t end = message_header_end(raw, len), i = 0;
	int prefix = l->subject_prefix && *l->subject_prefix;
	int skipping = 0, subject_done = !prefix;
	char *subj = prefix ? message_header_get(raw, len, "Subject") : NULL;

	/*
	 * The header, field by field (a field is a line plus its folds);
	 * the new Subject takes the place of the first old one.
	 */
	while (i < end) {
		size_t eol = i;
		int is_subject;

		while (eol < end && raw[eol] != '\n')
			eol++;
		if (eol == i || (eol == i + 1 && raw[i] == '\r'))
			break;	/* the empty line */
		if (raw[i] != ' ' && raw[i] != '\t') {
			is_subject = prefix && eol - i > 8 &&
			    strncasecmp(raw + i, "subject:", 8) == 0;
			skipping = post_drop_field(raw + i, eol - i) ||
			    is_subject;
			if (is_subject && !subject_done) {
				subject_field(out, subj, l->subject_prefix,
				    l->charset);
				subject_done = 1;
			}
		}
		if (!skipping) {
			buf_add(out, raw + i, eol - i);
			buf_addc(out, '\n');
		}
		i = eol + 1;
	}
	if (!subject_done)
		subject_field(out, subj, l->subject_prefix, l->charset);
	free(subj);
	buf_adds(out, "List-Id: ");
	encword_phrase(out, l->description);
	buf_printf(out, " <%s.%s>\n", l->name, cf->domain);
	if (l->policy == POLICY_ANNOUNCE)
		buf_adds(out, "List-Post: NO\n");
	else
		buf_printf(out, "List-Post: <mailto:%s@%s>\n", l->name,
		    cf->domain);
	buf_printf(out, "List-Help: <mailto:%s-request@%s?subject=help>\n",
	    l->name, cf->domain);
	buf_printf(out, "List-Subscribe: <mailto:%s-join@%s>\n", l->name,
	    cf->domain);
	buf_printf(out, "List-Unsubscribe: <mailto:%s-leave@%s>\n", l->name,
	    cf->domain);
	buf_printf(out, "List-Owner: <mailto:%s-owner@%s>\n", l->name,
	    cf->domain);
	if (l->archive && l->archive->url)
		buf_printf(out, "List-Archive: <%s>\n", l->archive->url);
	buf_adds(out, "Precedence: list\n");
	buf_printf(out, "X-Loop: %s@%s\n", l->name, cf->domain);
	buf_adds(out, "\n");
	buf_add(out, raw + end, len - end);
}

/*
 * The post raw[0..len) as list l sends it: the footer added, From
 * munged if the list and the poster's domain want it (m is the parsed
 * post; NULL: never), then post_rewrite.  tag is the outgoing id.
 */
void
post_output(struct buf *out, const struct config *cf, const struct list *l,
    const struct message *m, const char *raw, size_t len, const char *tag)
{
	struct buf msg = BUF_INIT;

	buf_add(&msg, raw, len);
	footer_apply(&msg, cf, l, tag);
	if (m != NULL)
		dmarc_apply(&msg, cf, l, m);
	post_rewrite(out, cf, l, msg.data, msg.len);
	buf_free(&msg);
}

/*
 * Send raw[0..len) (the post of ctx, as the filters left it) to the
 * list's audience.
 */
int
post_send(struct mail_ctx *ctx, const struct list *l, const char *raw,
    size_t len)
{
	struct buf out = BUF_INIT, bounces = BUF_INIT;
	char id[SPOOL_ID_LEN + 1];
	long long n;
	int rc = -1;

	spool_new_id(id);
	post_output(&out, ctx->cf, l, ctx->msg, raw, len, id);
	buf_printf(&bounces, "%s-bounces@%s", l->name, ctx->cf->domain);
	if (compose_write_out(ctx->cf, ctx->st, id, out.data, out.len) != 0 ||
	    outq_message_add(ctx->st, id, l->name, "post",
	    buf_cstr(&bounces)) != 0 ||
	    (bounce_verp_wanted(ctx->st, ctx->cf, l->name) &&
	    outq_message_verp(ctx->st, id) != 0) ||
	    (n = outq_fanout_mode(ctx->st, id, l->name, "normal")) < 0 ||
	    archive_record(ctx->st, ctx->cf, id, l->name) != 0 ||
	    outq_message_ready(ctx->st, id) != 0 ||
	    digest_record(ctx->st, ctx->cf, l, id, out.data, out.len) != 0)
		goto done;
	store_count(ctx->st, "posts", 1);
	log_info("%s: %s: post from <%s> queued as %s for %lld recipients",
	    ctx->id, l->name, ctx->who, id, n);
	rc = 0;
done:
	buf_free(&out);
	buf_free(&bounces);
	return rc;
}

int
post_handle(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;

	if (post_is_loop(ctx, l)) {
		log_info("%s: %s: loop detected (our List-Id or X-Loop); "
		    "not sent again", ctx->id, l->name);
		store_count(ctx->st, "loops", 1);
		return 0;
	}
	return post_filtered(ctx, l);
}

/*
 * The policy, then the filters: a refusal by policy (announce lists)
 * needs no filtering; otherwise a filter's hold, reject or discard wins
 * over the policy, and an accepted post goes out as the filters left it.
 */
static int
post_filtered(struct mail_ctx *ctx, const struct list *l)
{
	struct filter_result fr;
	const char *reason = "";
	int policy, rc, nonmember = 0;

	if ((policy = post_may_post(ctx, l, &reason, &nonmember)) == -1)
		return post_refuse(ctx, l);
	if (policy < -1)
		return -1;
	moderate_filter(ctx, l, &fr);
	switch (fr.verdict) {
	case FILTER_HOLD:
		rc = post_hold(ctx, l, fr.reason, 0);
		break;
	case FILTER_REJECT:
		rc = moderate_refuse(ctx, l, fr.reason);
		break;
	case FILTER_DISCARD:
		log_info("%s: %s: post from <%s> discarded: %s", ctx->id,
		    l->name, ctx->who, fr.reason);
		store_count(ctx->st, "discarded", 1);
		rc = 0;
		break;
	default:
		rc = policy == 1 ? post_send(ctx, l, fr.raw.data, fr.raw.len) :
		    post_hold(ctx, l, reason, nonmember);
		break;
	}
	filter_result_free(&fr);
	return rc;
}

/*
 * LIST-owner@D: the message goes to the moderators as it came.  Bounces
 * of it go to LIST-bounces, never back into the owner address.
 */
int
post_owner(struct mail_ctx *ctx, const struct route *r)
{
	const struct list *l = r->list;
	char id[SPOOL_ID_LEN + 1];
	struct buf bounces = BUF_INIT;
	size_t i;
	int rc = -1;

	if (l->moderators.n == 0) {
		log_warnx("%s: %s-owner: the list has no moderators; the "
		    "message is kept in held/", ctx->id, l->name);
		return post_keep(ctx, l, "owner mail; no moderators");
	}
	spool_new_id(id);
	buf_printf(&bounces, "%s-bounces@%s", l->name, ctx->cf->domain);
	if (compose_write_out(ctx->cf, ctx->st, id, ctx->msg->raw, ctx->msg->len) != 0 ||
	    outq_message_add(ctx->st, id, l->name, "owner",
	    buf_cstr(&bounces)) != 0)
		goto done;
	for (i = 0; i < l->moderators.n; i++)
		if (outq_add_rcpt(ctx->st, id, l->moderators.v[i]) != 0)
			goto done;
	if (outq_message_ready(ctx->st, id) != 0)
		goto done;
	log_info("%s: %s-owner: forwarded as %s to %zu moderators", ctx->id,
	    l->name, id, l->moderators.n);
	rc = 0;
done:
	buf_free(&bounces);
	return rc;
}
