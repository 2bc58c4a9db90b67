/*
 * mlserverctl - administration from the command line.
 *
 * It works on the same state.db and spool as the daemon, which may be
 * running: SQLite's WAL and busy timeout arbitrate.  "inject" stores like
 * mlserver-receive and leaves the rest to the daemon; "flush" makes the
 * deferred mail due and pokes the daemon with SIGUSR1.  Exit codes are
 * sysexits.h's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "archive.h"
#include "buf.h"
#include "config.h"
#include "ctl.h"
#include "digest.h"
#include "event_handle.h"
#include "members.h"
#include "moderate.h"
#include "outq.h"
#include "pages.h"
#include "proposal_ctl.h"
#include "log.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

#define EX_OK		0
#define EX_USAGE	64
#define EX_DATAERR	65
#define EX_NOUSER	67
#define EX_UNAVAILABLE	69
#define EX_SOFTWARE	70
#define EX_TEMPFAIL	75
#define EX_CONFIG	78

struct ctl {
	struct config	*cf;
	struct store	*st;
	int		 json;
	struct buf	 out;
	int		 first;	/* for JSON arrays */
};

static void	 usage(void);
static int	 need_store(struct ctl *);
static const struct list *need_list(struct ctl *, const char *);
static int	 read_stdin(struct buf *);
static int	 cmd_check(struct ctl *);
static int	 cmd_lists(struct ctl *);
static int	 cmd_members(struct ctl *, const char *);
static int	 member_line(const struct member *, void *);
static int	 cmd_add(struct ctl *, const char *, const char *, const char *);
static int	 cmd_remove(struct ctl *, const char *, const char *);
static int	 cmd_import(struct ctl *, const char *);
static int	 cmd_export(struct ctl *, const char *);
static int	 export_line(const struct member *, void *);
static int	 cmd_queue(struct ctl *);
static int	 queue_line(const struct outq_summary *, void *);
static int	 cmd_flush(struct ctl *);
static int	 cmd_stats(struct ctl *);
static int	 cmd_held(struct ctl *, const char *);
static int	 cmd_bounces(struct ctl *, const char *);
static int	 cmd_inject(struct ctl *, const char *, const char *);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: mlserverctl -c FILE [--json] VERB ...\n"
	    "verbs: check | lists | members LIST | add LIST ADDR [NAME] |\n"
	    "       remove LIST ADDR | import LIST < CSV | export LIST |\n"
	    "       queue | flush | stats | held [LIST] | bounces LIST |\n"
	    "       approve ID | reject ID [REASON] |\n"
	    "       proposals [LIST] [--state S] | forward [LIST] |\n"
	    "       events [LIST] | roster EVENT | digest [LIST] |\n"
	    "       pages [LIST] | archive rebuild [LIST] |\n"
	    "       inject [-f SENDER] RECIPIENT < MESSAGE\n");
	exit(EX_USAGE);
}

static int
need_store(struct ctl *c)
{
	if (c->st)
		return 0;
	if (store_open_config(c->cf, &c->st) != 0 ||
	    store_sync_lists(c->st, c->cf) != 0) {
		fprintf(stderr, "mlserverctl: cannot open the database in "
		    "%s\n", c->cf->state_dir);
		exit(EX_TEMPFAIL);
	}
	return 0;
}

static const struct list *
need_list(struct ctl *c, const char *name)
{
	const struct list *l = config_list(c->cf, name);

	if (l == NULL) {
		fprintf(stderr, "mlserverctl: no list \"%s\" in %s\n", name,
		    c->cf->path);
		exit(EX_NOUSER);
	}
	need_store(c);
	return l;
}

static int
read_stdin(struct buf *b)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(b, chunk, n);
	return ferror(stdin) ? -1 : 0;
}

static int
cmd_check(struct ctl *c)
{
	printf("%s: OK: %zu regions, %zu lists\n", c->cf->path,
	    c->cf->nregions, c->cf->nlists);
	return EX_OK;
}

