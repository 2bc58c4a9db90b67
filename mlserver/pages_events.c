/*
 * pages_events - the event pages and the calendar feed of an archived
 * list:
 *
 *	DIR/events/index.html	upcoming events (soonest first) and past
 *				ones (latest first): date, place, seats left
 *	DIR/events/E12.html	one event
 *	DIR/events.ics		every event of the scope, for calendar
 *				programs to subscribe to (feed_ics.c)
 *
 * The scope is the proposals' one: a chapter list shows its own events,
 * a region list its own and its chapters' (so its events.ics is the
 * region's feed), a network list every event.  Who answered is never
 * shown, only how many seats are left: the roster is for organizers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "event_date.h"
#include "events.h"
#include "html.h"
#include "log.h"
#include "pages.h"
#include "proposals.h"
#include "template.h"
#include "xmalloc.h"

struct pe {
	const struct config	*cf;
	struct store		*st;
	const struct list	*w;
	const char		*lang;
	const char		*dir;	/* DIR/events */
	time_t			 now;
};

static int	 pe_load(struct pe *, struct event **, size_t *);
static int	 pe_past(const struct event *, time_t);
static void	 pe_say(struct pe *, struct buf *, const char *);
static void	 pe_seats(struct pe *, struct buf *, const struct event *);
static void	 pe_head(struct pe *, struct buf *, const char *);
static void	 pe_feed(struct pe *, struct buf *);
static int	 pe_event(struct pe *, const struct event *);
static void	 pe_item(struct pe *, struct buf *, const struct event *);
static int	 pe_index(struct pe *, const struct event *, size_t);
static int	 pe_ics(struct pe *, const struct event *, size_t);

/* Every event of w's scope, by start, with its seat counts. */
static int
pe_load(struct pe *pe, struct event **out, size_t *n)
{
	sqlite3_stmt *s = store_stmt(pe->st, "SELECT e.id FROM events e "
	    "JOIN lists l ON l.name = e.list JOIN lists w ON w.name = ?1 "
	    "WHERE " PROPOSALS_SCOPE_SQL " ORDER BY e.starts, e.id");
	long long *ids = NULL;
	size_t nids = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, pe->w->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
		ids[nids++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(pe->st, "pages: events");
		free(ids);
		return -1;
	}
	*out = xcalloc(nids + 1, sizeof(**out));
	for (i = 0; i < nids; i++) {
		if (events_get(pe->st, ids[i], &(*out)[*n]) != 1) {
			free(ids);
			return -1;
		}
		(*n)++;
	}
	free(ids);
	return 0;
}

/* Over: as events_foreach_upcoming decides it. */
static int
pe_past(const struct event *e, time_t now)
{
	time_t end = e->when.allday ? (e->when.end > e->when.start ?
	    e->when.end : e->when.start) + 86400 : e->when.end > 0 ?
	    e->when.end : e->when.start;

	return end <= now;
}

static void
pe_say(struct pe *pe, struct buf *b, const char *key)
{
	pages_say(b, pe->cf, pe->lang, key, NULL, 0);
}

/* Seats left, or full with the waitlist's length, or no limit. */
static void
pe_seats(struct pe *pe, struct buf *b, const struct event *e)
{
	char n[32], cap[32];
	struct tvar v[2] = { { "n", n }, { "cap", cap } };
	int left = e->capacity - e->taken;

	if (e->capacity == 0) {
		pe_say(pe, b, "seats-open");
		return;
	}
	snprintf(cap, sizeof(cap), "%d", e->capacity);
	if (left > 0) {
		snprintf(n, sizeof(n), "%d", left);
		pages_say(b, pe->cf, pe->lang, "seats-n", v, 2);
	} else if (e->waiting > 0) {
		snprintf(n, sizeof(n), "%d", e->waiting);
		pages_say(b, pe->cf, pe->lang, "seats-full", v, 2);
	} else
		pe_say(pe, b, "seats-full-none");
}

