/*
 * proposals - the record, references and state machine; see proposals.h.
 *
 * Everything here runs inside the caller's transaction: a proposal's
 * state, its history line and the mail that announces the change are
 * committed together or not at all.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "proposals.h"
#include "store.h"
#include "xmalloc.h"

static const char *const proposal_steps[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE proposals ("
	"  ref TEXT PRIMARY KEY,"		/* P-YYYY-NNNN */
	"  year INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  list TEXT NOT NULL,"
	"  proposer TEXT NOT NULL,"		/* canonical address */
	"  name TEXT NOT NULL DEFAULT '',"
	"  title TEXT NOT NULL,"
	"  theme TEXT NOT NULL DEFAULT '',"
	"  body TEXT NOT NULL,"
	"  state TEXT NOT NULL,"		/* see proposal_state_name */
	"  created INTEGER NOT NULL,"
	"  opened INTEGER NOT NULL DEFAULT 0,"
	"  forwarded INTEGER NOT NULL DEFAULT 0,"
	"  forwarded_by TEXT NOT NULL DEFAULT '',"
	"  answered INTEGER NOT NULL DEFAULT 0,"	/* last answer or note */
	"  answer TEXT NOT NULL DEFAULT '',"
	"  answer_state TEXT NOT NULL DEFAULT '',"
	"  reminded INTEGER NOT NULL DEFAULT 0,"
	"  msgid TEXT NOT NULL DEFAULT '',"	/* the announcement's */
	"  UNIQUE (year, seq));"
	"CREATE INDEX proposals_state ON proposals (state, list);"
	"CREATE TABLE proposal_history ("
	"  id INTEGER PRIMARY KEY,"		/* order of events */
	"  ref TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"		/* a state, or in_progress */
	"  note TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX proposal_history_ref ON proposal_history (ref, id);"
	"CREATE TABLE proposal_comments ("
	"  id INTEGER PRIMARY KEY,"		/* order of arrival */
	"  ref TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  body TEXT NOT NULL,"
	"  held INTEGER NOT NULL DEFAULT 0);"	/* 1 held, 2 refused */
	"CREATE INDEX proposal_comments_ref ON proposal_comments (ref, id);"
	"CREATE TABLE proposal_supporters ("
	"  ref TEXT NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  ts INTEGER NOT NULL,"
	"  PRIMARY KEY (ref, addr)) WITHOUT ROWID;"
	"CREATE TABLE proposal_periods ("	/* forwards done */
	"  list TEXT NOT NULL,"
	"  period TEXT NOT NULL,"		/* schedule point, or manual */
	"  ts INTEGER NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (list, period)) WITHOUT ROWID;",
	/*
	 * 1 -> 2: each summary as it was sent (scheduled or by hand), for
	 * the public page of that forward (proposal_summary.c).
	 */
	"CREATE TABLE proposal_summaries ("
	"  id INTEGER PRIMARY KEY,"		/* order of sending */
	"  list TEXT NOT NULL,"
	"  period TEXT NOT NULL DEFAULT '',"	/* '' when sent by hand */
	"  ts INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  body TEXT NOT NULL);"
	"CREATE INDEX proposal_summaries_list ON proposal_summaries "
	"  (list, id);",
};

const struct store_schema proposals_schema = {
	"proposals", proposal_steps,
	sizeof(proposal_steps) / sizeof(proposal_steps[0])
};

static const char *const state_names[PROPOSAL_NSTATES] = {
	"submitted", "open", "forwarded", "answered", "rejected", "withdrawn"
};

#define PROPOSAL_COLUMNS						\
	"ref, year, seq, list, proposer, name, title, theme, body, state, " \
	"created, opened, forwarded, forwarded_by, answered, answer, "	\
	"answer_state, reminded, msgid, "				\
	"(SELECT count(*) FROM proposal_supporters s WHERE s.ref = p.ref), " \
	"(SELECT count(*) FROM proposal_comments c WHERE c.ref = p.ref " \
	"  AND c.held = 0)"

static char	*col_dup(sqlite3_stmt *, int);
static void	 proposal_from_row(sqlite3_stmt *, struct proposal *);
static void	 comment_from_row(sqlite3_stmt *, struct proposal_comment *);

const char *
proposal_state_name(enum proposal_state s)
{
	return (unsigned)s < PROPOSAL_NSTATES ? state_names[s] : "?";
}

int
proposal_state_parse(const char *name, enum proposal_state *out)
{
	for (int i = 0; i < PROPOSAL_NSTATES; i++)
		if (strcasecmp(name, state_names[i]) == 0) {
			*out = (enum proposal_state)i;
			return 0;
		}
	return -1;
}

/*
 * Whether roles may take action on a proposal in state, and the state it
 * then has.  Who is asked first and the state second, so a member is
 * told "moderators only" and learns nothing of a proposal's state from
 * a refusal.
 */
