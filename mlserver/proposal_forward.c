/*
 * proposal_forward - summaries and reminders; see proposal_forward.h.
 *
 * The proposals to forward are read into memory (their references
 * only) before any is changed, so no statement is stepped while the
 * rows under it move.  A summary is one mail however many proposals it
 * holds; a scope with none sends nothing, and its period still counts
 * as done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "compose.h"
#include "config.h"
#include "log.h"
#include "proposal_forward.h"
#include "proposal_mail.h"
#include "proposal_sched.h"
#include "proposal_summary.h"
#include "proposals.h"
#include "store.h"
#include "template.h"
#include "xmalloc.h"

struct refs {
	char	**ref;
	char	**by;
	size_t	  n;
};

struct items {
	const struct config	*cf;
	const char		*lang;
	struct buf		 out;
	int			 n;
};

static int	 fwd_refs(struct store *, const char *, struct refs *);
static void	 refs_add(struct refs *, const char *, const char *);
static void	 refs_free(struct refs *);
static int	 fwd_comment(const struct proposal_comment *, void *);
static int	 fwd_item(const struct config *, struct store *,
		    const struct list *, const struct proposal *, int,
		    struct buf *);
static int	 fwd_send(const struct config *, struct store *,
		    const struct list *, struct proposal_vars *);
static int	 fwd_scheduled(const struct config *, struct store *,
		    time_t, time_t *);
static int	 fwd_remind_list(const struct config *, struct store *,
		    const char *, char **, size_t, long long);

static void
refs_add(struct refs *r, const char *ref, const char *by)
{
	r->ref = xrealloc(r->ref, (r->n + 1) * sizeof(*r->ref));
	r->by = xrealloc(r->by, (r->n + 1) * sizeof(*r->by));
	r->ref[r->n] = xstrdup(ref);
	r->by[r->n] = xstrdup(by ? by : "");
	r->n++;
}

static void
refs_free(struct refs *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->ref[i]);
		free(r->by[i]);
	}
	free(r->ref);
	free(r->by);
	memset(r, 0, sizeof(*r));
}

/* The open proposals of list's scope, oldest first. */
static int
fwd_refs(struct store *st, const char *list, struct refs *r)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT p.ref FROM proposals p "
	    "JOIN lists l ON l.name = p.list JOIN lists w ON w.name = ?1 "
	    "WHERE p.state = 'open' AND " PROPOSALS_SCOPE_SQL
	    " ORDER BY p.year, p.seq", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "proposal forward");
		return -1;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		refs_add(r, (const char *)sqlite3_column_text(s, 0), NULL);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "proposal forward");
		return -1;
	}
	return 0;
}

static int
fwd_comment(const struct proposal_comment *cm, void *arg)
{
	struct items *it = arg;
	struct proposal_vars v;
	struct buf b = BUF_INIT;
	char n[32];

	memset(&v, 0, sizeof(v));
	snprintf(n, sizeof(n), "%d", ++it->n);
	proposal_vars_set(&v, "n", n);
	proposal_sched_local(&b, it->cf->timezone, (time_t)cm->ts, 1);
	proposal_vars_set(&v, "date", buf_cstr(&b));
	proposal_vars_set(&v, "author", proposal_display_name(it->cf,
	    it->lang, cm->name, &b));
	proposal_vars_set(&v, "comment_text", cm->body);
	template_render(it->cf, it->lang, "proposal-summary-comment", v.v,
	    v.n, &it->out);
	proposal_vars_free(&v);
	buf_free(&b);
	return 0;
}

/* One proposal of a summary, numbered n, with its comments in order. */
static int
fwd_item(const struct config *cf, struct store *st, const struct list *l,
    const struct proposal *p, int n, struct buf *out)
{
	struct items it = { cf, l->language, BUF_INIT, 0 };
	struct proposal_vars v;
	char num[32];
	int rc;

	if (proposal_comments_foreach(st, p->ref, fwd_comment, &it) != 0) {
		buf_free(&it.out);
		return -1;
	}
	if (it.n == 0) {
		proposal_label(&it.out, cf, l->language, "none");
		buf_addc(&it.out, '\n');
	}
	proposal_vars_init(&v, cf, l);
	proposal_vars_proposal(&v, cf, l, p);
	snprintf(num, sizeof(num), "%d", n);
	proposal_vars_set(&v, "n", num);
	proposal_vars_set(&v, "comment_list", buf_cstr(&it.out));
	rc = template_render(cf, l->language, "proposal-summary-item", v.v,
	    v.n, out);
	proposal_vars_free(&v);
	buf_free(&it.out);
	return rc;
}

