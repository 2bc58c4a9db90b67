/*
 * events - the store and the rules of answers; see events.h.
 *
 * A waitlisted answer is a "yes" row with a waitseq: its place in line,
 * taken from a counter per event, so a person who answers "yes" again
 * while waiting keeps their place.  Seats are never stored, always
 * summed from the rows, so no count can drift from the answers.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "buf.h"
#include "events.h"
#include "log.h"
#include "xmalloc.h"

static const char *const events_steps[] = {
	/* 0 -> 1 */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* E<id> */
	"  list TEXT NOT NULL,"
	"  uid TEXT NOT NULL UNIQUE,"		/* iCalendar UID, stable */
	"  title TEXT NOT NULL,"
	"  place TEXT NOT NULL DEFAULT '',"
	"  description TEXT NOT NULL DEFAULT '',"
	"  organizer TEXT NOT NULL,"
	"  starts INTEGER NOT NULL,"		/* UTC seconds */
	"  ends INTEGER NOT NULL DEFAULT 0,"	/* 0: none */
	"  allday INTEGER NOT NULL DEFAULT 0,"
	"  capacity INTEGER NOT NULL DEFAULT 0,"	/* 0: no limit */
	"  deadline INTEGER NOT NULL DEFAULT 0,"
	"  sequence INTEGER NOT NULL DEFAULT 0,"
	"  cancelled INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL);"
	"CREATE INDEX events_list ON events (list, starts);"
	"CREATE INDEX events_starts ON events (starts);"
	"CREATE TABLE rsvps ("
	"  event INTEGER NOT NULL,"
	"  addr TEXT NOT NULL COLLATE NOCASE,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  answer TEXT NOT NULL,"		/* yes, no, maybe */
	"  guests INTEGER NOT NULL DEFAULT 0,"
	"  waitseq INTEGER,"			/* non-NULL: waitlisted */
	"  answered INTEGER NOT NULL,"
	"  aseq INTEGER NOT NULL DEFAULT 0,"	/* order of answering */
	"  via TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (event, addr)) WITHOUT ROWID;"
	"CREATE TABLE event_reminders ("		/* sent: once each */
	"  event INTEGER NOT NULL,"
	"  lead INTEGER NOT NULL,"
	"  starts INTEGER NOT NULL,"		/* the start it was for */
	"  sent INTEGER NOT NULL,"
	"  PRIMARY KEY (event, lead, starts)) WITHOUT ROWID;",
};

const struct store_schema events_schema = {
	"events", events_steps, sizeof(events_steps) / sizeof(events_steps[0])
};

static const char *const answer_names[] = { "", "yes", "no", "maybe" };

#define EVENT_COLUMNS \
	"id, list, uid, title, place, description, organizer, starts, ends, " \
	"allday, capacity, deadline, sequence, cancelled, created, updated"

static void	 event_from_row(sqlite3_stmt *, struct event *);
static char	*col_dup(sqlite3_stmt *, int);
static enum rsvp_answer answer_parse(const char *);
static void	 rsvp_from_row(sqlite3_stmt *, struct rsvp *);
static int	 events_position(struct store *, long long, const char *);
static int	 events_write_rsvp(struct store *, long long, const char *,
		    const char *, enum rsvp_answer, int, int, const char *,
		    time_t);