enum proposal_refusal
proposal_may(enum proposal_state state, enum proposal_action action,
    unsigned roles, enum proposal_state *next)
{
	int mod = (roles & PROPOSAL_ROLE_MODERATOR) != 0;
	enum proposal_state to = state;
	int ok = 0;

	switch (action) {
	case PROPOSAL_APPROVE:
	case PROPOSAL_REJECT:
		if (!mod)
			return PROPOSAL_NO_MODERATOR;
		ok = state == PROPOSAL_SUBMITTED;
		to = action == PROPOSAL_APPROVE ? PROPOSAL_OPEN :
		    PROPOSAL_REJECTED;
		break;
	case PROPOSAL_COMMENT:
		/* Who may comment is the list's posting policy. */
		ok = state == PROPOSAL_OPEN || state == PROPOSAL_FORWARDED;
		break;
	case PROPOSAL_SUPPORT:
		if (roles & PROPOSAL_ROLE_PROPOSER)
			return PROPOSAL_NO_OWN;
		if (!(roles & PROPOSAL_ROLE_MEMBER))
			return PROPOSAL_NO_MEMBER;
		ok = state == PROPOSAL_OPEN || state == PROPOSAL_FORWARDED;
		break;
	case PROPOSAL_WITHDRAW:
		/* Once forwarded, it is the institution's to answer. */
		if (!(roles & PROPOSAL_ROLE_PROPOSER))
			return PROPOSAL_NO_PROPOSER;
		ok = state == PROPOSAL_SUBMITTED || state == PROPOSAL_OPEN;
		to = PROPOSAL_WITHDRAWN;
		break;
	case PROPOSAL_FORWARD:
		if (!(roles & PROPOSAL_ROLE_SERVER))
			return PROPOSAL_NO_MODERATOR;
		ok = state == PROPOSAL_OPEN;
		to = PROPOSAL_FORWARDED;
		break;
	case PROPOSAL_ANSWER:
	case PROPOSAL_DECLINE:
	case PROPOSAL_NOTE:
		if (!mod)
			return PROPOSAL_NO_MODERATOR;
		ok = state == PROPOSAL_FORWARDED;
		to = action == PROPOSAL_ANSWER ? PROPOSAL_ANSWERED :
		    action == PROPOSAL_DECLINE ? PROPOSAL_REJECTED :
		    PROPOSAL_FORWARDED;
		break;
	}
	if (!ok)
		return PROPOSAL_NO_STATE;
	if (next)
		*next = to;
	return PROPOSAL_OK;
}

void
proposal_ref_format(char ref[PROPOSAL_REF_MAX], int year, int seq)
{
	snprintf(ref, PROPOSAL_REF_MAX, "P-%04d-%04d", year, seq);
}

/*
 * Read a reference as people and mail systems write it back: any case
 * (some MTAs fold local parts), with or without the leading zeros.
 * 0 and the canonical form in ref, or -1.
 */
int
proposal_ref_parse(const char *s, char ref[PROPOSAL_REF_MAX])
{
	long year = 0, seq = 0;
	int i, n;

	if ((s[0] != 'P' && s[0] != 'p') || s[1] != '-')
		return -1;
	s += 2;
	for (i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		year = year * 10 + (s[i] - '0');
	}
	if (s[4] != '-' || year < 2000)
		return -1;
	s += 5;
	for (n = 0; isdigit((unsigned char)s[n]); n++) {
		if (n >= 7)
			return -1;
		seq = seq * 10 + (s[n] - '0');
	}
	if (n == 0 || s[n] != '\0' || seq < 1)
		return -1;
	proposal_ref_format(ref, (int)year, (int)seq);
	return 0;
}

/* ------------------------------------------------------------ record */

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return xstrdup(v ? v : "");
}

static void
proposal_from_row(sqlite3_stmt *s, struct proposal *p)
{
	const char *v;

	memset(p, 0, sizeof(*p));
	v = (const char *)sqlite3_column_text(s, 0);
	snprintf(p->ref, sizeof(p->ref), "%s", v ? v : "");
	p->year = sqlite3_column_int(s, 1);
	p->seq = sqlite3_column_int(s, 2);
	p->list = col_dup(s, 3);
	v = (const char *)sqlite3_column_text(s, 4);
	snprintf(p->proposer, sizeof(p->proposer), "%s", v ? v : "");
	p->name = col_dup(s, 5);
	p->title = col_dup(s, 6);
	p->theme = col_dup(s, 7);
	p->body = col_dup(s, 8);
	v = (const char *)sqlite3_column_text(s, 9);
	if (v == NULL || proposal_state_parse(v, &p->state) != 0)
		p->state = PROPOSAL_SUBMITTED;
	p->created = sqlite3_column_int64(s, 10);
	p->opened = sqlite3_column_int64(s, 11);
	p->forwarded = sqlite3_column_int64(s, 12);
	p->forwarded_by = col_dup(s, 13);
	p->answered = sqlite3_column_int64(s, 14);
	p->answer = col_dup(s, 15);
	p->answer_state = col_dup(s, 16);
	p->reminded = sqlite3_column_int64(s, 17);
	p->msgid = col_dup(s, 18);
	p->supporters = sqlite3_column_int64(s, 19);
	p->comments = sqlite3_column_int64(s, 20);
}