static int
cmd_lists(struct ctl *c)
{
	static const char *const scopes[] = { "chapter", "region", "network" };
	static const char *const policies[] = {
		"open", "members", "moderated", "announce"
	};
	size_t i;

	need_store(c);
	if (c->json)
		buf_adds(&c->out, "[");
	for (i = 0; i < c->cf->nlists; i++) {
		const struct list *l = &c->cf->lists[i];
		struct buf scope = BUF_INIT;
		long long n = members_count(c->st, l->name);

		buf_adds(&scope, scopes[l->scope]);
		if (l->region)
			buf_printf(&scope, ":%s", l->region);
		if (l->chapter)
			buf_printf(&scope, "/%s", l->chapter);
		if (c->json) {
			buf_adds(&c->out, i ? ",\n {\"name\": " : "\n {\"name\": ");
			ctl_json_string(&c->out, l->name);
			buf_adds(&c->out, ", \"scope\": ");
			ctl_json_string(&c->out, buf_cstr(&scope));
			buf_printf(&c->out, ", \"policy\": \"%s\", "
			    "\"members\": %lld, \"description\": ",
			    policies[l->policy], n);
			ctl_json_string(&c->out, l->description);
			buf_adds(&c->out, "}");
		} else
			buf_printf(&c->out, "%-16s %-28s %-9s %6lld  %s\n",
			    l->name, buf_cstr(&scope), policies[l->policy], n,
			    l->description);
		buf_free(&scope);
	}
	if (c->json)
		buf_adds(&c->out, "\n]\n");
	return EX_OK;
}

static int
member_line(const struct member *m, void *arg)
{
	struct ctl *c = arg;

	if (c->json) {
		buf_adds(&c->out, c->first ? "\n {\"address\": " :
		    ",\n {\"address\": ");
		c->first = 0;
		ctl_json_string(&c->out, m->addr);
		buf_adds(&c->out, ", \"name\": ");
		ctl_json_string(&c->out, m->name);
		buf_printf(&c->out, ", \"mode\": \"%s\", \"since\": %lld}",
		    members_mode_name(m->mode), m->created);
	} else {
		buf_printf(&c->out, "%s", m->addr);
		if (*m->name)
			buf_printf(&c->out, "\t%s", m->name);
		if (m->mode != MEMBER_NORMAL)
			buf_printf(&c->out, "\t[%s]",
			    members_mode_name(m->mode));
		buf_addc(&c->out, '\n');
	}
	return 0;
}

static int
cmd_members(struct ctl *c, const char *list)
{
	need_list(c, list);
	c->first = 1;
	if (c->json)
		buf_adds(&c->out, "[");
	if (members_foreach(c->st, list, member_line, c) != 0)
		return EX_TEMPFAIL;
	if (c->json)
		buf_adds(&c->out, "\n]\n");
	return EX_OK;
}

static int
cmd_add(struct ctl *c, const char *list, const char *addr, const char *name)
{
	char canon[ADDR_MAX + 1];
	int rc;

	need_list(c, list);
	if (addr_canon(addr, canon, sizeof(canon)) != 0) {
		fprintf(stderr, "mlserverctl: \"%s\" is not a mail address\n",
		    addr);
		return EX_DATAERR;
	}
	if ((rc = members_add(c->st, list, canon, name)) < 0)
		return EX_TEMPFAIL;
	printf("%s: %s %s\n", list, canon, rc ? "added" :
	    "was already a member");
	return EX_OK;
}

static int
cmd_remove(struct ctl *c, const char *list, const char *addr)
{
	char canon[ADDR_MAX + 1];
	int rc;

	need_list(c, list);
	if (addr_canon(addr, canon, sizeof(canon)) != 0) {
		fprintf(stderr, "mlserverctl: \"%s\" is not a mail address\n",
		    addr);
		return EX_DATAERR;
	}
	if ((rc = members_remove(c->st, list, canon)) < 0)
		return EX_TEMPFAIL;
	if (rc == 0) {
		fprintf(stderr, "%s: %s is not a member\n", list, canon);
		return EX_NOUSER;
	}
	printf("%s: %s removed\n", list, canon);
	return EX_OK;
}

static int
cmd_import(struct ctl *c, const char *list)
{
	struct buf in = BUF_INIT, errors = BUF_INIT;
	struct ctl_rows rows;
	int bad, added, rc = EX_OK;

	need_list(c, list);
	if (read_stdin(&in) != 0) {
		fprintf(stderr, "mlserverctl: reading standard input: %s\n",
		    strerror(errno));
		buf_free(&in);
		return EX_TEMPFAIL;
	}
	bad = ctl_csv_parse(in.data ? in.data : "", in.len, &rows, &errors);
	if (bad > 0) {
		fputs(buf_cstr(&errors), stderr);
		fprintf(stderr, "%s: %d bad row%s; nothing imported\n", list,
		    bad, bad == 1 ? "" : "s");
		rc = EX_DATAERR;
	} else if (ctl_import(c->st, list, &rows, &added) != 0) {
		fprintf(stderr, "%s: database error; nothing imported\n",
		    list);
		rc = EX_TEMPFAIL;
	} else
		printf("%s: %zu rows, %d new members\n", list, rows.n, added);
	ctl_rows_free(&rows);
	buf_free(&in);
	buf_free(&errors);
	return rc;
}

