/*
 * pages_proposals - the proposal pages of an archived list, in
 * DIR/proposals/:
 *
 *	index.html		every published proposal of the list's scope,
 *				newest first, with its state
 *	P-YYYY-NNNN.html	one proposal: state, dated history, the
 *				number of supporters (never who), the text,
 *				the comments in order, the institution's answer
 *	forward-N.html		a summary the list forwarded, as it was sent
 *	unanswered.html		forwarded proposals still unanswered and the
 *				days each has waited: the accountability page
 *
 * A proposal is published once a moderator approved it (opened > 0), as
 * the `proposal REF` command shows it to anyone.  Mail addresses never
 * appear: people are named as they signed, and addresses in the texts
 * are written the way html_addr writes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "html.h"
#include "log.h"
#include "pages.h"
#include "proposal_mail.h"
#include "proposal_summary.h"
#include "proposals.h"
#include "template.h"
#include "xmalloc.h"

/* What one writing of a list's pages carries along. */
struct pp {
	const struct config	*cf;
	struct store		*st;
	const struct list	*w;
	const char		*lang;
	const char		*dir;	/* DIR/proposals */
	time_t			 now;
	struct buf		 index;		/* the index's items */
	struct buf		 waiting;	/* the unanswered rows */
	struct buf		 sums;		/* the summaries' items */
	struct buf		*page;		/* the page being written */
	int			 nwaiting;
	int			 failed;
};

static int	 pp_refs(struct pp *, char ***, size_t *);
static void	 pp_say(struct pp *, struct buf *, const char *);
static void	 pp_sayn(struct pp *, struct buf *, const char *, long long);
static void	 pp_state(struct pp *, struct buf *, const char *);
static void	 pp_head(struct pp *, struct buf *, const char *);
static int	 pp_history(const struct proposal_event *, void *);
static int	 pp_comment(const struct proposal_comment *, void *);
static void	 pp_answer(struct pp *, struct buf *,
		    const struct proposal *);
static int	 pp_proposal(struct pp *, const struct proposal *);
static void	 pp_index_item(struct pp *, const struct proposal *);
static void	 pp_waiting_row(struct pp *, const struct proposal *);
static int	 pp_summary(const struct proposal_summary *, void *);
static int	 pp_index(struct pp *);
static int	 pp_unanswered(struct pp *);
static int	 pp_by_forwarded(const void *, const void *);

/* The published proposals of w's scope, newest first. */
static int
pp_refs(struct pp *pp, char ***refs, size_t *n)
{
	sqlite3_stmt *s = store_stmt(pp->st, "SELECT p.ref FROM proposals p "
	    "JOIN lists l ON l.name = p.list JOIN lists w ON w.name = ?1 "
	    "WHERE p.opened > 0 AND " PROPOSALS_SCOPE_SQL " ORDER BY "
	    "p.year DESC, p.seq DESC");
	int rc;

	*refs = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, pp->w->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*refs = xrealloc(*refs, (*n + 1) * sizeof(**refs));
		(*refs)[(*n)++] = xstrdup((const char *)
		    sqlite3_column_text(s, 0));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(pp->st, "pages: proposals");
		return -1;
	}
	return 0;
}

static void
pp_say(struct pp *pp, struct buf *b, const char *key)
{
	pages_say(b, pp->cf, pp->lang, key, NULL, 0);
}

static void
pp_sayn(struct pp *pp, struct buf *b, const char *key, long long n)
{
	char num[32];
	struct tvar v = { "n", num };

	snprintf(num, sizeof(num), "%lld", n);
	pages_say(b, pp->cf, pp->lang, key, &v, 1);
}

/* A word of proposal-labels (a state, a history event), escaped. */
static void
pp_state(struct pp *pp, struct buf *b, const char *key)
{
	struct buf t = BUF_INIT;

	proposal_label(&t, pp->cf, pp->lang, key);
	html_escapes(b, buf_cstr(&t));
	buf_free(&t);
}

/* A page's top: title and the way to the other pages. */
static void
pp_head(struct pp *pp, struct buf *b, const char *title)
{
	html_begin(b, pp->lang, title, "../");
	buf_adds(b, "<nav><a href=\"index.html\">");
	pp_say(pp, b, "back-proposals");
	buf_adds(b, "</a> | <a href=\"unanswered.html\">");
	pp_say(pp, b, "unanswered");
	buf_adds(b, "</a> | <a href=\"../events/index.html\">");
	{
		struct tvar v = { "list", pages_from(pp->cf, pp->w->name) };

		pages_say(b, pp->cf, pp->lang, "events-title", &v, 1);
	}
	buf_adds(b, "</a></nav>\n<h1>");
	html_escapes(b, title);
	buf_adds(b, "</h1>\n");
}