void
events_strv_add(struct strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void
events_strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

const char *
events_answer_name(enum rsvp_answer a)
{
	return answer_names[a];
}

static enum rsvp_answer
answer_parse(const char *s)
{
	for (int i = 1; i < 4; i++)
		if (s && strcmp(s, answer_names[i]) == 0)
			return (enum rsvp_answer)i;
	return RSVP_NONE;
}

/* "E12", "e12", "12" -> 12.  0, or -1 when s is not an event reference. */
int
events_parse_ref(const char *s, long long *id)
{
	long long v = 0;
	int k = 0;

	if (*s == 'E' || *s == 'e')
		s++;
	for (; isdigit((unsigned char)*s); s++) {
		if (++k > 12)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (k == 0 || *s != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

void
events_ref(char *out, size_t outsz, long long id)
{
	snprintf(out, outsz, "E%lld", id);
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return xstrdup(t ? t : "");
}

static void
event_from_row(sqlite3_stmt *s, struct event *e)
{
	const char *list = (const char *)sqlite3_column_text(s, 1);

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(s, 0);
	events_ref(e->ref, sizeof(e->ref), e->id);
	snprintf(e->list, sizeof(e->list), "%s", list ? list : "");
	e->uid = col_dup(s, 2);
	e->title = col_dup(s, 3);
	e->place = col_dup(s, 4);
	e->description = col_dup(s, 5);
	e->organizer = col_dup(s, 6);
	e->when.start = (time_t)sqlite3_column_int64(s, 7);
	e->when.end = (time_t)sqlite3_column_int64(s, 8);
	e->when.allday = sqlite3_column_int(s, 9);
	e->capacity = sqlite3_column_int(s, 10);
	e->deadline = (time_t)sqlite3_column_int64(s, 11);
	e->sequence = sqlite3_column_int(s, 12);
	e->cancelled = sqlite3_column_int(s, 13);
	e->created = (time_t)sqlite3_column_int64(s, 14);
	e->updated = (time_t)sqlite3_column_int64(s, 15);
}

void
event_clear(struct event *e)
{
	free(e->uid);
	free(e->title);
	free(e->place);
	free(e->description);
	free(e->organizer);
	memset(e, 0, sizeof(*e));
}

/*
 * Store a new event (list, title, place, description, organizer, when,
 * capacity, deadline filled in); sets its id, ref, uid and times.
 */
int
events_create(struct store *st, struct event *e, const char *domain)
{
	unsigned char rnd[8];
	struct buf uid = BUF_INIT;
	sqlite3_stmt *s;
	time_t now = time(NULL);
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		log_warn("getrandom");
		return -1;
	}
	/* Unique before the id is known; rewritten with the id below. */
	buf_adds(&uid, "new-");
	for (i = 0; i < sizeof(rnd); i++)
		buf_printf(&uid, "%02x", rnd[i]);
	s = store_stmt(st, "INSERT INTO events (list, uid, title, place, "
	    "description, organizer, starts, ends, allday, capacity, "
	    "deadline, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12, ?12)");
	if (s == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, e->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, buf_cstr(&uid), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, e->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->place ? e->place : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, e->description ? e->description : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 6, e->organizer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (long long)e->when.start);
	sqlite3_bind_int64(s, 8, (long long)e->when.end);
	sqlite3_bind_int(s, 9, e->when.allday);
	sqlite3_bind_int(s, 10, e->capacity);
	sqlite3_bind_int64(s, 11, (long long)e->deadline);
	sqlite3_bind_int64(s, 12, (long long)now);
	if (store_step_done(st, s) != 0)
		goto fail;
	e->id = sqlite3_last_insert_rowid(st->db);
	events_ref(e->ref, sizeof(e->ref), e->id);
	buf_reset(&uid);
	buf_printf(&uid, "%s-", e->ref);
	for (i = 0; i < sizeof(rnd); i++)
		buf_printf(&uid, "%02x", rnd[i]);
	buf_printf(&uid, "@%s", domain);
	if ((s = store_stmt(st, "UPDATE events SET uid = ?2 WHERE id = ?1")) ==
	    NULL)
		goto fail;
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_text(s, 2, buf_cstr(&uid), -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		goto fail;
	free(e->uid);
	e->uid = buf_release(&uid);
	e->created = e->updated = now;
	e->sequence = 0;
	e->cancelled = 0;
	return 0;
fail:
	buf_free(&uid);
	return -1;
}

/* 1 and *e filled (with its seat counts), 0 when there is none, -1. */
int
events_get(struct store *st, long long id, struct event *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " EVENT_COLUMNS
	    " FROM events WHERE id = ?1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		event_from_row(s, e);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		store_log_error(st, "events_get");
		return -1;
	}
	return events_count_seats(st, e) == 0 ? 1 : -1;
}

/* Write back the editable fields and the revision of e. */
int
events_save(struct store *st, struct event *e)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE events SET title = ?2, "
	    "place = ?3, description = ?4, starts = ?5, ends = ?6, "
	    "allday = ?7, capacity = ?8, deadline = ?9, sequence = ?10, "
	    "cancelled = ?11, updated = ?12 WHERE id = ?1");

	if (s == NULL)
		return -1;
	e->updated = time(NULL);
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_text(s, 2, e->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, e->place, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (long long)e->when.start);
	sqlite3_bind_int64(s, 6, (long long)e->when.end);
	sqlite3_bind_int(s, 7, e->when.allday);
	sqlite3_bind_int(s, 8, e->capacity);
	sqlite3_bind_int64(s, 9, (long long)e->deadline);
	sqlite3_bind_int(s, 10, e->sequence);
	sqlite3_bind_int(s, 11, e->cancelled);
	sqlite3_bind_int64(s, 12, (long long)e->updated);
	return store_step_done(st, s);
}

/* e->taken and e->waiting from the answers. */
int
events_count_seats(struct store *st, struct event *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT "
	    "coalesce(sum(CASE WHEN waitseq IS NULL THEN 1 + guests END), 0), "
	    "count(waitseq) FROM rsvps WHERE event = ?1 AND answer = 'yes'");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, e->id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		e->taken = sqlite3_column_int(s, 0);
		e->waiting = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		store_log_error(st, "events_count_seats");
		return -1;
	}
	return 0;
}