void
proposal_clear(struct proposal *p)
{
	free(p->list);
	free(p->name);
	free(p->title);
	free(p->theme);
	free(p->body);
	free(p->forwarded_by);
	free(p->answer);
	free(p->answer_state);
	free(p->msgid);
	memset(p, 0, sizeof(*p));
}

/*
 * Store a new proposal (list, proposer, name, title, theme, body and
 * year filled in by the caller) as submitted, numbering it: the next
 * number of its year across the server.  p->ref, seq and created are
 * set.  Inside the caller's (IMMEDIATE) transaction, so two submissions
 * never get one number.
 */
int
proposal_create(struct store *st, struct proposal *p, long long now)
{
	sqlite3_stmt *s;

	s = store_stmt(st, "SELECT coalesce(max(seq), 0) + 1 FROM proposals "
	    "WHERE year = ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_int(s, 1, p->year);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		store_log_error(st, "proposal_create");
		return -1;
	}
	p->seq = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	proposal_ref_format(p->ref, p->year, p->seq);
	p->created = now;
	p->state = PROPOSAL_SUBMITTED;
	s = store_stmt(st, "INSERT INTO proposals (ref, year, seq, list, "
	    "proposer, name, title, theme, body, state, created) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'submitted', ?10)");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, p->ref, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, p->year);
	sqlite3_bind_int(s, 3, p->seq);
	sqlite3_bind_text(s, 4, p->list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, p->proposer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, p->name ? p->name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, p->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, p->theme ? p->theme : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, p->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 10, now);
	if (store_step_done(st, s) != 0)
		return -1;
	return proposal_history_add(st, p->ref, now, "submitted", "");
}

/* 1 and *p filled (proposal_clear it), 0 when there is none, -1 error. */
int
proposal_get(struct store *st, const char *ref, struct proposal *p)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " PROPOSAL_COLUMNS
	    " FROM proposals p WHERE ref = ?1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		proposal_from_row(s, p);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_log_error(st, "proposal_get");
	return -1;
}

/* Move p to state, with a history line (note may be ""). */
int
proposal_set_state(struct store *st, struct proposal *p,
    enum proposal_state to, long long now, const char *note)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposals SET state = ?2, "
	    "opened = CASE WHEN ?2 = 'open' THEN ?3 ELSE opened END "
	    "WHERE ref = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, p->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, proposal_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s) != 0)
		return -1;
	p->state = to;
	if (to == PROPOSAL_OPEN)
		p->opened = now;
	return proposal_history_add(st, p->ref, now, proposal_state_name(to),
	    note ? note : "");
}

/*
 * The institution's word: answer_state is in_progress (the proposal
 * stays forwarded), answered or rejected.  The text is kept as the
 * proposal's answer and in the history.
 */
int
proposal_record_answer(struct store *st, struct proposal *p,
    const char *answer_state, const char *text, long long now)
{
	enum proposal_state to = PROPOSAL_FORWARDED;
	sqlite3_stmt *s;

	if (strcmp(answer_state, "answered") == 0)
		to = PROPOSAL_ANSWERED;
	else if (strcmp(answer_state, "rejected") == 0)
		to = PROPOSAL_REJECTED;
	s = store_stmt(st, "UPDATE proposals SET state = ?2, answered = ?3, "
	    "answer = ?4, answer_state = ?5 WHERE ref = ?1");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, p->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, proposal_state_name(to), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, answer_state, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	p->state = to;
	p->answered = now;
	free(p->answer);
	p->answer = xstrdup(text);
	free(p->answer_state);
	p->answer_state = xstrdup(answer_state);
	return proposal_history_add(st, p->ref, now, answer_state, text);
}

int
proposal_set_forwarded(struct store *st, struct proposal *p, const char *by,
    long long now)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposals SET state = "
	    "'forwarded', forwarded = ?2, forwarded_by = ?3 WHERE ref = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, p->ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, by, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	p->state = PROPOSAL_FORWARDED;
	p->forwarded = now;
	free(p->forwarded_by);
	p->forwarded_by = xstrdup(by);
	return proposal_history_add(st, p->ref, now, "forwarded", by);
}

