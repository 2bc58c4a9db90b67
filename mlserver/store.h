/*
 * store - the SQLite database (STATE_DIR/state.db): connection, schema,
 * migrations, transactions and the prepared-statement cache.
 *
 * Each thread or process opens its own struct store.  The domain modules
 * (members, token, outq, ...) keep their SQL beside their logic and reach
 * the database only through store_stmt(), which prepares a statement once
 * per connection and hands it back reset; no SQL is ever built from data.
 */
#ifndef MLS_STORE_H
#define MLS_STORE_H

#include <sqlite3.h>

struct config;

struct store {
	sqlite3		*db;
	struct store_stmt *stmts;	/* cache, keyed by the SQL text */
	int		 depth;		/* nesting of store_begin */
};

/* A module's tables: steps[i] migrates them from version i to i + 1. */
struct store_schema {
	const char		*module;
	const char *const	*steps;
	int			 nsteps;
};

int		 store_open(const char *path, struct store **);
int		 store_open_config(const struct config *, struct store **);
void		 store_close(struct store *);
sqlite3_stmt	*store_stmt(struct store *, const char *sql);
int		 store_exec(struct store *, const char *sql);
int		 store_begin(struct store *);
int		 store_commit(struct store *);
void		 store_rollback(struct store *);
int		 store_step_done(struct store *, sqlite3_stmt *);
int		 store_exists(struct store *, sqlite3_stmt *);
void		 store_log_error(struct store *, const char *what);
int		 store_sync_lists(struct store *, const struct config *);
void		 store_count(struct store *, const char *key, long delta);

#endif