/*
 * The summary to the institution (replies reach the moderators through
 * LIST-owner) and its copy to the list.
 */
static int
fwd_send(const struct config *cf, struct store *st, const struct list *l,
    struct proposal_vars *pv)
{
	struct proposal_out o;
	struct buf owner = BUF_INIT, to = BUF_INIT;
	int rc;

	compose_list_addr(&owner, cf, l, "owner");
	for (size_t i = 0; i < l->forward_to.n; i++)
		buf_printf(&to, "%s<%s>", i ? ", " : "", l->forward_to.v[i]);
	memset(&o, 0, sizeof(o));
	o.from = buf_cstr(&owner);
	o.reply_to = buf_cstr(&owner);
	o.to = buf_cstr(&to);
	o.rcpts = l->forward_to.v;
	o.nrcpts = l->forward_to.n;
	rc = proposal_mail_send(cf, st, l, "proposal-summary", pv, &o);
	if (rc == 0) {
		memset(&o, 0, sizeof(o));
		o.from = buf_cstr(&owner);
		o.list_copy = 1;
		rc = proposal_mail_send(cf, st, l, "proposal-summary-list", pv,
		    &o);
	}
	buf_free(&owner);
	buf_free(&to);
	return rc;
}

/*
 * Forward the open proposals of l's scope, inside the caller's
 * transaction.  With a period, only if that period was not forwarded
 * yet: returns 0 when it was, 1 when this call did it (*count may be 0:
 * nothing was open).  Without one, 1.  -1 on error.
 */