/* Columns: addr, name, answer, guests, waitseq, answered, via. */
static void
rsvp_from_row(sqlite3_stmt *s, struct rsvp *r)
{
	const char *a = (const char *)sqlite3_column_text(s, 0);
	const char *via = (const char *)sqlite3_column_text(s, 6);

	memset(r, 0, sizeof(*r));
	snprintf(r->addr, sizeof(r->addr), "%s", a ? a : "");
	r->name = col_dup(s, 1);
	r->answer = answer_parse((const char *)sqlite3_column_text(s, 2));
	r->guests = sqlite3_column_int(s, 3);
	r->position = sqlite3_column_type(s, 4) == SQLITE_NULL ? 0 : -1;
	r->answered = (time_t)sqlite3_column_int64(s, 5);
	snprintf(r->via, sizeof(r->via), "%s", via ? via : "");
}

void
rsvp_clear(struct rsvp *r)
{
	free(r->name);
	r->name = NULL;
}

void
rsvp_result_clear(struct rsvp_result *res)
{
	events_strv_free(&res->promoted);
}

/* The 1-based waitlist place of addr, or 0 when not waiting. */
static int
events_position(struct store *st, long long ev, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*) FROM rsvps o, "
	    "rsvps me WHERE me.event = ?1 AND me.addr = ?2 AND "
	    "me.waitseq IS NOT NULL AND o.event = ?1 AND "
	    "o.waitseq IS NOT NULL AND o.waitseq <= me.waitseq");
	int n = 0;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, ev);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return n;
}

/* 1 and *r filled, 0 when addr has not answered, -1 on error. */
int
events_rsvp_get(struct store *st, long long ev, const char *addr,
    struct rsvp *r)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT addr, name, answer, guests, "
	    "waitseq, answered, via FROM rsvps WHERE event = ?1 AND "
	    "addr = ?2");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, ev);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rsvp_from_row(s, r);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		store_log_error(st, "events_rsvp_get");
		return -1;
	}
	if (r->position < 0)
		r->position = events_position(st, ev, r->addr);
	return 1;
}

/*
 * Record an answer.  waitlist: 0 a seat (or no/maybe), 1 the end of the
 * line, 2 keep the place in line the row has.
 */