int
proposal_set_msgid(struct store *st, const char *ref, const char *msgid)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposals SET msgid = ?2 "
	    "WHERE ref = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, msgid, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

int
proposal_set_reminded(struct store *st, const char *ref, long long now)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposals SET reminded = ?2 "
	    "WHERE ref = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	return store_step_done(st, s);
}

int
proposal_history_add(struct store *st, const char *ref, long long ts,
    const char *event, const char *note)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO proposal_history (ref, "
	    "ts, event, note) VALUES (?1, ?2, ?3, ?4)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ts);
	sqlite3_bind_text(s, 3, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, note ? note : "", -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* Call fn for each history line of ref, oldest first. */
int
proposal_history_foreach(struct store *st, const char *ref,
    proposal_event_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	/* Not cached: fn may use the store. */
	if (sqlite3_prepare_v2(st->db, "SELECT ts, event, note FROM "
	    "proposal_history WHERE ref = ?1 ORDER BY id", -1, &s,
	    NULL) != SQLITE_OK) {
		store_log_error(st, "proposal_history_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct proposal_event e;

		e.ts = sqlite3_column_int64(s, 0);
		e.event = (const char *)sqlite3_column_text(s, 1);
		e.note = (const char *)sqlite3_column_text(s, 2);
		if ((ret = fn(&e, arg)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "proposal_history_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/* 1 when addr now supports ref, 0 when it did already, -1 error. */
int
proposal_support(struct store *st, const char *ref, const char *addr,
    long long now)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO "
	    "proposal_supporters (ref, addr, ts) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

int
proposal_supporters_foreach(struct store *st, const char *ref,
    int (*fn)(const char *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT addr FROM proposal_supporters "
	    "WHERE ref = ?1 ORDER BY ts, addr", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "proposal_supporters_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((ret = fn((const char *)sqlite3_column_text(s, 0),
		    arg)) != 0)
			break;
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "proposal_supporters_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/* Keep a comment (held: waiting for a moderator).  Its id, or -1. */
long long
proposal_comment_add(struct store *st, const char *ref, const char *addr,
    const char *name, const char *body, int held, long long now)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO proposal_comments (ref, "
	    "ts, addr, name, body, held) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_text(s, 3, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, body, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, held);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_last_insert_rowid(st->db);
}

/* Columns: id, ts, ref, addr, name, body, held. */
static void
comment_from_row(sqlite3_stmt *s, struct proposal_comment *c)
{
	const char *v;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(s, 0);
	c->ts = sqlite3_column_int64(s, 1);
	v = (const char *)sqlite3_column_text(s, 2);
	snprintf(c->ref, sizeof(c->ref), "%s", v ? v : "");
	v = (const char *)sqlite3_column_text(s, 3);
	snprintf(c->addr, sizeof(c->addr), "%s", v ? v : "");
	c->name = col_dup(s, 4);
	c->body = col_dup(s, 5);
	c->held = sqlite3_column_int(s, 6);
}

void
proposal_comment_clear(struct proposal_comment *c)
{
	free(c->name);
	free(c->body);
	memset(c, 0, sizeof(*c));
}

/* 1 and *c filled (proposal_comment_clear it), 0 none, -1 error. */
int
proposal_comment_get(struct store *st, long long id,
    struct proposal_comment *c)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, ts, ref, addr, name, "
	    "body, held FROM proposal_comments WHERE id = ?1");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		comment_from_row(s, c);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
proposal_comment_set(struct store *st, long long id, int held)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposal_comments SET "
	    "held = ?2 WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, held);
	return store_step_done(st, s);
}

/* Call fn for each shown comment of ref, in the order they came. */
int
proposal_comments_foreach(struct store *st, const char *ref,
    proposal_comment_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT id, ts, ref, addr, name, body, "
	    "held FROM proposal_comments WHERE ref = ?1 AND held = 0 "
	    "ORDER BY id", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "proposal_comments_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, ref, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct proposal_comment c;

		comment_from_row(s, &c);
		ret = fn(&c, arg);
		proposal_comment_clear(&c);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "proposal_comments_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

/*
 * Claim the forwarding of list for period: 1 when this call claimed it,
 * 0 when it was done before (by this process or an earlier one), -1 on
 * error.  Committed with the forward itself, so a period is forwarded
 * exactly once across crashes and restarts.
 */
int
proposal_period_claim(struct store *st, const char *list, const char *period,
    long long now)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR IGNORE INTO "
	    "proposal_periods (list, period, ts) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

/* Note how many proposals a claimed period forwarded. */
int
proposal_period_count(struct store *st, const char *list, const char *period,
    int count)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE proposal_periods SET "
	    "count = ?3 WHERE list = ?1 AND period = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, period, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, count);
	return store_step_done(st, s);
}
