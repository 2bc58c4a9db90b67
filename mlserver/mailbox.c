/*
 * mailbox - a thread per configured mailbox, and the common way a
 * message goes from a mailbox into the spool (see mailbox.h).
 *
 * Taking a message is four steps, each recorded in the mailbox_seen
 * table under the mailbox's name and the message's UID (IMAP
 * "UIDVALIDITY:UID", POP3 UIDL, Maildir unique name):
 *
 *	1. the message is written to spool/tmp (not yet accepted);
 *	2. a row in state STORING names the spool id it will have;
 *	3. spool_commit() fsyncs it into spool/new (now it is ours);
 *	4. the row becomes TAKEN; the backend removes the message from the
 *	   mailbox and the row becomes REMOVED.
 *
 * A crash before 3 leaves a STORING row whose spool id is nowhere (tmp/
 * is cleared at start): the row is dropped and the message fetched again.
 * A crash after 3 leaves a STORING row whose id is in new/ (or already
 * processed): it counts as TAKEN, so the message is only removed, never
 * posted twice.  A crash after 4 redoes only the removal.
 *
 * Connection failures are logged once when an outage starts and once
 * when it ends; in between the thread retries with a doubling delay
 * (5 s up to 5 minutes), and a stop request interrupts any wait.
 *
 * For tests, MLSERVER_TEST_MAILBOX_DELAY=N makes each take pause N
 * seconds after the spool commit, before the row says TAKEN, so that
 * a test can kill the daemon in the window that matters most.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "mailbox_private.h"
#include "message.h"
#include "route.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

#define MAILBOX_BACKOFF_FIRST	5
#define MAILBOX_BACKOFF_MAX	300

struct mailbox_set {
	struct config		*cf;	/* the runs' config: one reference */
	struct mailbox_run	*runs;
	size_t			 n;
};

static void	*mailbox_main(void *);
static int	 mailbox_once(struct mailbox_run *);
static void	 mailbox_prune(struct mailbox_run *, int);
static int	 mailbox_set_state(struct mailbox_run *, const char *,
		    const char *, int);
static int	 mailbox_committed(struct mailbox_run *, const char *);
static int	 mailbox_rcpt(struct mailbox_run *, const char *, size_t,
		    char *, size_t);
static char	*mailbox_sender(const char *, size_t);
static int	 mailbox_store(struct mailbox_run *, const char *,
		    const char *, size_t, const char *, struct spool_writer *);

static const char *const mailbox_steps[] = {
	/* 0 -> 1 */
	"CREATE TABLE mailbox_seen ("
	"  mailbox TEXT NOT NULL,"		/* mailbox_conf.name */
	"  uid TEXT NOT NULL,"
	"  spool_id TEXT NOT NULL DEFAULT '',"
	"  state INTEGER NOT NULL,"		/* enum mailbox_state */
	"  updated INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox, uid)) WITHOUT ROWID;",
};

const struct store_schema mailbox_schema = {
	"mailbox", mailbox_steps, sizeof(mailbox_steps) /
	    sizeof(mailbox_steps[0])
};

/*
 * What became of uid: enum mailbox_state, or -2 on a database error
 * (logged).  A STORING row left by a crash is settled here, by whether
 * its spool file was committed.
 */