static int
pp_history(const struct proposal_event *e, void *arg)
{
	struct pp *pp = arg;
	struct buf *b = pp->page, key = BUF_INIT;

	buf_adds(b, "<li>");
	pages_date(b, pp->cf, (time_t)e->ts, 0);
	buf_adds(b, " ");
	buf_printf(&key, "event-%s", e->event);
	pp_state(pp, b, buf_cstr(&key));
	buf_free(&key);
	/* A progress report is news; the final answer has its section. */
	if (strcmp(e->event, "in_progress") == 0 && e->note && *e->note)
		pages_text(b, e->note);
	buf_adds(b, "</li>\n");
	return 0;
}

static int
pp_comment(const struct proposal_comment *c, void *arg)
{
	struct pp *pp = arg;
	struct buf *b = pp->page, name = BUF_INIT;

	buf_adds(b, "<li><p class=\"meta\">");
	pages_date(b, pp->cf, (time_t)c->ts, 1);
	buf_adds(b, " ");
	html_escapes(b, proposal_display_name(pp->cf, pp->lang, c->name,
	    &name));
	buf_adds(b, "</p>\n");
	pages_text(b, c->body);
	buf_adds(b, "</li>\n");
	buf_free(&name);
	return 0;
}

/* The institution's answer, once the proposal was forwarded. */
static void
pp_answer(struct pp *pp, struct buf *b, const struct proposal *p)
{
	if (p->forwarded == 0)
		return;
	buf_adds(b, "<h2>");
	pp_say(pp, b, "answer");
	buf_adds(b, "</h2>\n");
	if (p->state != PROPOSAL_ANSWERED && p->state != PROPOSAL_REJECTED) {
		buf_adds(b, "<p>");
		pp_say(pp, b, "no-answer");
		buf_adds(b, "</p>\n");
		return;
	}
	buf_adds(b, "<dl class=\"meta\"><dt>");
	pp_say(pp, b, "answer-on");
	buf_adds(b, "</dt><dd>");
	pages_date(b, pp->cf, (time_t)p->answered, 0);
	buf_adds(b, "</dd><dt>");
	pp_say(pp, b, "state");
	buf_adds(b, "</dt><dd>");
	pp_state(pp, b, proposal_state_name(p->state));
	buf_adds(b, "</dd></dl>\n");
	pages_text(b, p->answer);
}

/* P-YYYY-NNNN.html */
static int
pp_proposal(struct pp *pp, const struct proposal *p)
{
	struct buf b = BUF_INIT, t = BUF_INIT;
	int rc;

	buf_printf(&t, "%s %s", p->ref, p->title);
	pp_head(pp, &b, buf_cstr(&t));
	buf_adds(&b, "<dl class=\"meta\"><dt>");
	pp_say(pp, &b, "state");
	buf_adds(&b, "</dt><dd>");
	pp_state(pp, &b, proposal_state_name(p->state));
	buf_adds(&b, "</dd><dt>");
	pp_say(pp, &b, "from");
	buf_adds(&b, "</dt><dd>");
	html_escapes(&b, pages_from(pp->cf, p->list));
	buf_adds(&b, "</dd><dt>");
	pp_say(pp, &b, "submitted-on");
	buf_adds(&b, "</dt><dd>");
	pages_date(&b, pp->cf, (time_t)p->created, 0);
	buf_adds(&b, "</dd>");
	if (p->theme && *p->theme) {
		buf_adds(&b, "<dt>");
		pp_say(pp, &b, "theme");
		buf_adds(&b, "</dt><dd>");
		html_escapes(&b, p->theme);
		buf_adds(&b, "</dd>");
	}
	buf_adds(&b, "<dt>");
	pp_say(pp, &b, "supporters");
	buf_adds(&b, "</dt><dd>");
	pp_sayn(pp, &b, "people", p->supporters);
	buf_adds(&b, "</dd></dl>\n<h2>");
	pp_say(pp, &b, "text");
	buf_adds(&b, "</h2>\n");
	pages_text(&b, p->body);
	buf_adds(&b, "<h2>");
	pp_say(pp, &b, "history");
	buf_adds(&b, "</h2>\n<ol>\n");
	pp->page = &b;
	rc = proposal_history_foreach(pp->st, p->ref, pp_history, pp);
	buf_adds(&b, "</ol>\n");
	pp_answer(pp, &b, p);
	buf_adds(&b, "<h2>");
	pp_sayn(pp, &b, "comments-n", p->comments);
	buf_adds(&b, "</h2>\n<ol>\n");
	if (rc == 0)
		rc = proposal_comments_foreach(pp->st, p->ref, pp_comment, pp);
	buf_adds(&b, "</ol>\n");
	html_end(&b);
	buf_reset(&t);
	buf_printf(&t, "%s.html", p->ref);
	if (rc == 0)
		rc = pages_put(pp->dir, buf_cstr(&t), &b);
	buf_free(&b);
	buf_free(&t);
	return rc;
}