static int
export_line(const struct member *m, void *arg)
{
	struct buf *b = arg;

	ctl_csv_field(b, m->addr);
	buf_addc(b, ',');
	ctl_csv_field(b, m->name);
	buf_printf(b, ",%s\r\n", members_mode_name(m->mode));
	return 0;
}

static int
cmd_export(struct ctl *c, const char *list)
{
	need_list(c, list);
	buf_adds(&c->out, "address,name,mode\r\n");
	return members_foreach(c->st, list, export_line, &c->out) == 0 ?
	    EX_OK : EX_TEMPFAIL;
}

static int
queue_line(const struct outq_summary *q, void *arg)
{
	struct ctl *c = arg;
	char when[32];
	time_t t = (time_t)q->created;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	if (c->json) {
		buf_printf(&c->out, "%s\n {\"id\": \"%s\", \"list\": ",
		    c->first ? "" : ",", q->id);
		c->first = 0;
		ctl_json_string(&c->out, q->list);
		buf_printf(&c->out, ", \"kind\": \"%s\", \"created\": %lld, "
		    "\"total\": %lld, \"sent\": %lld, \"deferred\": %lld, "
		    "\"failed\": %lld, \"pending\": %lld}", q->kind,
		    q->created, q->total, q->sent, q->deferred, q->failed,
		    q->pending);
	} else
		buf_printf(&c->out, "%s %-12s %-6s %s  %lld of %lld delivered, "
		    "%lld deferred, %lld failed, %lld pending\n", q->id,
		    q->list, q->kind, when, q->sent, q->total, q->deferred,
		    q->failed, q->pending);
	return 0;
}

static int
cmd_queue(struct ctl *c)
{
	need_store(c);
	c->first = 1;
	if (c->json)
		buf_adds(&c->out, "[");
	if (outq_foreach(c->st, queue_line, c) != 0)
		return EX_TEMPFAIL;
	if (c->json)
		buf_adds(&c->out, "\n]\n");
	else if (c->out.len == 0)
		buf_adds(&c->out, "the queue is empty\n");
	return EX_OK;
}

static int
cmd_flush(struct ctl *c)
{
	char *path;
	FILE *fp;
	long pid = 0;
	int n;

	need_store(c);
	if ((n = outq_flush(c->st)) < 0)
		return EX_TEMPFAIL;
	path = config_state_path(c->cf, "mlserverd.pid");
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%ld", &pid) != 1)
			pid = 0;
		fclose(fp);
	}
	free(path);
	if (pid > 0 && kill((pid_t)pid, SIGUSR1) == 0)
		printf("%d deferred recipients due now; mlserverd notified\n",
		    n);
	else
		printf("%d deferred recipients due now; mlserverd is not "
		    "running\n", n);
	return EX_OK;
}

static int
cmd_stats(struct ctl *c)
{
	static const char *const queries[][2] = {
		{ "lists", "SELECT count(*) FROM lists" },
		{ "members", "SELECT count(*) FROM members" },
		{ "addresses", "SELECT count(DISTINCT addr) FROM members" },
		{ "queue_messages", "SELECT count(*) FROM outmsg WHERE done = 0" },
		{ "queue_pending", "SELECT count(*) FROM outq WHERE state = 0" },
		{ "queue_deferred", "SELECT count(*) FROM outq WHERE state = 2" },
		{ "held", "SELECT count(*) FROM held" },
		{ "sent_messages", "SELECT count(*) FROM outmsg WHERE done = 1" },
		{ "sent_recipients", "SELECT coalesce(sum(sent), 0) FROM outmsg" },
		{ "failed_recipients",
		    "SELECT coalesce(sum(failed), 0) FROM outmsg" },
	};
	sqlite3_stmt *s;
	size_t i;
	int first = 1;

	need_store(c);
	if (c->json)
		buf_adds(&c->out, "{");
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		long long v = 0;

		if ((s = store_stmt(c->st, queries[i][1])) == NULL)
			return EX_SOFTWARE;
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (c->json)
			buf_printf(&c->out, "%s\n \"%s\": %lld",
			    first ? "" : ",", queries[i][0], v);
		else
			buf_printf(&c->out, "%-20s %lld\n", queries[i][0], v);
		first = 0;
	}
	if ((s = store_stmt(c->st, "SELECT key, value FROM counters "
	    "ORDER BY key")) == NULL)
		return EX_SOFTWARE;
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		long long v = sqlite3_column_int64(s, 1);

		if (c->json)
			buf_printf(&c->out, ",\n \"count_%s\": %lld", k, v);
		else
			buf_printf(&c->out, "count_%-14s %lld\n", k, v);
	}
	sqlite3_reset(s);
	if (c->json)
		buf_adds(&c->out, "\n}\n");
	return EX_OK;
}