int
mailbox_seen(struct mailbox_run *r, const char *uid)
{
	sqlite3_stmt *s = store_stmt(r->st, "SELECT state, spool_id FROM "
	    "mailbox_seen WHERE mailbox = ?1 AND uid = ?2");
	char id[SPOOL_ID_LEN + 1] = "";
	int rc, state = MAILBOX_NEW;

	if (s == NULL)
		return -2;
	sqlite3_bind_text(s, 1, r->mc->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		state = sqlite3_column_int(s, 0);
		snprintf(id, sizeof(id), "%s",
		    (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_log_error(r->st, "mailbox_seen");
		return -2;
	}
	if (state != MAILBOX_STORING)
		return state;
	if ((rc = mailbox_committed(r, id)) < 0)
		return -2;
	if (rc) {
		log_info("%s: %s was stored as %s before a restart; removing "
		    "it from the mailbox", r->mc->name, uid, id);
		return mailbox_set_state(r, uid, id, MAILBOX_TAKEN) == 0 ?
		    MAILBOX_TAKEN : -2;
	}
	s = store_stmt(r->st, "DELETE FROM mailbox_seen WHERE mailbox = ?1 "
	    "AND uid = ?2");
	if (s == NULL)
		return -2;
	sqlite3_bind_text(s, 1, r->mc->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, uid, -1, SQLITE_STATIC);
	return store_step_done(r->st, s) == 0 ? MAILBOX_NEW : -2;
}

/*
 * Whether spool id was committed: it is in new/ (or held/, quarantine/),
 * or the processor has seen it.  new/ is looked at before the processed
 * table because the processor records a message before unlinking it.
 */
static int
mailbox_committed(struct mailbox_run *r, const char *id)
{
	static const char *const folders[] = { "new", "held", "quarantine" };
	sqlite3_stmt *s;
	int rc;

	if (!spool_valid_id(id))
		return 0;
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		char *p = spool_path(r->cf->state_dir, folders[i], id);

		rc = access(p, F_OK);
		free(p);
		if (rc == 0)
			return 1;
	}
	if ((s = store_stmt(r->st, "SELECT 1 FROM processed WHERE id = ?1"))
	    == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_exists(r->st, s);
}

static int
mailbox_set_state(struct mailbox_run *r, const char *uid, const char *id,
    int state)
{
	sqlite3_stmt *s = store_stmt(r->st, "INSERT INTO mailbox_seen "
	    "(mailbox, uid, spool_id, state, updated) VALUES (?1, ?2, ?3, ?4, "
	    "strftime('%s', 'now')) ON CONFLICT (mailbox, uid) DO UPDATE SET "
	    "state = ?4, spool_id = CASE WHEN ?3 = '' THEN spool_id ELSE ?3 "
	    "END, updated = strftime('%s', 'now')");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, r->mc->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, id ? id : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, state);
	return store_step_done(r->st, s);
}

int
mailbox_removed(struct mailbox_run *r, const char *uid)
{
	return mailbox_set_state(r, uid, NULL, MAILBOX_REMOVED);
}

/*
 * The list address: the first of Delivered-To, X-Original-To and
 * Envelope-To that is one of ours, else the mailbox's address.  0 and
 * out filled, or -1.
 */
static int
mailbox_rcpt(struct mailbox_run *r, const char *msg, size_t len, char *out,
    size_t outsz)
{
	static const char *const fields[] = {
		"Delivered-To", "X-Original-To", "Envelope-To"
	};
	struct route route;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *v = message_header_get(msg, len, fields[i]);
		char *a = v;
		size_t n;

		if (v == NULL)
			continue;
		a += strspn(a, " \t<");
		n = strcspn(a, " \t>,");
		a[n] = '\0';
		if (addr_canon(a, out, outsz) == 0 &&
		    route_lookup(r->cf, out, &route) == 0) {
			free(v);
			return 0;
		}
		free(v);
	}
	if (r->mc->address == NULL)
		return -1;
	snprintf(out, outsz, "%s", r->mc->address);
	return 0;
}

/*
 * The envelope sender: Return-Path as the delivering MTA wrote it, else
 * the From address (a mailbox filled by hand has no Return-Path, and a
 * null sender would silence every reply).  "" when neither parses.
 */
static char *
mailbox_sender(const char *msg, size_t len)
{
	char canon[ADDR_MAX + 1];
	struct message m;
	char *v, *a;
	size_t n;

	if ((v = message_header_get(msg, len, "Return-Path")) != NULL) {
		a = v + strspn(v, " \t<");
		n = strcspn(a, " \t>");
		a[n] = '\0';
		if (*a == '\0' || addr_canon(a, canon, sizeof(canon)) != 0)
			canon[0] = '\0';
		free(v);
		return xstrdup(canon);
	}
	if (message_parse(msg, len, &m) != 0)
		return xstrdup("");
	a = xstrdup(m.from);
	message_free(&m);
	return a;
}

/* Steps 1 to 3 of the header comment. */
static int
mailbox_store(struct mailbox_run *r, const char *uid, const char *msg,
    size_t len, const char *rcpt, struct spool_writer *w)
{
	char *rcpts[1] = { (char *)rcpt };
	char *sender = mailbox_sender(msg, len);
	int rc;

	if (!spool_space_ok(r->cf->state_dir, len)) {
		log_warn("%s: cannot take %s: spool %s", r->mc->name, uid,
		    r->cf->state_dir);
		free(sender);
		return -1;
	}
	rc = spool_begin(r->cf->state_dir, sender, rcpts, 1, w);
	if (rc == 0)
		rc = spool_write(w, msg, len);
	if (rc != 0) {
		log_warn("%s: cannot store %s", r->mc->name, uid);
		spool_abort(w);
		free(sender);
		return -1;
	}
	if (mailbox_set_state(r, uid, w->id, MAILBOX_STORING) != 0) {
		spool_abort(w);
		free(sender);
		return -1;
	}
	if (spool_commit(w) != 0) {
		log_warn("%s: %s: cannot store %s", r->mc->name, w->id, uid);
		free(sender);
		return -1;
	}
	log_info("%s: from=<%s> size=%zu nrcpt=1 (%s %s)", w->id, sender, len,
	    r->mc->name, uid);
	free(sender);
	return 0;
}