static void
pp_index_item(struct pp *pp, const struct proposal *p)
{
	struct buf *b = &pp->index;

	buf_printf(b, "<li><a href=\"%s.html\">%s</a> [", p->ref, p->ref);
	pp_state(pp, b, proposal_state_name(p->state));
	buf_adds(b, "] ");
	html_escapes(b, p->title);
	buf_adds(b, "<br><span class=\"meta\">");
	html_escapes(b, pages_from(pp->cf, p->list));
	buf_adds(b, " · ");
	pages_date(b, pp->cf, (time_t)p->created, 0);
	buf_adds(b, " · ");
	pp_say(pp, b, "supporters");
	buf_adds(b, " ");
	pp_sayn(pp, b, "people", p->supporters);
	buf_adds(b, " · ");
	pp_say(pp, b, "comments");
	buf_printf(b, " %lld</span></li>\n", p->comments);
}

/* A row of unanswered.html: how long the institution has had it. */
static void
pp_waiting_row(struct pp *pp, const struct proposal *p)
{
	struct buf *b = &pp->waiting;
	long long days = ((long long)pp->now - p->forwarded) / 86400;

	if (days < 0)
		days = 0;
	buf_printf(b, "<tr><td><a href=\"%s.html\">%s</a> ", p->ref, p->ref);
	html_escapes(b, p->title);
	buf_adds(b, "<br><span class=\"meta\">");
	html_escapes(b, pages_from(pp->cf, p->list));
	buf_adds(b, "</span></td><td>");
	pages_date(b, pp->cf, (time_t)p->forwarded, 0);
	buf_adds(b, "</td><td class=\"days\">");
	pp_sayn(pp, b, "days-n", days);
	buf_adds(b, "</td><td>");
	if (p->answered > 0 && strcmp(p->answer_state, "in_progress") == 0)
		pages_date(b, pp->cf, (time_t)p->answered, 0);
	else
		buf_adds(b, "-");
	buf_adds(b, "</td></tr>\n");
	pp->nwaiting++;
}

/* forward-N.html, and its line in the index. */
static int
pp_summary(const struct proposal_summary *s, void *arg)
{
	struct pp *pp = arg;
	struct buf b = BUF_INIT, date = BUF_INIT, name = BUF_INIT;
	struct buf title = BUF_INIT;
	struct tvar v = { "date", NULL };
	int rc;

	pages_date(&date, pp->cf, (time_t)s->ts, 0);
	v.value = buf_cstr(&date);
	pages_label(&title, pp->cf, pp->lang, "summary-title");
	{
		struct buf x = BUF_INIT;

		template_expand(&x, buf_cstr(&title), &v, 1);
		buf_reset(&title);
		buf_adds(&title, buf_cstr(&x));
		buf_free(&x);
	}
	pp_head(pp, &b, buf_cstr(&title));
	buf_adds(&b, "<p>");
	pages_say(&b, pp->cf, pp->lang, "summary-intro", &v, 1);
	buf_adds(&b, "</p>\n<h2>");
	html_escapes(&b, s->subject);
	buf_adds(&b, "</h2>\n");
	pages_text(&b, s->body);
	html_end(&b);
	buf_printf(&name, "forward-%lld.html", s->id);
	rc = pages_put(pp->dir, buf_cstr(&name), &b);
	buf_printf(&pp->sums, "<li><a href=\"%s\">", buf_cstr(&name));
	html_escapes(&pp->sums, buf_cstr(&title));
	buf_adds(&pp->sums, "</a> ");
	pp_sayn(pp, &pp->sums, "items", s->count);
	buf_adds(&pp->sums, "</li>\n");
	buf_free(&b);
	buf_free(&date);
	buf_free(&name);
	buf_free(&title);
	return rc;
}

