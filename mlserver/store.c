/*
 * store - the SQLite database; see store.h.
 *
 * The schema is versioned per module: each module with tables of its own
 * (the core here; events, proposals, ... in their files) has a struct
 * store_schema whose steps[i] takes its tables from version i to i + 1,
 * and a row in schema_versions.  A step runs in the same transaction as
 * its version bump, so a crash mid-migration leaves the old version
 * intact, and modules written apart never compete for version numbers.  WAL mode lets the daemon's threads and
 * mlserverctl read while one writes; busy_timeout makes a writer wait for
 * another rather than fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive.h"
#include "bounce.h"
#include "config.h"
#include "digest.h"
#include "events.h"
#include "log.h"
#include "mailbox.h"
#include "moderate.h"
#include "outq_rate.h"
#include "pages.h"
#include "proposals.h"
#include "store.h"
#include "xmalloc.h"

struct store_stmt {
	const char		*sql;
	sqlite3_stmt		*stmt;
	struct store_stmt	*next;
};

static int	store_migrate(struct store *);
static int	store_migrate_one(struct store *, const struct store_schema *);
static int	store_version(struct store *, const char *, int *);

static const char *const core_steps[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE lists ("
	"  name TEXT PRIMARY KEY,"
	"  scope TEXT NOT NULL,"		/* chapter, region, network */
	"  region TEXT,"
	"  chapter TEXT);"
	"CREATE TABLE members ("
	"  list TEXT NOT NULL,"
	"  addr TEXT NOT NULL,"			/* canonical: see addr.h */
	"  name TEXT NOT NULL DEFAULT '',"
	"  mode TEXT NOT NULL DEFAULT 'normal',"	/* normal digest nomail */
	"  created INTEGER NOT NULL,"
	"  PRIMARY KEY (list, addr)) WITHOUT ROWID;"
	"CREATE INDEX members_addr ON members (addr);"
	"CREATE TABLE tokens ("
	"  hash TEXT PRIMARY KEY,"		/* hex SHA-256 of the token */
	"  list TEXT NOT NULL,"
	"  addr TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  arg TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE processed ("		/* spool messages seen */
	"  id TEXT PRIMARY KEY,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  done INTEGER NOT NULL DEFAULT 0,"
	"  updated INTEGER NOT NULL);"
	"CREATE TABLE outmsg ("			/* mail we send: out/ID */
	"  id TEXT PRIMARY KEY,"
	"  list TEXT NOT NULL DEFAULT '',"
	"  kind TEXT NOT NULL,"			/* post, reply, notice */
	"  sender TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  total INTEGER NOT NULL DEFAULT 0,"
	"  sent INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  done INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE outq ("			/* one row per recipient */
	"  msg TEXT NOT NULL,"
	"  rcpt TEXT NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0,"	/* see outq.h */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0,"
	"  reply TEXT,"
	"  PRIMARY KEY (msg, rcpt)) WITHOUT ROWID;"
	"CREATE INDEX outq_due ON outq (state, next_try);"
	"CREATE TABLE held ("			/* posts kept for moderators */
	"  id TEXT PRIMARY KEY,"
	"  list TEXT NOT NULL,"
	"  sender TEXT NOT NULL,"
	"  subject TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE replies ("		/* for the per-hour cap */
	"  addr TEXT NOT NULL,"
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX replies_addr ON replies (addr, ts);"
	"CREATE TABLE counters ("
	"  key TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL DEFAULT 0);",
	/* 1 -> 2: per-recipient VERP per message. */
	"ALTER TABLE outmsg ADD COLUMN verp INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 2 -> 3: each delivery round looks for the unfinished messages in
	 * order; without this it reads every message ever sent.
	 */
	"CREATE INDEX outmsg_pending ON outmsg (created, id) WHERE done = 0;",
	/* 3 -> 4: the text of small outgoing mail (outq_body.h). */
	"CREATE TABLE outbody ("
	"  id TEXT PRIMARY KEY,"
	"  data BLOB NOT NULL);",
};