static int
events_write_rsvp(struct store *st, long long ev, const char *addr,
    const char *name, enum rsvp_answer a, int guests, int waitlist,
    const char *via, time_t now)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO rsvps (event, addr, "
	    "name, answer, guests, waitseq, answered, aseq, via) VALUES (?1, "
	    "?2, ?3, ?4, ?5, CASE ?6 WHEN 0 THEN NULL ELSE (SELECT "
	    "coalesce(max(waitseq), 0) + 1 FROM rsvps WHERE event = ?1) END, "
	    "?7, (SELECT coalesce(max(aseq), 0) + 1 FROM rsvps WHERE "
	    "event = ?1), ?8) ON CONFLICT (event, addr) DO UPDATE SET "
	    "name = CASE WHEN ?3 != '' THEN ?3 ELSE name END, answer = ?4, "
	    "guests = ?5, waitseq = CASE ?6 WHEN 0 THEN NULL WHEN 2 THEN "
	    "waitseq ELSE (SELECT coalesce(max(waitseq), 0) + 1 FROM rsvps "
	    "WHERE event = ?1) END, answered = ?7, aseq = (SELECT "
	    "coalesce(max(aseq), 0) + 1 FROM rsvps WHERE event = ?1), "
	    "via = ?8");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, ev);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, answer_names[a], -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, guests);
	sqlite3_bind_int(s, 6, waitlist);
	sqlite3_bind_int64(s, 7, (long long)now);
	sqlite3_bind_text(s, 8, via, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/*
 * Give seats to the waitlist, in order, passing over a party that does
 * not fit for the next that does.  The addresses promoted are appended
 * to promoted.  0 or -1.
 */
int
events_promote(struct store *st, const struct event *ev, struct strv *promoted)
{
	struct event e = *ev;
	struct strv addrs = { NULL, 0 };
	int *need = NULL, free_seats, rc = -1;
	size_t i, n = 0;
	sqlite3_stmt *s;

	if (events_count_seats(st, &e) != 0)
		return -1;
	if (e.waiting == 0)
		return 0;
	free_seats = e.capacity ? e.capacity - e.taken : -1;
	if (free_seats == 0 || (free_seats < 0 && e.capacity))
		return 0;
	if (sqlite3_prepare_v2(st->db, "SELECT addr, guests FROM rsvps WHERE "
	    "event = ?1 AND answer = 'yes' AND waitseq IS NOT NULL ORDER BY "
	    "waitseq", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "events_promote");
		return -1;
	}
	sqlite3_bind_int64(s, 1, e.id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		events_strv_add(&addrs, (const char *)sqlite3_column_text(s, 0));
		need = xrealloc(need, (n + 1) * sizeof(*need));
		need[n++] = 1 + sqlite3_column_int(s, 1);
	}
	sqlite3_finalize(s);
	for (i = 0; i < n; i++) {
		if (e.capacity && need[i] > free_seats)
			continue;
		if ((s = store_stmt(st, "UPDATE rsvps SET waitseq = NULL "
		    "WHERE event = ?1 AND addr = ?2")) == NULL)
			goto done;
		sqlite3_bind_int64(s, 1, e.id);
		sqlite3_bind_text(s, 2, addrs.v[i], -1, SQLITE_STATIC);
		if (store_step_done(st, s) != 0)
			goto done;
		if (e.capacity)
			free_seats -= need[i];
		events_strv_add(promoted, addrs.v[i]);
		log_info("%s: <%s> promoted from the waitlist", e.ref,
		    addrs.v[i]);
	}
	rc = 0;
done:
	events_strv_free(&addrs);
	free(need);
	return rc;
}

/*
 * Record addr's answer to ev (with its seat counts) at time now, and
 * promote the waitlist if seats freed up.  0 with *res filled (free it
 * with rsvp_result_clear), or -1.
 */
int
events_rsvp(struct store *st, const struct event *ev, const char *addr,
    const char *name, enum rsvp_answer a, int guests, const char *via,
    time_t now, struct rsvp_result *res)
{
	struct event e = *ev;
	struct rsvp prev;
	int had, going = 0, waiting = 0, freed = 0;

	memset(res, 0, sizeof(*res));
	memset(&prev, 0, sizeof(prev));
	if (e.cancelled || now >= e.when.start) {
		res->outcome = RSVP_OVER;
		return 0;
	}
	if (e.deadline && now > e.deadline) {
		res->outcome = RSVP_CLOSED;
		return 0;
	}
	if (guests < 0)
		guests = 0;
	if ((had = events_rsvp_get(st, e.id, addr, &prev)) < 0)
		return -1;
	if (had) {
		going = prev.answer == RSVP_YES && prev.position == 0;
		waiting = prev.answer == RSVP_YES && prev.position > 0;
		rsvp_clear(&prev);
	}
	if (events_count_seats(st, &e) != 0)
		return -1;

	if (a != RSVP_YES) {
		if (events_write_rsvp(st, e.id, addr, name, a,
		    a == RSVP_MAYBE ? guests : 0, 0, via, now) != 0)
			return -1;
		res->outcome = a == RSVP_NO ? RSVP_DECLINED : RSVP_TENTATIVE;
		freed = going;
	} else if (going) {
		int mine = 1 + prev.guests;

		if (e.capacity && 1 + guests > e.capacity - (e.taken - mine)) {
			res->outcome = RSVP_KEPT;
			res->guests = prev.guests;
		} else {
			if (events_write_rsvp(st, e.id, addr, name, a, guests,
			    0, via, now) != 0)
				return -1;
			res->outcome = RSVP_GOING;
			freed = guests < prev.guests;
		}
	} else if (waiting) {
		/* Keep the place in line; a smaller party may fit now. */
		if (events_write_rsvp(st, e.id, addr, name, a, guests, 2, via,
		    now) != 0)
			return -1;
		freed = 1;
	} else if (e.capacity == 0 || 1 + guests <= e.capacity - e.taken) {
		if (events_write_rsvp(st, e.id, addr, name, a, guests, 0, via,
		    now) != 0)
			return -1;
		res->outcome = RSVP_GOING;
	} else {
		if (events_write_rsvp(st, e.id, addr, name, a, guests, 1, via,
		    now) != 0)
			return -1;
	}
	if (freed && events_promote(st, &e, &res->promoted) != 0)
		return -1;
	if (a == RSVP_YES && res->outcome != RSVP_KEPT) {
		/* Waitlisted, or promoted just now with the rest. */
		res->position = events_position(st, e.id, addr);
		res->outcome = res->position > 0 ? RSVP_WAITLISTED :
		    RSVP_GOING;
		res->guests = guests;
		/* The answerer hears it in their own confirmation. */
		for (size_t i = 0; i < res->promoted.n; i++)
			if (strcasecmp(res->promoted.v[i], addr) == 0) {
				free(res->promoted.v[i]);
				res->promoted.v[i] =
				    res->promoted.v[--res->promoted.n];
				res->promoted.v[res->promoted.n] = NULL;
				break;
			}
	} else if (res->outcome == RSVP_TENTATIVE)
		res->guests = guests;
	if (events_count_seats(st, &e) != 0)
		return -1;
	res->seats_left = e.capacity ? e.capacity - e.taken : -1;
	if (res->seats_left < -1)
		res->seats_left = 0;
	res->filled = res->outcome == RSVP_GOING && res->seats_left == 0 &&
	    (!going || guests > prev.guests);
	return 0;
}

/*
 * Every answer to ev in roster order: those coming (in order of
 * answering), the waitlist (in line), maybe, no.
 */
int
events_foreach_rsvp(struct store *st, long long ev, rsvp_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	struct rsvp r;
	int rc, ret = 0, pos = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT addr, name, answer, guests, "
	    "waitseq, answered, via FROM rsvps WHERE event = ?1 ORDER BY "
	    "CASE WHEN answer = 'yes' AND waitseq IS NULL THEN 0 "
	    "WHEN answer = 'yes' THEN 1 WHEN answer = 'maybe' THEN 2 "
	    "ELSE 3 END, coalesce(waitseq, 0), answered, aseq", -1, &s,
	    NULL) != SQLITE_OK) {
		store_log_error(st, "events_foreach_rsvp");
		return -1;
	}
	sqlite3_bind_int64(s, 1, ev);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rsvp_from_row(s, &r);
		if (r.position < 0)
			r.position = ++pos;
		ret = fn(&r, arg);
		rsvp_clear(&r);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "events_foreach_rsvp");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/*
 * Events not yet over that concern list (NULL: all lists): its own, those
 * of the lists that reach it (its region's, the network's) and, for a
 * region list, those of its chapters.  In order of start.
 */