static void
pe_head(struct pe *pe, struct buf *b, const char *title)
{
	struct tvar v = { "list", pages_from(pe->cf, pe->w->name) };

	html_begin(b, pe->lang, title, "../");
	buf_adds(b, "<nav><a href=\"index.html\">");
	pe_say(pe, b, "back-events");
	buf_adds(b, "</a> | <a href=\"../proposals/index.html\">");
	pages_say(b, pe->cf, pe->lang, "proposals-title", &v, 1);
	buf_adds(b, "</a> | <a href=\"../events.ics\">");
	pe_say(pe, b, "feed");
	buf_adds(b, "</a></nav>\n<h1>");
	html_escapes(b, title);
	buf_adds(b, "</h1>\n");
}

/* How to subscribe: the feed's address, and a webcal: link to it. */
static void
pe_feed(struct pe *pe, struct buf *b)
{
	struct buf url = BUF_INIT;

	buf_adds(b, "<h2>");
	pe_say(pe, b, "feed");
	buf_adds(b, "</h2>\n<p>");
	pe_say(pe, b, "feed-help");
	buf_adds(b, "</p>\n");
	pages_url(&url, pe->w, "events.ics");
	if (url.len == 0) {
		buf_adds(b, "<p><a href=\"../events.ics\">events.ics</a></p>\n");
		return;
	}
	buf_adds(b, "<p><a href=\"");
	html_escapes(b, buf_cstr(&url));
	buf_adds(b, "\">");
	html_escapes(b, buf_cstr(&url));
	buf_adds(b, "</a>");
	if (strncmp(buf_cstr(&url), "https://", 8) == 0 ||
	    strncmp(buf_cstr(&url), "http://", 7) == 0) {
		buf_adds(b, " (<a href=\"webcal://");
		html_escapes(b, strstr(buf_cstr(&url), "://") + 3);
		buf_adds(b, "\">webcal</a>)");
	}
	buf_adds(b, "</p>\n");
	buf_free(&url);
}

/* E12.html */
static int
pe_event(struct pe *pe, const struct event *e)
{
	struct buf b = BUF_INIT, name = BUF_INIT;
	int rc;

	pe_head(pe, &b, e->title);
	if (e->cancelled) {
		buf_adds(&b, "<p class=\"cancelled\"><strong>");
		pe_say(pe, &b, "cancelled-note");
		buf_adds(&b, "</strong></p>\n");
	}
	buf_adds(&b, "<dl class=\"meta\"><dt>");
	pe_say(pe, &b, "when");
	buf_adds(&b, "</dt><dd>");
	event_date_format(&name, pe->lang, pe->cf->timezone, &e->when);
	html_escapes(&b, buf_cstr(&name));
	buf_adds(&b, "</dd>");
	if (e->place && *e->place) {
		buf_adds(&b, "<dt>");
		pe_say(pe, &b, "place");
		buf_adds(&b, "</dt><dd>");
		html_escapes(&b, e->place);
		buf_adds(&b, "</dd>");
	}
	buf_adds(&b, "<dt>");
	pe_say(pe, &b, "host");
	buf_adds(&b, "</dt><dd>");
	html_escapes(&b, pages_from(pe->cf, e->list));
	buf_adds(&b, "</dd><dt>");
	pe_say(pe, &b, "seats");
	buf_adds(&b, "</dt><dd class=\"seats\">");
	pe_seats(pe, &b, e);
	buf_adds(&b, "</dd>");
	if (e->deadline) {
		buf_adds(&b, "<dt>");
		pe_say(pe, &b, "deadline");
		buf_adds(&b, "</dt><dd>");
		pages_date(&b, pe->cf, e->deadline, 1);
		buf_adds(&b, "</dd>");
	}
	buf_adds(&b, "</dl>\n");
	if (e->description && *e->description)
		pages_text(&b, e->description);
	if (!e->cancelled && !pe_past(e, pe->now)) {
		buf_adds(&b, "<p>");
		pe_say(pe, &b, "how");
		buf_adds(&b, "</p>\n");
	}
	pe_feed(pe, &b);
	html_end(&b);
	buf_reset(&name);
	buf_printf(&name, "%s.html", e->ref);
	rc = pages_put(pe->dir, buf_cstr(&name), &b);
	buf_free(&b);
	buf_free(&name);
	return rc;
}