static const struct store_schema core_schema = {
	"core", core_steps, sizeof(core_steps) / sizeof(core_steps[0])
};

/* Every module's tables, in the order they are created. */
static const struct store_schema *const schemas[] = {
	&core_schema,
	&bounce_schema,
	&proposals_schema,
	&events_schema,
	&moderation_schema,
	&digest_schema,
	&mailbox_schema,
	&archive_schema,
	&outq_rate_schema,
	&pages_schema,		/* last: its triggers watch the tables above */
	NULL
};

void
store_log_error(struct store *st, const char *what)
{
	log_warnx("database: %s: %s", what, sqlite3_errmsg(st->db));
}

int
store_open(const char *path, struct store **out)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("database %s: %s", path, st->db ?
		    sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		sqlite3_close(st->db);
		free(st);
		return -1;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (store_exec(st, "PRAGMA journal_mode=WAL") != 0 ||
	    store_exec(st, "PRAGMA synchronous=NORMAL") != 0 ||
	    store_exec(st, "PRAGMA foreign_keys=ON") != 0 ||
	    store_migrate(st) != 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int
store_open_config(const struct config *cf, struct store **out)
{
	char *path = config_state_path(cf, "state.db");
	int rc = store_open(path, out);

	free(path);
	return rc;
}

void
store_close(struct store *st)
{
	struct store_stmt *s, *next;

	if (st == NULL)
		return;
	for (s = st->stmts; s; s = next) {
		next = s->next;
		sqlite3_finalize(s->stmt);
		free(s);
	}
	sqlite3_close(st->db);
	free(st);
}

/* The version of module's tables (0: none yet); 0 or -1. */
static int
store_version(struct store *st, const char *module, int *version)
{
	sqlite3_stmt *s;
	int rc;

	*version = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT version FROM schema_versions "
	    "WHERE module = ?1", -1, &s, NULL) != SQLITE_OK) {
		store_log_error(st, "schema_versions");
		return -1;
	}
	sqlite3_bind_text(s, 1, module, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Bring one module's tables up to date.  A database newer than this
 * program is refused rather than guessed at.
 */
static int
store_migrate_one(struct store *st, const struct store_schema *sc)
{
	sqlite3_stmt *s;
	int version;

	/* IMMEDIATE: two processes starting at once migrate in turn. */
	if (store_exec(st, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (store_version(st, sc->module, &version) != 0)
		goto fail;
	if (version > sc->nsteps) {
		log_warnx("database: the %s tables are at version %d, newer "
		    "than this program's %d", sc->module, version, sc->nsteps);
		goto fail;
	}
	if (version == sc->nsteps)
		return store_exec(st, "COMMIT");
	for (; version < sc->nsteps; version++)
		if (store_exec(st, sc->steps[version]) != 0)
			goto fail;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO schema_versions (module, "
	    "version) VALUES (?1, ?2) ON CONFLICT (module) DO UPDATE SET "
	    "version = ?2", -1, &s, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(s, 1, sc->module, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, version);
	if (sqlite3_step(s) != SQLITE_DONE) {
		sqlite3_finalize(s);
		goto fail;
	}
	sqlite3_finalize(s);
	if (store_exec(st, "COMMIT") != 0)
		goto fail;
	log_info("database: %s tables at version %d", sc->module, version);
	return 0;
fail:
	store_exec(st, "ROLLBACK");
	return -1;
}

static int
store_migrate(struct store *st)
{
	if (store_exec(st, "CREATE TABLE IF NOT EXISTS schema_versions ("
	    "module TEXT PRIMARY KEY, version INTEGER NOT NULL)") != 0)
		return -1;
	for (size_t i = 0; schemas[i]; i++)
		if (store_migrate_one(st, schemas[i]) != 0)
			return -1;
	return 0;
}

/* Run SQL without parameters (schema, pragmas, transaction control). */
int
store_exec(struct store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("database: %s", err ? err : sqlite3_errmsg(st->db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/*
 * The prepared statement for sql, reset and with its bindings cleared.
 * sql must be a string that lives as long as the store (a literal): the
 * cache is keyed by its address first, its text second.
 */
sqlite3_stmt *
store_stmt(struct store *st, const char *sql)
{
	struct store_stmt *s;

	for (s = st->stmts; s; s = s->next)
		if (s->sql == sql || strcmp(s->sql, sql) == 0) {
			sqlite3_reset(s->stmt);
			sqlite3_clear_bindings(s->stmt);
			return s->stmt;
		}
	s = xcalloc(1, sizeof(*s));
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->stmt, NULL) != SQLITE_OK) {
		log_warnx("database: cannot prepare \"%.60s\": %s", sql,
		    sqlite3_errmsg(st->db));
		free(s);
		return NULL;
	}
	s->sql = sql;
	s->next = st->stmts;
	st->stmts = s;
	return s->stmt;
}

/*
 * Step a query once, for whether it has a row: 1 when it has, 0 when
 * not, -1 (logged) on error.
 */
int
store_exists(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_log_error(st, sqlite3_sql(s));
	return -1;
}

/* Step a statement that returns no rows; 0 on success. */
int
store_step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, sqlite3_sql(s));
		return -1;
	}
	return 0;
}

/*
 * Transactions nest: the outermost begin is a BEGIN IMMEDIATE, which
 * takes the write lock at once, so a busy database is waited for here
 * and not discovered mid-transaction; an inner one is a savepoint, so
 * its rollback undoes its own work only (the processor handles a batch
 * of messages in one transaction, each in a savepoint of its own).
 */
int
store_begin(struct store *st)
{
	if (st->depth > 0) {
		if (store_exec(st, "SAVEPOINT nested") != 0)
			return -1;
		st->depth++;
		return 0;
	}
	if (store_exec(st, "BEGIN IMMEDIATE") != 0)
		return -1;
	st->depth = 1;
	return 0;
}

int
store_commit(struct store *st)
{
	if (st->depth == 0)
		return 0;
	if (st->depth > 1) {
		/* On failure the caller's rollback undoes the savepoint. */
		if (store_exec(st, "RELEASE nested") != 0)
			return -1;
		st->depth--;
		return 0;
	}
	st->depth = 0;
	if (store_exec(st, "COMMIT") != 0) {
		store_exec(st, "ROLLBACK");
		return -1;
	}
	return 0;
}

void
store_rollback(struct store *st)
{
	if (st->depth == 0)
		return;
	if (st->depth > 1) {
		st->depth--;
		if (store_exec(st, "ROLLBACK TO nested") == 0)
			store_exec(st, "RELEASE nested");
		return;
	}
	st->depth = 0;
	if (sqlite3_get_autocommit(st->db) == 0)
		store_exec(st, "ROLLBACK");
}

/*
 * Mirror the configured lists and their scopes into the database, so that
 * scope expansion is one SQL statement that streams its rows.
 */
int
store_sync_lists(struct store *st, const struct config *cf)
{
	static const char *const scope_names[] = {
		"chapter", "region", "network"
	};
	sqlite3_stmt *s;
	size_t i;

	if (store_begin(st) != 0)
		return -1;
	if (store_exec(st, "DELETE FROM lists") != 0)
		goto fail;
	for (i = 0; i < cf->nlists; i++) {
		const struct list *l = &cf->lists[i];

		if ((s = store_stmt(st, "INSERT INTO lists (name, scope, "
		    "region, chapter) VALUES (?1, ?2, ?3, ?4)")) == NULL)
			goto fail;
		sqlite3_bind_text(s, 1, l->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, scope_names[l->scope], -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(s, 3, l->region, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, l->chapter, -1, SQLITE_STATIC);
		if (store_step_done(st, s) != 0)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return -1;
}

/* Add delta to a named counter (for mlserverctl stats). */
void
store_count(struct store *st, const char *key, long delta)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO counters (key, value) "
	    "VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET "
	    "value = value + ?2");

	if (s == NULL)
		return;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, delta);
	store_step_done(st, s);
}
