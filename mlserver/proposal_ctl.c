/*
 * proposal_ctl - mlserverctl proposals and forward; see proposal_ctl.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "proposal_ctl.h"
#include "proposal_forward.h"
#include "proposal_sched.h"
#include "proposals.h"
#include "spool.h"
#include "store.h"

#define EX_OK		0
#define EX_USAGE	64
#define EX_NOUSER	67
#define EX_SOFTWARE	70
#define EX_TEMPFAIL	75

static void	pctl_row(const struct config *, sqlite3_stmt *, int, int,
		    struct buf *);
static void	pctl_poke(const struct config *);

/* One proposal, as a line or a JSON object. */
static void
pctl_row(const struct config *cf, sqlite3_stmt *s, int json, int first,
    struct buf *out)
{
	static const char *const names[] = {
		"ref", "list", "state", "title", "theme", "proposer", "name",
		"forwarded_by", "answer_state", "answer"
	};
	static const char *const times[] = {
		"created", "opened", "forwarded", "answered"
	};
	const char *v[10];
	long long t[4], supporters, comments;
	int i;

	for (i = 0; i < 10; i++) {
		v[i] = (const char *)sqlite3_column_text(s, i);
		if (v[i] == NULL)
			v[i] = "";
	}
	for (i = 0; i < 4; i++)
		t[i] = sqlite3_column_int64(s, 10 + i);
	supporters = sqlite3_column_int64(s, 14);
	comments = sqlite3_column_int64(s, 15);
	if (!json) {
		buf_printf(out, "%s  %-12s %-10s ", v[0], v[1], v[2]);
		proposal_sched_local(out, cf->timezone, (time_t)t[0], 0);
		buf_printf(out, "  %lld supporters, %lld comments  %s\n",
		    supporters, comments, v[3]);
		return;
	}
	buf_adds(out, first ? "\n {" : ",\n {");
	for (i = 0; i < 10; i++) {
		buf_printf(out, "%s\"%s\": ", i ? ", " : "", names[i]);
		ctl_json_string(out, v[i]);
	}
	for (i = 0; i < 4; i++)
		buf_printf(out, ", \"%s\": %lld", times[i], t[i]);
	buf_printf(out, ", \"supporters\": %lld, \"comments\": %lld}",
	    supporters, comments);
}

int
proposal_ctl_list(const struct config *cf, struct store *st, int argc,
    char **argv, int json, struct buf *out)
{
	const char *list = NULL, *state = NULL;
	enum proposal_state ps;
	sqlite3_stmt *s;
	int i, rc, first = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			state = argv[++i];
		else if (argv[i][0] != '-' && list == NULL)
			list = argv[i];
		else {
			fprintf(stderr, "usage: mlserverctl proposals [LIST] "
			    "[--state S] [--json]\n");
			return EX_USAGE;
		}
	}
	if (list && config_list(cf, list) == NULL) {
		fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n", list,
		    cf->path);
		return EX_NOUSER;
	}
	if (state && proposal_state_parse(state, &ps) != 0) {
		fprintf(stderr, "mlserverctl: state must be submitted, open, "
		    "forwarded, answered, rejected or withdrawn\n");
		return EX_USAGE;
	}
	if (sqlite3_prepare_v2(st->db, "SELECT p.ref, p.list, p.state, "
	    "p.title, p.theme, p.proposer, p.name, p.forwarded_by, "
	    "p.answer_state, p.answer, p.created, p.opened, p.forwarded, "
	    "p.answered, (SELECT count(*) FROM proposal_supporters x "
	    "WHERE x.ref = p.ref), (SELECT count(*) FROM proposal_comments "
	    "x WHERE x.ref = p.ref AND x.held = 0) FROM proposals p "
	    "JOIN lists l ON l.name = p.list "
	    "LEFT JOIN lists w ON w.name = ?1 "
	    "WHERE (?1 IS NULL OR " PROPOSALS_SCOPE_SQL ") "
	    "AND (?2 IS NULL OR p.state = ?2) ORDER BY p.year, p.seq", -1,
	    &s, NULL) != SQLITE_OK) {
		store_log_error(st, "proposals");
		return EX_SOFTWARE;
	}
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, state ? proposal_state_name(ps) : NULL, -1,
	    SQLITE_STATIC);
	if (json)
		buf_adds(out, "[");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		pctl_row(cf, s, json, first, out);
		first = 0;
	}
	sqlite3_finalize(s);
	if (json)
		buf_adds(out, "\n]\n");
	else if (first)
		buf_adds(out, "no proposals\n");
	return rc == SQLITE_DONE ? EX_OK : EX_TEMPFAIL;
}

/* Tell a running daemon that mail is queued (as mlserverctl flush). */
static void
pctl_poke(const struct config *cf)
{
	char *path = config_state_path(cf, "mlserverd.pid");
	FILE *fp = fopen(path, "r");
	long pid = 0;

	if (fp != NULL) {
		if (fscanf(fp, "%ld", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	free(path);
	if (pid > 0)
		kill((pid_t)pid, SIGUSR1);
}

int
proposal_ctl_forward(const struct config *cf, struct store *st, int argc,
    char **argv, struct buf *out)
{
	const struct list *only = NULL;
	int n;

	if (argc > 1) {
		fprintf(stderr, "usage: mlserverctl forward [LIST]\n");
		return EX_USAGE;
	}
	if (argc == 1) {
		if ((only = config_list(cf, argv[0])) == NULL) {
			fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n",
			    argv[0], cf->path);
			return EX_NOUSER;
		}
		if (only->forward_to.n == 0) {
			fprintf(stderr, "mlserverctl: list \"%s\" has no "
			    "forward_to\n", only->name);
			return EX_USAGE;
		}
	}
	/* The mail is written to the spool, which may not exist yet. */
	if (spool_init(cf->state_dir) != 0) {
		fprintf(stderr, "mlserverctl: cannot use the spool in %s\n",
		    cf->state_dir);
		return EX_TEMPFAIL;
	}
	if ((n = proposal_forward_now(cf, st, only, out)) < 0) {
		fprintf(stderr, "mlserverctl: database error; nothing "
		    "forwarded\n");
		return EX_TEMPFAIL;
	}
	if (out->len == 0)
		buf_adds(out, "no list has forward_to\n");
	if (n > 0)
		pctl_poke(cf);
	return EX_OK;
}
