/*
 * mlserverd - the daemon: LMTP entry, the processor and the deliverer.
 *
 * Three kinds of thread, one direction of data: LMTP connection threads
 * store into spool/new and wake the processor; the processor turns spool
 * messages into queued mail and wakes the deliverer; the deliverer hands
 * queued mail to the relay.  A thread per configured mailbox (mailbox.h)
 * stores what it fetches like LMTP and wakes the processor; SIGHUP
 * restarts those threads with the new configuration.  Each worker has
 * its own database connection.  The main thread only waits for signals: SIGHUP reloads
 * the configuration (a bad one is logged and the old one kept), SIGUSR1
 * makes deferred mail due now, SIGTERM and SIGINT stop cleanly: no new
 * connections, the SMTP session in flight finished, nothing lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "bounce.h"
#include "buf.h"
#include "config.h"
#include "config_relay.h"
#include "digest.h"
#include "event_handle.h"
#include "lmtp.h"
#include "mailbox.h"
#include "log.h"
#include "moderate.h"
#include "outq.h"
#include "outq_rate.h"
#include "pages.h"
#include "process.h"
#include "proposal_forward.h"
#include "spool.h"
#include "store.h"
#include "token.h"

#define EX_USAGE	64
#define EX_CONFIG	78

struct worker {
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 wake;
	const char	*name;
};

static struct worker	processor = { .name = "processor" };
static struct worker	deliverer = { .name = "deliverer" };
static atomic_int	stopping;
static struct mailbox_set *mailboxes;	/* mailbox.h; NULL: none */

static void	 usage(void);
static void	 worker_init(struct worker *);
static void	 worker_wake(struct worker *);
static void	 worker_wait(struct worker *, int);
static void	*processor_main(void *);
static void	*deliverer_main(void *);
static void	 on_stored(const char *, void *);
static int	 startup(struct config *);
static void	 reload(const char *);
static int	 write_pidfile(const struct config *);
static void	 daemonize(void);

static void
usage(void)
{
	fprintf(stderr, "usage: mlserverd -c FILE [-f] [-v]\n");
	exit(EX_USAGE);
}

static void
worker_init(struct worker *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static void
worker_wake(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->wake = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Sleep until woken, stopping, or seconds pass. */
static void
worker_wait(struct worker *w, int seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&w->lock);
	while (!w->wake && !stopping)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) ==
		    ETIMEDOUT)
			break;
	w->wake = 0;
	pthread_mutex_unlock(&w->lock);
}

static void
on_stored(const char *id, void *arg)
{
	(void)id;
	(void)arg;
	worker_wake(&processor);
}

/*
 * The processor: new/ is scanned when LMTP stores a message and every
 * second besides, for what mlserver-receive and mlserverctl inject put
 * there from other processes.
 */
static void *
processor_main(void *arg)
{
	struct store *st = NULL;
	time_t last_expiry = 0;
	int durable = 0;

	(void)arg;
	while (!stopping) {
		struct config *cf = config_current();
		int n;

		if (st == NULL && store_open_config(cf, &st) != 0) {
			config_release(cf);
			worker_wait(&processor, 5);
			continue;
		}
		/*
		 * A spool file is removed once the commit that handled it
		 * returns: that commit must then be on disk, not only in
		 * the write-ahead log's page cache (power loss).  Two syncs
		 * of the log per batch of messages (its attempts, then its
		 * handling); other connections stay NORMAL.
		 */
		if (!durable && store_exec(st, "PRAGMA synchronous=FULL") == 0)
			durable = 1;
		n = process_pending(cf, st);
		if (proposal_forward_tick(cf, st) > 0 || n > 0)
			worker_wake(&deliverer);
		if (event_reminders_run(cf, st) > 0)
			worker_wake(&deliverer);
		if (moderate_expire(cf, st) > 0)
			worker_wake(&deliverer);
		if (digest_tick(st, cf) > 0)
			worker_wake(&deliverer);
		/* After the mail: pages of what just changed (pages.h). */
		pages_run(cf, st);
		/* Archive files of what was queued, after its commit. */
		archive_flush(st, cf);
		if (time(NULL) - last_expiry > 3600) {
			token_expire(st);
			store_exec(st, "DELETE FROM replies WHERE ts < "
			    "strftime('%s', 'now') - 86400");
			/* A week is far longer than any unlink can lag. */
			store_exec(st, "DELETE FROM processed WHERE done = 1 "
			    "AND updated < strftime('%s', 'now') - 604800");
			if (bounce_maintain(st, cf) != 0)
				log_warnx("bounce maintenance failed; will "
				    "retry in an hour");
			last_expiry = time(NULL);
		}
		config_release(cf);
		if (n <= 0)
			worker_wait(&processor, 1);
	}
	store_close(st);
	return NULL;
}

/*
 * The deliverer: rounds while there is due mail, then sleep until the
 * next recipient is due (at most a minute: processors in other processes
 * may have queued mail meanwhile).
 */