/*
 * Take one message into the spool.  0: it is ours, remove it from the
 * mailbox; 1: not for us, leave it (logged once); -1: not now (logged),
 * leave it and try again later.
 */
int
mailbox_take(struct mailbox_run *r, const char *uid, const char *msg,
    size_t len)
{
	struct spool_writer w;
	char rcpt[ADDR_MAX + 1];
	const char *delay;

	if (r->cf->max_message_size > 0 &&
	    len > (size_t)r->cf->max_message_size) {
		log_warnx("%s: %s is %zu octets, more than max_message_size; "
		    "left in the mailbox", r->mc->name, uid, len);
		return mailbox_set_state(r, uid, NULL, MAILBOX_SKIPPED) == 0 ?
		    1 : -1;
	}
	if (mailbox_rcpt(r, msg, len, rcpt, sizeof(rcpt)) != 0) {
		log_warnx("%s: %s has no Delivered-To, X-Original-To or "
		    "Envelope-To naming a list, and the mailbox has no "
		    "\"address\"; left in the mailbox", r->mc->name, uid);
		return mailbox_set_state(r, uid, NULL, MAILBOX_SKIPPED) == 0 ?
		    1 : -1;
	}
	if (mailbox_store(r, uid, msg, len, rcpt, &w) != 0)
		return -1;
	if (r->stored != NULL)
		r->stored(w.id, r->arg);
	if ((delay = getenv("MLSERVER_TEST_MAILBOX_DELAY")) != NULL) {
		log_info("%s: test delay of %s s after storing %s", r->mc->name,
		    delay, w.id);
		mailbox_sleep(r, atoi(delay), -1);
	}
	/* A failure here is settled by mailbox_seen() next time. */
	if (mailbox_set_state(r, uid, w.id, MAILBOX_TAKEN) != 0)
		return -1;
	return 0;
}

/* Log the start of an outage only; always returns -1. */
int
mailbox_fail(struct mailbox_run *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!r->failing)
		log_warnx("%s: %s; retrying quietly until it works", r->mc->name,
		    msg);
	else
		log_debug("%s: %s", r->mc->name, msg);
	r->failing = 1;
	return -1;
}

void
mailbox_ok(struct mailbox_run *r)
{
	if (r->failing)
		log_info("%s: working again", r->mc->name);
	r->failing = 0;
}

int
mailbox_stopping(struct mailbox_run *r)
{
	return atomic_load(&r->stop);
}

/*
 * Wait up to seconds, or until fd (if not -1) is readable: 1 when it
 * is, 0 at the timeout, -1 when the thread is asked to stop.
 */
int
mailbox_sleep(struct mailbox_run *r, int seconds, int fd)
{
	struct pollfd p[2] = {
		{ .fd = r->wake[0], .events = POLLIN },
		{ .fd = fd, .events = POLLIN }
	};
	struct timespec now, end;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	for (;;) {
		long ms;

		if (mailbox_stopping(r))
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return 0;
		n = poll(p, fd >= 0 ? 2 : 1, ms > 60000 ? 60000 : (int)ms);
		if (n < 0 && errno != EINTR) {
			log_warn("%s: poll", r->mc->name);
			return -1;
		}
		if (n > 0 && mailbox_stopping(r))
			return -1;
		if (n > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLHUP |
		    POLLERR)))
			return 1;
	}
}

/*
 * The password: the first line of password_file, read at each connection
 * so that a changed password needs no restart.  Never logged.
 */