static int
pp_index(struct pp *pp)
{
	struct buf b = BUF_INIT, t = BUF_INIT;
	struct tvar v = { "list", pages_from(pp->cf, pp->w->name) };
	int rc;

	pages_label(&t, pp->cf, pp->lang, "proposals-title");
	{
		struct buf x = BUF_INIT;

		template_expand(&x, buf_cstr(&t), &v, 1);
		pp_head(pp, &b, buf_cstr(&x));
		buf_free(&x);
	}
	buf_adds(&b, "<p>");
	pp_say(pp, &b, "proposals-intro");
	buf_adds(&b, "</p>\n");
	if (pp->index.len == 0) {
		buf_adds(&b, "<p>");
		pp_say(pp, &b, "no-proposals");
		buf_adds(&b, "</p>\n");
	} else {
		buf_adds(&b, "<ul class=\"proposals\">\n");
		buf_add(&b, pp->index.data, pp->index.len);
		buf_adds(&b, "</ul>\n");
	}
	if (pp->sums.len) {
		buf_adds(&b, "<h2>");
		pp_say(pp, &b, "summaries");
		buf_adds(&b, "</h2>\n<ul>\n");
		buf_add(&b, pp->sums.data, pp->sums.len);
		buf_adds(&b, "</ul>\n");
	}
	html_end(&b);
	rc = pages_put(pp->dir, "index.html", &b);
	buf_free(&b);
	buf_free(&t);
	return rc;
}

static int
pp_unanswered(struct pp *pp)
{
	struct buf b = BUF_INIT, t = BUF_INIT, d = BUF_INIT;
	struct tvar v = { "date", NULL };
	int rc;

	pages_label(&t, pp->cf, pp->lang, "unanswered");
	pp_head(pp, &b, buf_cstr(&t));
	pages_date(&d, pp->cf, pp->now, 0);
	v.value = buf_cstr(&d);
	buf_adds(&b, "<p>");
	pp_say(pp, &b, "unanswered-intro");
	buf_adds(&b, "</p>\n<p class=\"meta\">");
	pages_say(&b, pp->cf, pp->lang, "as-of", &v, 1);
	buf_adds(&b, "</p>\n");
	if (pp->nwaiting == 0) {
		buf_adds(&b, "<p>");
		pp_say(pp, &b, "unanswered-none");
		buf_adds(&b, "</p>\n");
	} else {
		buf_adds(&b, "<table class=\"unanswered\">\n<tr><th></th><th>");
		pp_say(pp, &b, "forwarded-on");
		buf_adds(&b, "</th><th>");
		pp_say(pp, &b, "days");
		buf_adds(&b, "</th><th>");
		pp_say(pp, &b, "last-news");
		buf_adds(&b, "</th></tr>\n");
		buf_add(&b, pp->waiting.data, pp->waiting.len);
		buf_adds(&b, "</table>\n");
	}
	html_end(&b);
	rc = pages_put(pp->dir, "unanswered.html", &b);
	buf_free(&b);
	buf_free(&t);
	buf_free(&d);
	return rc;
}

static int
pp_by_forwarded(const void *a, const void *b)
{
	const struct proposal *x = a, *y = b;

	if (x->forwarded != y->forwarded)
		return x->forwarded < y->forwarded ? -1 : 1;
	return strcmp(x->ref, y->ref);
}

/* Every proposal page of archived list w.  0 or -1. */
int
pages_proposals_write(const struct config *cf, struct store *st,
    const struct list *w, time_t now)
{
	struct pp pp;
	struct buf dir = BUF_INIT;
	struct proposal *waiting = NULL;
	char **refs = NULL;
	size_t n = 0, nw = 0, i;
	int rc = 0;

	memset(&pp, 0, sizeof(pp));
	pp.cf = cf;
	pp.st = st;
	pp.w = w;
	pp.lang = pages_lang(cf, w);
	pp.now = now;
	buf_printf(&dir, "%s/proposals", w->archive->dir);
	pp.dir = buf_cstr(&dir);
	if (pp_refs(&pp, &refs, &n) != 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct proposal p;

		if (proposal_get(st, refs[i], &p) != 1) {
			rc = -1;
			break;
		}
		if (pp_proposal(&pp, &p) != 0)
			rc = -1;
		pp_index_item(&pp, &p);
		if (p.state == PROPOSAL_FORWARDED) {
			waiting = xrealloc(waiting, (nw + 1) *
			    sizeof(*waiting));
			waiting[nw++] = p;
		} else
			proposal_clear(&p);
	}
	/* Longest wait first. */
	if (nw > 1)
		qsort(waiting, nw, sizeof(*waiting), pp_by_forwarded);
	for (i = 0; i < nw; i++)
		pp_waiting_row(&pp, &waiting[i]);
	if (rc == 0 && proposal_summary_foreach(st, w->name, pp_summary,
	    &pp) != 0)
		rc = -1;
	if (rc == 0 && (pp_index(&pp) != 0 || pp_unanswered(&pp) != 0))
		rc = -1;
	for (i = 0; i < nw; i++)
		proposal_clear(&waiting[i]);
	free(waiting);
	for (i = 0; i < n; i++)
		free(refs[i]);
	free(refs);
	buf_free(&pp.index);
	buf_free(&pp.waiting);
	buf_free(&pp.sums);
	buf_free(&dir);
	return rc;
}
