/*
 * pages - the public record on the web: each archived list's proposal
 * pages (DIR/proposals/), event pages (DIR/events/) and calendar feed
 * (DIR/events.ics), kept up to date after every change.
 *
 * What changed is noted in the database, in the transaction of the
 * change itself: triggers on the proposal and event tables (pages_schema)
 * mark the list the proposal or event belongs to in pages_dirty.  Every
 * path that changes the record (mail, commands, mlserverctl, the
 * scheduler, another process) is covered without remembering to call
 * anything, and a mark survives a crash or restart until the pages are
 * rewritten.  pages_run(), called by the daemon's processor, rewrites the
 * pages of every archived list whose scope takes a marked list (a region
 * list shows its chapters' proposals and events; a network list shows
 * all), and once an hour all of them, since "days waited" and "upcoming"
 * change with the clock alone.  A file whose content did not change is
 * not rewritten.
 *
 * Lists without `archive` get no pages.
 */
#ifndef MLS_PAGES_H
#define MLS_PAGES_H

#include <stddef.h>
#include <time.h>

#include "store.h"

struct buf;
struct config;
struct list;
struct tvar;

#define PAGES_PROPOSALS	0x01
#define PAGES_EVENTS	0x02
#define PAGES_ALL	(PAGES_PROPOSALS | PAGES_EVENTS)

extern const struct store_schema pages_schema;

int	 pages_run(const struct config *, struct store *);
int	 pages_write_list(const struct config *, struct store *,
	    const struct list *, unsigned what, time_t now);
int	 pages_ctl(const struct config *, struct store *, int argc,
	    char **argv, struct buf *out);

/* For the page writers (pages_proposals.c, pages_events.c). */
int	 pages_scope_has(const struct config *, const struct list *w,
	    const char *list);
int	 pages_put(const char *dir, const char *name, struct buf *);
void	 pages_text(struct buf *, const char *text);
void	 pages_label(struct buf *, const struct config *, const char *lang,
	    const char *key);
void	 pages_say(struct buf *, const struct config *, const char *lang,
	    const char *key, const struct tvar *, size_t);
void	 pages_date(struct buf *, const struct config *, time_t,
	    int with_time);
const char *pages_lang(const struct config *, const struct list *);

int	 pages_proposals_write(const struct config *, struct store *,
	    const struct list *, time_t now);
int	 pages_events_write(const struct config *, struct store *,
	    const struct list *, time_t now);
void	 pages_plain(struct buf *, const char *text);
const char *pages_from(const struct config *, const char *list);
void	 pages_url(struct buf *, const struct list *, const char *path);

/* feed_ics.c: the iCalendar feed of events (struct event, events.h). */
struct event;
int	 feed_ics_build(const struct config *, const struct list *,
	    const struct event *, size_t, struct buf *);

#endif