static int
cmd_held(struct ctl *c, const char *list)
{
	sqlite3_stmt *s;

	need_store(c);
	if (list)
		need_list(c, list);
	s = store_stmt(c->st, "SELECT id, list, sender, subject, reason, "
	    "created FROM held WHERE ?1 IS NULL OR list = ?1 "
	    "ORDER BY created, id");
	if (s == NULL)
		return EX_SOFTWARE;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	c->first = 1;
	if (c->json)
		buf_adds(&c->out, "[");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *f[5];

		for (int i = 0; i < 5; i++)
			f[i] = (const char *)sqlite3_column_text(s, i);
		if (c->json) {
			buf_printf(&c->out, "%s\n {\"id\": \"%s\", \"list\": ",
			    c->first ? "" : ",", f[0]);
			ctl_json_string(&c->out, f[1]);
			buf_adds(&c->out, ", \"sender\": ");
			ctl_json_string(&c->out, f[2]);
			buf_adds(&c->out, ", \"subject\": ");
			ctl_json_string(&c->out, f[3]);
			buf_adds(&c->out, ", \"reason\": ");
			ctl_json_string(&c->out, f[4]);
			buf_printf(&c->out, ", \"created\": %lld}",
			    (long long)sqlite3_column_int64(s, 5));
		} else
			buf_printf(&c->out, "%s %-12s <%s> %s (%s)\n", f[0],
			    f[1], f[2], f[3], f[4]);
		c->first = 0;
	}
	sqlite3_reset(s);
	if (c->json)
		buf_adds(&c->out, "\n]\n");
	return EX_OK;
}

/* Bounce scores of a list's members, highest first. */
static int
cmd_bounces(struct ctl *c, const char *list)
{
	sqlite3_stmt *s;

	need_list(c, list);
	s = store_stmt(c->st, "SELECT addr, score, last_bounce, disabled, "
	    "warnings, reason FROM bounces WHERE list = ?1 "
	    "ORDER BY score DESC, addr");
	if (s == NULL)
		return EX_SOFTWARE;
	sqlite3_bind_text(s, 1, list, -1, SQLITE_STATIC);
	c->first = 1;
	if (c->json)
		buf_adds(&c->out, "[");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(s, 0);
		double score = sqlite3_column_double(s, 1);
		long long last = sqlite3_column_int64(s, 2);
		long long disabled = sqlite3_column_int64(s, 3);
		int warnings = sqlite3_column_int(s, 4);
		const char *why = (const char *)sqlite3_column_text(s, 5);

		if (c->json) {
			buf_adds(&c->out, c->first ? "\n {\"address\": " :
			    ",\n {\"address\": ");
			ctl_json_string(&c->out, addr);
			buf_printf(&c->out, ", \"score\": %.1f, \"last_bounce\": "
			    "%lld, \"disabled\": %s, \"warnings\": %d, "
			    "\"reason\": ", score, last,
			    disabled ? "true" : "false", warnings);
			ctl_json_string(&c->out, why);
			buf_adds(&c->out, "}");
		} else
			buf_printf(&c->out, "%-40s %4.1f %s%s\n", addr, score,
			    disabled ? "disabled " : "", why ? why : "");
		c->first = 0;
	}
	sqlite3_reset(s);
	if (c->json)
		buf_adds(&c->out, "\n]\n");
	return EX_OK;
}