const char *
mailbox_password(struct mailbox_run *r)
{
	char line[1024];
	FILE *fp;

	free(r->password);
	r->password = NULL;
	if ((fp = fopen(r->mc->password_file, "r")) == NULL) {
		mailbox_fail(r, "cannot read password_file %s: %s",
		    r->mc->password_file, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	line[strcspn(line, "\r\n")] = '\0';
	r->password = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return r->password;
}

/* One connection or pass: 0 done, -1 failed (logged by mailbox_fail). */
static int
mailbox_once(struct mailbox_run *r)
{
	switch (r->mc->type) {
	case MAILBOX_MAILDIR:
		return mailbox_maildir_poll(r);
	case MAILBOX_IMAP:
		return mailbox_imap_session(r);
	case MAILBOX_POP3:
		return mailbox_pop3_poll(r);
	}
	return -1;
}

/*
 * Forget removed messages after 30 days.  UIDs (with UIDVALIDITY), UIDLs
 * and Maildir names are not reused, so the rows only guard against a
 * server that said it removed a message and did not; a month is ample.
 * Skipped messages are forgotten at each start (and reload), so that a
 * new "address" or list takes them.
 */
static void
mailbox_prune(struct mailbox_run *r, int start)
{
	sqlite3_stmt *s = store_stmt(r->st, "DELETE FROM mailbox_seen WHERE "
	    "mailbox = ?1 AND ((state = 2 AND updated < strftime('%s', "
	    "'now') - 30 * 86400) OR (state = 3 AND ?2))");

	if (s == NULL)
		return;
	sqlite3_bind_text(s, 1, r->mc->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, start);
	(void)store_step_done(r->st, s);	/* logged; tried again later */
}

static void *
mailbox_main(void *arg)
{
	struct mailbox_run *r = arg;
	int backoff = MAILBOX_BACKOFF_FIRST;
	time_t pruned = 0;

	while (!mailbox_stopping(r)) {
		if (r->st == NULL && store_open_config(r->cf, &r->st) != 0) {
			mailbox_sleep(r, MAILBOX_BACKOFF_FIRST, -1);
			continue;
		}
		if (time(NULL) - pruned > 86400) {
			mailbox_prune(r, pruned == 0);
			pruned = time(NULL);
		}
		if (mailbox_once(r) == 0) {
			backoff = MAILBOX_BACKOFF_FIRST;
			/* IMAP returns only to stop or to reconnect. */
			if (r->mc->type != MAILBOX_IMAP)
				mailbox_sleep(r, r->mc->interval, -1);
			continue;
		}
		mailbox_sleep(r, backoff, -1);
		backoff = backoff * 2 > MAILBOX_BACKOFF_MAX ?
		    MAILBOX_BACKOFF_MAX : backoff * 2;
	}
	store_close(r->st);
	r->st = NULL;
	return NULL;
}

/*
 * Start a thread for each mailbox of the current configuration; stored()
 * is called with each new spool id.  NULL when there are none.
 */
struct mailbox_set *
mailbox_start(void (*stored)(const char *, void *), void *arg)
{
	struct config *cf = config_current();
	struct mailbox_set *set;

	if (cf == NULL || cf->nmailboxes == 0) {
		config_release(cf);
		return NULL;
	}
	/*
	 * libetpan waits 5 minutes for a silent server by default; a
	 * shorter wait lets SIGTERM and SIGHUP end a hung session soon.
	 * No mailbox thread runs now, and nothing else uses libetpan's
	 * network code.
	 */
	mailstream_network_delay.tv_sec = 30;
	mailstream_network_delay.tv_usec = 0;
	set = xcalloc(1, sizeof(*set));
	set->cf = cf;
	set->runs = xcalloc(cf->nmailboxes, sizeof(*set->runs));
	for (size_t i = 0; i < cf->nmailboxes; i++) {
		struct mailbox_run *r = &set->runs[set->n];

		r->cf = cf;
		r->mc = &cf->mailboxes[i];
		r->stored = stored;
		r->arg = arg;
		if (pipe2(r->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
			log_warn("%s: pipe", r->mc->name);
			continue;
		}
		if (pthread_create(&r->thread, NULL, mailbox_main, r) != 0) {
			log_warnx("%s: cannot start a thread", r->mc->name);
			close(r->wake[0]);
			close(r->wake[1]);
			continue;
		}
		log_info("%s: reading mail%s%s", r->mc->name,
		    r->mc->address ? " for " : "",
		    r->mc->address ? r->mc->address : "");
		set->n++;
	}
	/* The threads share cf; mailbox_stop() releases it. */
	return set;
}

/* Ask every thread to stop, wait for them, and free the set. */
void
mailbox_stop(struct mailbox_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n; i++) {
		atomic_store(&set->runs[i].stop, 1);
		if (write(set->runs[i].wake[1], "x", 1) < 0)
			log_warn("mailbox: waking %s", set->runs[i].mc->name);
	}
	for (size_t i = 0; i < set->n; i++) {
		struct mailbox_run *r = &set->runs[i];

		pthread_join(r->thread, NULL);
		close(r->wake[0]);
		close(r->wake[1]);
		if (r->password != NULL)
			explicit_bzero(r->password, strlen(r->password));
		free(r->password);
	}
	config_release(set->cf);
	free(set->runs);
	free(set);
}