int
events_foreach_upcoming(struct store *st, const char *list, time_t now,
    event_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	struct event e;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT " EVENT_COLUMNS " FROM events "
	    "e WHERE (CASE WHEN allday THEN max(starts, ends) + 86400 "
	    "WHEN ends > 0 THEN ends ELSE starts END) > ?2 AND (?1 IS NULL "
	    "OR e.list = ?1 OR EXISTS (SELECT 1 FROM lists l, lists w WHERE "
	    "l.name = e.list AND w.name = ?1 AND (l.scope = 'network' OR "
	    "w.scope = 'network' OR (l.scope = 'region' AND "
	    "l.region = w.region) OR (w.scope = 'region' AND "
	    "l.scope = 'chapter' AND l.region = w.region)))) "
	    "ORDER BY starts, id", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "events_foreach_upcoming");
		return -1;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (long long)now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		event_from_row(s, &e);
		if (events_count_seats(st, &e) != 0)
			ret = -1;
		else
			ret = fn(&e, arg);
		event_clear(&e);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "events_foreach_upcoming");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/*
 * Events whose reminder lead seconds before the start is due now and not
 * yet sent for this start.  An event announced after that moment gets no
 * reminder: the announcement itself was recent.
 */
int
events_due_reminders(struct store *st, int lead, time_t now, long long **ids,
    size_t *n)
{
	sqlite3_stmt *s;
	int rc;

	*ids = NULL;
	*n = 0;
	s = store_stmt(st, "SELECT id FROM events e WHERE cancelled = 0 AND "
	    "starts > ?2 AND starts - ?1 <= ?2 AND created <= starts - ?1 "
	    "AND NOT EXISTS (SELECT 1 FROM event_reminders r WHERE "
	    "r.event = e.id AND r.lead = ?1 AND r.starts = e.starts) "
	    "ORDER BY starts");
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, lead);
	sqlite3_bind_int64(s, 2, (long long)now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "events_due_reminders");
		return -1;
	}
	return 0;
}

/* Record the reminder as sent: in the transaction that queues it. */
int
events_reminder_mark(struct store *st, const struct event *e, int lead,
    time_t now)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO "
	    "event_reminders (event, lead, starts, sent) VALUES "
	    "(?1, ?2, ?3, ?4)");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, e->id);
	sqlite3_bind_int(s, 2, lead);
	sqlite3_bind_int64(s, 3, (long long)e->when.start);
	sqlite3_bind_int64(s, 4, (long long)now);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}