static void *
deliverer_main(void *arg)
{
	struct store *st = NULL;

	(void)arg;
	while (!stopping) {
		struct config *cf = config_current();
		time_t due, now;
		int n = 0, wait;

		if (st == NULL && store_open_config(cf, &st) != 0) {
			config_release(cf);
			worker_wait(&deliverer, 5);
			continue;
		}
		while (!stopping && (n = outq_round(st, cf)) > 0)
			;
		due = outq_next_due(st);
		/* Mail held back by the provider's limits waits longer. */
		if (due != 0 && outq_rate_resume(st, cf) > due)
			due = outq_rate_resume(st, cf);
		config_release(cf);
		now = time(NULL);
		wait = due == 0 ? 60 : due <= now ? 1 :
		    due - now > 60 ? 60 : (int)(due - now);
		if (n < 0)
			wait = 5;
		worker_wait(&deliverer, wait);
	}
	store_close(st);
	return NULL;
}

static int
write_pidfile(const struct config *cf)
{
	char *path = config_state_path(cf, "mlserverd.pid");
	FILE *fp = fopen(path, "w");

	if (fp == NULL) {
		log_warn("pid file %s", path);
		free(path);
		return -1;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
	free(path);
	return 0;
}

/* Spool, database and queue made ready; runs before any thread. */
static int
startup(struct config *cf)
{
	struct store *st;
	int n;

	if (mkdir(cf->state_dir, 0700) != 0 && errno != EEXIST) {
		log_warn("state_dir %s", cf->state_dir);
		return -1;
	}
	if (spool_init(cf->state_dir) != 0)
		return -1;
	if ((n = spool_recover(cf->state_dir)) > 0)
		log_info("removed %d unfinished file%s from spool/tmp", n,
		    n == 1 ? "" : "s");
	if (store_open_config(cf, &st) != 0)
		return -1;
	if (store_sync_lists(st, cf) != 0) {
		store_close(st);
		return -1;
	}
	outq_cleanup_orphans(st, cf);
	store_close(st);
	return 0;
}

static void
reload(const char *path)
{
	struct buf errors = BUF_INIT;
	struct config *cf;
	struct store *st;

	if (config_load(path, &cf, &errors) != 0) {
		log_warnx("reload: %s has errors; the running configuration "
		    "stays:\n%s", path, buf_cstr(&errors));
		buf_free(&errors);
		return;
	}
	buf_free(&errors);
	if (store_open_config(cf, &st) != 0 || store_sync_lists(st, cf) != 0) {
		log_warnx("reload: cannot update the database; the running "
		    "configuration stays");
		store_close(st);
		config_free(cf);
		return;
	}
	store_close(st);
	config_set_current(cf);
	log_info("reloaded %s: %zu lists", path, cf->nlists);
	config_relay_warn(&cf->relay);
	/* Mailbox threads hold the old config: start them afresh. */
	mailbox_stop(mailboxes);
	mailboxes = mailbox_start(on_stored, NULL);
	worker_wake(&processor);
}

static void
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		fatal("chdir /");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	const char *path = NULL;
	struct lmtp_server *lmtp;
	struct buf errors = BUF_INIT;
	struct config *cf;
	sigset_t set;
	int ch, foreground = 0, verbose = 0, sig;

	while ((ch = getopt(argc, argv, "c:fv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (path == NULL || optind != argc)
		usage();
	log_init("mlserverd", 1, verbose);
	if (config_load(path, &cf, &errors) != 0) {
		fputs(buf_cstr(&errors), stderr);
		return EX_CONFIG;
	}
	buf_free(&errors);
	if (!foreground) {
		daemonize();
		log_init("mlserverd", 0, verbose);
	}

	/* Signals are taken by sigwait() in this thread alone. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (startup(cf) != 0) {
		log_warnx("cannot start");
		return 75;
	}
	write_pidfile(cf);
	config_set_current(cf);
	worker_init(&processor);
	worker_init(&deliverer);
	if (pthread_create(&processor.thread, NULL, processor_main, NULL) ||
	    pthread_create(&deliverer.thread, NULL, deliverer_main, NULL))
		fatalx("cannot start threads");
	if (lmtp_start(&lmtp, cf, on_stored, NULL) != 0) {
		log_warnx("cannot listen for LMTP");
		stopping = 1;
		worker_wake(&processor);
		worker_wake(&deliverer);
		pthread_join(processor.thread, NULL);
		pthread_join(deliverer.thread, NULL);
		return 75;
	}
	log_info("started: %s, %zu lists, state in %s", cf->domain,
	    cf->nlists, cf->state_dir);
	config_relay_warn(&cf->relay);
	mailboxes = mailbox_start(on_stored, NULL);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(path);
			continue;
		}
		if (sig == SIGUSR1) {
			worker_wake(&deliverer);
			continue;
		}
		break;
	}
	log_info("stopping (signal %d)", sig);
	lmtp_stop(lmtp);
	mailbox_stop(mailboxes);
	stopping = 1;
	worker_wake(&processor);
	worker_wake(&deliverer);
	pthread_join(processor.thread, NULL);
	pthread_join(deliverer.thread, NULL);
	{
		struct config *last = config_current();
		char *pid = config_state_path(last, "mlserverd.pid");

		unlink(pid);
		free(pid);
		config_release(last);
	}
	config_set_current(NULL);
	log_info("stopped");
	return 0;
}