static void
pe_item(struct pe *pe, struct buf *b, const struct event *e)
{
	struct buf when = BUF_INIT;

	event_date_format(&when, pe->lang, pe->cf->timezone, &e->when);
	buf_printf(b, "<li><a href=\"%s.html\">", e->ref);
	html_escapes(b, buf_cstr(&when));
	buf_adds(b, "</a> ");
	if (e->cancelled) {
		buf_adds(b, "<strong>[");
		pe_say(pe, b, "cancelled");
		buf_adds(b, "]</strong> ");
	}
	html_escapes(b, e->title);
	buf_adds(b, "<br><span class=\"meta\">");
	html_escapes(b, pages_from(pe->cf, e->list));
	if (e->place && *e->place) {
		buf_adds(b, " · ");
		html_escapes(b, e->place);
	}
	if (!e->cancelled) {
		buf_adds(b, " · ");
		pe_seats(pe, b, e);
	}
	buf_adds(b, "</span></li>\n");
	buf_free(&when);
}

static int
pe_index(struct pe *pe, const struct event *ev, size_t n)
{
	struct buf b = BUF_INIT, t = BUF_INIT, x = BUF_INIT;
	struct tvar v = { "list", pages_from(pe->cf, pe->w->name) };
	size_t i, k = 0;
	int rc;

	pages_label(&t, pe->cf, pe->lang, "events-title");
	template_expand(&x, buf_cstr(&t), &v, 1);
	pe_head(pe, &b, buf_cstr(&x));
	buf_adds(&b, "<h2>");
	pe_say(pe, &b, "upcoming");
	buf_adds(&b, "</h2>\n<ul class=\"upcoming\">\n");
	for (i = 0; i < n; i++)
		if (!pe_past(&ev[i], pe->now)) {
			pe_item(pe, &b, &ev[i]);
			k++;
		}
	buf_adds(&b, "</ul>\n");
	if (k == 0) {
		buf_adds(&b, "<p>");
		pe_say(pe, &b, "no-upcoming");
		buf_adds(&b, "</p>\n");
	}
	buf_adds(&b, "<h2>");
	pe_say(pe, &b, "past");
	buf_adds(&b, "</h2>\n<ul class=\"past\">\n");
	for (i = n, k = 0; i > 0; i--)
		if (pe_past(&ev[i - 1], pe->now)) {
			pe_item(pe, &b, &ev[i - 1]);
			k++;
		}
	buf_adds(&b, "</ul>\n");
	if (k == 0) {
		buf_adds(&b, "<p>");
		pe_say(pe, &b, "no-past");
		buf_adds(&b, "</p>\n");
	}
	pe_feed(pe, &b);
	html_end(&b);
	rc = pages_put(pe->dir, "index.html", &b);
	buf_free(&b);
	buf_free(&t);
	buf_free(&x);
	return rc;
}

static int
pe_ics(struct pe *pe, const struct event *ev, size_t n)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	if (feed_ics_build(pe->cf, pe->w, ev, n, &b) == 0)
		rc = pages_put(pe->w->archive->dir, "events.ics", &b);
	buf_free(&b);
	return rc;
}

/* Every event page and the feed of archived list w.  0 or -1. */
int
pages_events_write(const struct config *cf, struct store *st,
    const struct list *w, time_t now)
{
	struct pe pe;
	struct buf dir = BUF_INIT;
	struct event *ev = NULL;
	size_t n = 0, i;
	int rc = 0;

	memset(&pe, 0, sizeof(pe));
	pe.cf = cf;
	pe.st = st;
	pe.w = w;
	pe.lang = pages_lang(cf, w);
	pe.now = now;
	buf_printf(&dir, "%s/events", w->archive->dir);
	pe.dir = buf_cstr(&dir);
	if (pe_load(&pe, &ev, &n) != 0)
		rc = -1;
	for (i = 0; i < n && rc == 0; i++)
		if (pe_event(&pe, &ev[i]) != 0)
			rc = -1;
	if (rc == 0 && (pe_index(&pe, ev, n) != 0 || pe_ics(&pe, ev, n) != 0))
		rc = -1;
	for (i = 0; i < n; i++)
		event_clear(&ev[i]);
	free(ev);
	buf_free(&dir);
	return rc;
}
