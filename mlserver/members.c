/*
 * members - who is on which list, and who a list reaches; see members.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "members.h"
#include "store.h"
#include "xmalloc.h"

static const char *const mode_names[] = {
	"normal", "digest", "nomail", "bouncing"
};

static void	member_from_row(sqlite3_stmt *, struct member *);

const char *
members_mode_name(enum member_mode m)
{
	return mode_names[m];
}

int
members_mode_parse(const char *s, enum member_mode *out)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum member_mode)i;
			return 0;
		}
	return -1;
}

void
member_clear(struct member *m)
{
	free(m->name);
	m->name = NULL;
}

/* Columns: addr, name, mode, created. */
static void
member_from_row(sqlite3_stmt *s, struct member *m)
{
	const char *addr = (const char *)sqlite3_column_text(s, 0);
	const char *name = (const char *)sqlite3_column_text(s, 1);
	const char *mode = (const char *)sqlite3_column_text(s, 2);

	snprintf(m->addr, sizeof(m->addr), "%s", addr ? addr : "");
	m->name = xstrdup(name ? name : "");
	if (mode == NULL || members_mode_parse(mode, &m->mode) != 0)
		m->mode = MEMBER_NORMAL;
	m->created = sqlite3_column_int64(s, 3);
}

/* 1 and *m filled when addr is a member of list, 0 when not, -1 error. */
int
members_get(struct store *st, const char *list, const char *addr,
    struct member *m)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT addr, name, mode, created "
	    "FROM members WHERE list = ?1 AND addr = ?2");
	int rc;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (m)
			member_from_row(s, m);
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "members_get");
		return -1;
	}
	return 0;
}

/*
 * Add addr (canonical) to list.  1 when added, 0 when it was a member
 * already (its name is then updated if one is given), -1 on error.
 */
int
members_add(struct store *st, const char *list, const char *addr,
    const char *name)
{
	sqlite3_stmt *s;
	int existed;

	if ((existed = members_get(st, list, addr, NULL)) < 0)
		return -1;
	s = store_stmt(st, "INSERT INTO members (list, addr, name, created) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (list, addr) DO UPDATE SET "
	    "name = CASE WHEN ?3 != '' THEN ?3 ELSE name END");
	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name ? name : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (long long)time(NULL));
	if (store_step_done(st, s) != 0)
		return -1;
	return !existed;
}

/* 1 when removed, 0 when addr was not a member, -1 on error. */
int
members_remove(struct store *st, const char *list, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM members "
	    "WHERE list = ?1 AND addr = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

/* 1 when set, 0 when addr is not a member, -1 on error. */
int
members_set_mode(struct store *st, const char *list, const char *addr,
    enum member_mode mode)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE members SET mode = ?3 "
	    "WHERE list = ?1 AND addr = ?2");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, mode_names[mode], -1, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	return sqlite3_changes(st->db) > 0;
}

/*
 * Call fn for every member of list, in address order, one row at a time
 * (a list of any size never sits in memory).  fn returning non-zero stops
 * the walk and is returned.
 */
int
members_foreach(struct store *st, const char *list, members_fn *fn,
    void *arg)
{
	sqlite3_stmt *s;
	struct member m;
	int rc, ret = 0;

	/* Not cached: fn may itself use the store. */
	if (sqlite3_prepare_v2(st->db, "SELECT addr, name, mode, created "
	    "FROM members WHERE list = ?1 ORDER BY addr", -1, &s,
	    NULL) != SQLITE_OK) {
		store_log_error(st, "members_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		member_from_row(s, &m);
		ret = fn(&m, arg);
		member_clear(&m);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "members_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

long long
members_count(struct store *st, const char *list)
{
	sqlite3_stmt *s = store_stmt(st,
	    "SELECT count(*) FROM members WHERE list = ?1");
	long long n = -1;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n;
}

/*
 * Whether addr is reached by list: a member of the list itself or of a
 * list within its scope.  Used for the "members" posting policy, so that
 * a chapter member may post to the region's members-only list.
 */
int
members_in_audience(struct store *st, const char *list, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM members m "
	    "JOIN lists l ON l.name = m.list "
	    "JOIN lists w ON w.name = ?1 "
	    "WHERE m.addr = ?2 AND " MEMBERS_REACH_SQL " LIMIT 1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, addr, -1, SQLITE_STATIC);
	return store_exists(st, s);
}

int
members_audience_foreach(struct store *st, const char *list,
    audience_fn *fn, void *arg)
{
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, MEMBERS_AUDIENCE_SQL " ORDER BY m.addr",
	    -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "members_audience_foreach");
		return -1;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((ret = fn((const char *)sqlite3_column_text(s, 0),
		    arg)) != 0)
			break;
	if (ret == 0 && rc != SQLITE_DONE) {
		store_log_error(st, "members_audience_foreach");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}