int
proposal_forward_list(const struct config *cf, struct store *st,
    const struct list *l, const char *period, long long now, int *count)
{
	struct refs r = { NULL, NULL, 0 };
	struct proposal *ps = NULL;
	struct proposal_vars pv;
	struct buf items = BUF_INIT, b = BUF_INIT;
	size_t i, got = 0;
	char n[32];
	int rc = -1;

	*count = 0;
	if (period && (rc = proposal_period_claim(st, l->name, period,
	    now)) <= 0)
		return rc;
	if (fwd_refs(st, l->name, &r) != 0)
		return -1;
	if (r.n == 0) {
		refs_free(&r);
		return 1;
	}
	ps = xcalloc(r.n, sizeof(*ps));
	proposal_vars_init(&pv, cf, l);
	for (i = 0; i < r.n; i++) {
		if (proposal_get(st, r.ref[i], &ps[got]) != 1)
			goto done;
		if (fwd_item(cf, st, l, &ps[got++], (int)i + 1, &items) != 0)
			goto done;
	}
	snprintf(n, sizeof(n), "%zu", r.n);
	proposal_vars_set(&pv, "count", n);
	proposal_vars_set(&pv, "items", buf_cstr(&items));
	proposal_sched_local(&b, cf->timezone, (time_t)now, 0);
	proposal_vars_set(&pv, "today", buf_cstr(&b));
	buf_reset(&b);
	for (i = 0; i < l->forward_to.n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", l->forward_to.v[i]);
	proposal_vars_set(&pv, "forward_to", buf_cstr(&b));
	/* Kept as sent, for the public page of this forward. */
	if (fwd_send(cf, st, l, &pv) != 0 || proposal_summary_keep(cf, st, l,
	    &pv, period, now, (int)r.n) != 0)
		goto done;
	for (i = 0; i < got; i++)
		if (proposal_set_forwarded(st, &ps[i], l->name, now) != 0 ||
		    proposal_mail_forwarded(cf, st, &ps[i], l) != 0)
			goto done;
	if (period && proposal_period_count(st, l->name, period,
	    (int)r.n) != 0)
		goto done;
	log_info("%s: %zu proposal%s forwarded to %s%s%s", l->name, r.n,
	    r.n == 1 ? "" : "s", buf_cstr(&b), period ? " for the period " :
	    "", period ? period : "");
	*count = (int)r.n;
	rc = 1;
done:
	for (i = 0; i < got; i++)
		proposal_clear(&ps[i]);
	free(ps);
	proposal_vars_free(&pv);
	refs_free(&r);
	buf_free(&items);
	buf_free(&b);
	return rc;
}

/*
 * mlserverctl forward [LIST]: forward now, each list in its own
 * transaction, narrowest scope first.  A line per list in report.
 * Returns the number of proposals forwarded, or -1.
 */
int
proposal_forward_now(const struct config *cf, struct store *st,
    const struct list *only, struct buf *report)
{
	long long now = (long long)time(NULL);
	int total = 0, count;

	for (int k = SCOPE_CHAPTER; k <= SCOPE_NETWORK; k++)
		for (size_t i = 0; i < cf->nlists; i++) {
			const struct list *l = &cf->lists[i];

			if ((int)l->scope != k || (only && l != only) ||
			    l->forward_to.n == 0)
				continue;
			if (store_begin(st) != 0)
				return -1;
			if (proposal_forward_list(cf, st, l, NULL, now,
			    &count) < 0 || store_commit(st) != 0) {
				store_rollback(st);
				return -1;
			}
			if (count > 0)
				buf_printf(report, "%s: %d proposal%s "
				    "forwarded\n", l->name, count,
				    count == 1 ? "" : "s");
			else
				buf_printf(report, "%s: no open proposals\n",
				    l->name);
			total += count;
		}
	return total;
}

/*
 * The scheduled forward of the period now is in, for every list that
 * has not done it yet.  *next is when to look again.  Returns the
 * number of summaries sent.
 */
static int
fwd_scheduled(const struct config *cf, struct store *st, time_t now,
    time_t *next)
{
	static char last_key[PROPOSAL_SCHED_KEY];
	const struct strv *sv = &cf->proposal_schedule;
	char key[PROPOSAL_SCHED_KEY];
	time_t when;
	int sent = 0, failed = 0, count, rc;

	if (!proposal_sched_latest(sv->v, sv->n, cf->timezone, now, &when,
	    key)) {
		*next = now + 3600;
		return 0;
	}
	if (!proposal_sched_next(sv->v, sv->n, cf->timezone, now, next))
		*next = now + 3600;
	if (strcmp(key, last_key) != 0) {
		struct buf b = BUF_INIT;

		proposal_sched_local(&b, cf->timezone, *next, 1);
		log_info("proposals: forwarding period %s; the next begins %s",
		    key, buf_cstr(&b));
		buf_free(&b);
		snprintf(last_key, sizeof(last_key), "%s", key);
	}
	for (int k = SCOPE_CHAPTER; k <= SCOPE_NETWORK; k++)
		for (size_t i = 0; i < cf->nlists; i++) {
			const struct list *l = &cf->lists[i];

			if ((int)l->scope != k || l->forward_to.n == 0)
				continue;
			if (store_begin(st) != 0) {
				failed = 1;
				continue;
			}
			rc = proposal_forward_list(cf, st, l, key,
			    (long long)now, &count);
			if (rc < 0 || store_commit(st) != 0) {
				store_rollback(st);
				failed = 1;
				continue;
			}
			sent += count > 0;
		}
	if (failed) {
		log_warnx("proposals: the forward of period %s failed for "
		    "some lists; trying again in a minute", key);
		*next = now + 60;
	}
	return sent;
}

/*
 * Remind the institution of list by of the proposals it has left
 * unanswered (refs), in one mail, and note when.
 */
static int
fwd_remind_list(const struct config *cf, struct store *st, const char *by,
    char **refs, size_t n, long long now)
{
	const struct list *l = config_list(cf, by);
	struct proposal_vars pv, v;
	struct proposal_out o;
	struct proposal p;
	struct buf items = BUF_INIT, b = BUF_INIT, owner = BUF_INIT,
	    to = BUF_INIT;
	char num[32];
	size_t i;
	int rc = -1;

	if (store_begin(st) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (proposal_set_reminded(st, refs[i], now) != 0)
			goto fail;
	if (l == NULL || l->forward_to.n == 0) {
		/* Nobody to remind any more; looked at again in N days. */
		log_warnx("proposals: %zu unanswered proposal%s forwarded by "
		    "%s, which no longer has forward_to", n, n == 1 ? "" : "s",
		    by);
		return store_commit(st);
	}
	for (i = 0; i < n; i++) {
		if (proposal_get(st, refs[i], &p) != 1)
			goto fail;
		proposal_vars_init(&v, cf, l);
		proposal_vars_proposal(&v, cf, l, &p);
		buf_reset(&b);
		proposal_sched_local(&b, cf->timezone, (time_t)p.forwarded, 0);
		proposal_vars_set(&v, "forwarded", buf_cstr(&b));
		snprintf(num, sizeof(num), "%lld", (now - p.forwarded) / 86400);
		proposal_vars_set(&v, "days", num);
		buf_reset(&b);
		if (*p.answer)
			buf_adds(&b, p.answer);
		else
			proposal_label(&b, cf, l->language, "none");
		proposal_vars_set(&v, "note", buf_cstr(&b));
		template_render(cf, l->language, "proposal-reminder-item", v.v,
		    v.n, &items);
		proposal_vars_free(&v);
		proposal_clear(&p);
	}
	proposal_vars_init(&pv, cf, l);
	snprintf(num, sizeof(num), "%zu", n);
	proposal_vars_set(&pv, "count", num);
	proposal_vars_set(&pv, "items", buf_cstr(&items));
	compose_list_addr(&owner, cf, l, "owner");
	for (i = 0; i < l->forward_to.n; i++)
		buf_printf(&to, "%s<%s>", i ? ", " : "", l->forward_to.v[i]);
	memset(&o, 0, sizeof(o));
	o.from = buf_cstr(&owner);
	o.reply_to = buf_cstr(&owner);
	o.to = buf_cstr(&to);
	o.rcpts = l->forward_to.v;
	o.nrcpts = l->forward_to.n;
	rc = proposal_mail_send(cf, st, l, "proposal-reminder", &pv, &o);
	proposal_vars_free(&pv);
	if (rc != 0)
		goto fail;
	log_info("%s: reminder of %zu unanswered proposal%s sent to %s",
	    l->name, n, n == 1 ? "" : "s", buf_cstr(&to));
	rc = store_commit(st);
	goto done;
fail:
	store_rollback(st);
	rc = -1;
done:
	buf_free(&items);
	buf_free(&b);
	buf_free(&owner);
	buf_free(&to);
	return rc;
}

/*
 * Remind of the proposals forwarded and unanswered for
 * proposal_reminder seconds, one mail per forwarding list.  Returns
 * the number of reminders sent, or -1.
 */
int
proposal_forward_remind(const struct config *cf, struct store *st,
    long long now)
{
	struct refs r = { NULL, NULL, 0 };
	sqlite3_stmt *s;
	size_t i, j;
	int rc, sent = 0;

	s = store_stmt(st, "SELECT ref, forwarded_by FROM proposals WHERE "
	    "state = 'forwarded' AND max(forwarded, answered, reminded) <= ?1 "
	    "ORDER BY forwarded_by, year, seq");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now - cf->proposal_reminder);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		refs_add(&r, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "proposal reminders");
		refs_free(&r);
		return -1;
	}
	for (i = 0; i < r.n; i = j) {
		for (j = i + 1; j < r.n && strcmp(r.by[j], r.by[i]) == 0; j++)
			;
		if (fwd_remind_list(cf, st, r.by[i], r.ref + i, j - i,
		    now) != 0) {
			sent = -1;
			break;
		}
		sent++;
	}
	refs_free(&r);
	return sent;
}

/*
 * From the daemon's processor loop: the scheduled forward when a new
 * period has begun (or the configuration changed), and the reminders.
 * At most once a second.  Returns how many mails were queued, so the
 * caller can wake the deliverer.  Only the processor thread calls it.
 */
int
proposal_forward_tick(const struct config *cf, struct store *st)
{
	static time_t last, next_due;
	static const struct config *last_cf;
	time_t now = time(NULL);
	int sent = 0, n;

	if (now == last)
		return 0;
	last = now;
	if (cf != last_cf || now >= next_due) {
		sent += fwd_scheduled(cf, st, now, &next_due);
		last_cf = cf;
	}
	if ((n = proposal_forward_remind(cf, st, (long long)now)) > 0)
		sent += n;
	return sent;
}