/* Store a message from standard input as if the MTA had delivered it. */
static int
cmd_inject(struct ctl *c, const char *sender, const char *rcpt)
{
	struct spool_writer w;
	struct buf in = BUF_INIT;
	struct route r;
	char *rcpts[1] = { (char *)rcpt };

	if (route_lookup(c->cf, rcpt, &r) != 0) {
		fprintf(stderr, "mlserverctl: <%s> is not a list address\n",
		    rcpt);
		return EX_NOUSER;
	}
	if (read_stdin(&in) != 0 || in.len == 0) {
		fprintf(stderr, "mlserverctl: no message on standard input\n");
		buf_free(&in);
		return EX_DATAERR;
	}
	if (spool_init(c->cf->state_dir) != 0 ||
	    spool_begin(c->cf->state_dir, sender, rcpts, 1, &w) != 0) {
		buf_free(&in);
		return EX_TEMPFAIL;
	}
	if (spool_write(&w, in.data, in.len) != 0 || spool_commit(&w) != 0) {
		fprintf(stderr, "mlserverctl: cannot store the message: %s\n",
		    strerror(errno));
		spool_abort(&w);
		buf_free(&in);
		return EX_TEMPFAIL;
	}
	printf("stored as %s\n", w.id);
	buf_free(&in);
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct ctl c;
	struct buf errors = BUF_INIT;
	const char *path = NULL, *verb;
	int i = 1, rc;

	memset(&c, 0, sizeof(c));
	buf_init(&c.out);
	log_init("mlserverctl", 1, 0);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else
			usage();
	}
	if (path == NULL || i >= argc)
		usage();
	verb = argv[i++];
	argc -= i;
	argv += i;
	if (config_load(path, &c.cf, &errors) != 0) {
		fputs(buf_cstr(&errors), stderr);
		buf_free(&errors);
		buf_free(&c.out);
		return EX_CONFIG;
	}
	if (strcmp(verb, "check") == 0 && argc == 0)
		rc = cmd_check(&c);
	else if (strcmp(verb, "lists") == 0 && argc == 0)
		rc = cmd_lists(&c);
	else if (strcmp(verb, "members") == 0 && argc == 1)
		rc = cmd_members(&c, argv[0]);
	else if (strcmp(verb, "add") == 0 && (argc == 2 || argc == 3))
		rc = cmd_add(&c, argv[0], argv[1], argc == 3 ? argv[2] : "");
	else if (strcmp(verb, "remove") == 0 && argc == 2)
		rc = cmd_remove(&c, argv[0], argv[1]);
	else if (strcmp(verb, "import") == 0 && argc == 1)
		rc = cmd_import(&c, argv[0]);
	else if (strcmp(verb, "export") == 0 && argc == 1)
		rc = cmd_export(&c, argv[0]);
	else if (strcmp(verb, "queue") == 0 && argc == 0)
		rc = cmd_queue(&c);
	else if (strcmp(verb, "flush") == 0 && argc == 0)
		rc = cmd_flush(&c);
	else if (strcmp(verb, "stats") == 0 && argc == 0)
		rc = cmd_stats(&c);
	else if (strcmp(verb, "held") == 0 && argc <= 1)
		rc = cmd_held(&c, argc ? argv[0] : NULL);
	else if ((strcmp(verb, "approve") == 0 && argc == 1) ||
	    (strcmp(verb, "reject") == 0 && argc >= 1))
		rc = need_store(&c) == 0 ? moderate_ctl_verb(c.cf, c.st, verb,
		    argc, argv, &c.out) : EX_TEMPFAIL;
	else if (strcmp(verb, "bounces") == 0 && argc == 1)
		rc = cmd_bounces(&c, argv[0]);
	else if (strcmp(verb, "inject") == 0 && argc == 1)
		rc = cmd_inject(&c, "", argv[0]);
	else if (strcmp(verb, "inject") == 0 && argc == 3 &&
	    strcmp(argv[0], "-f") == 0)
		rc = cmd_inject(&c, argv[1], argv[2]);
	else if (strcmp(verb, "proposals") == 0 && need_store(&c) == 0)
		rc = proposal_ctl_list(c.cf, c.st, argc, argv, c.json, &c.out);
	else if (strcmp(verb, "forward") == 0 && need_store(&c) == 0)
		rc = proposal_ctl_forward(c.cf, c.st, argc, argv, &c.out);
	else if (strcmp(verb, "digest") == 0 && need_store(&c) == 0)
		rc = digest_ctl(c.cf, c.st, argc, argv, &c.out);
	else if (strcmp(verb, "events") == 0 && argc <= 1 &&
	    need_store(&c) == 0)
		rc = event_ctl_events(c.cf, c.st, argc ? argv[0] : NULL, c.json,
		    &c.out);
	else if (strcmp(verb, "roster") == 0 && argc == 1 &&
	    need_store(&c) == 0)
		rc = event_ctl_roster(c.cf, c.st, argv[0], &c.out);
	else if (strcmp(verb, "pages") == 0 && argc <= 1 &&
	    need_store(&c) == 0)
		rc = pages_ctl(c.cf, c.st, argc, argv, &c.out);
	else if (strcmp(verb, "archive") == 0 && argc >= 1 && argc <= 2 &&
	    need_store(&c) == 0)
		rc = archive_ctl(c.cf, c.st, argc, argv, &c.out);
	else
		usage();
	fwrite(c.out.data ? c.out.data : "", 1, c.out.len, stdout);
	buf_free(&c.out);
	buf_free(&errors);
	store_close(c.st);
	config_free(c.cf);
	return rc;
}
