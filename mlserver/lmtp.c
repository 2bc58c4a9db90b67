/*
 * lmtp - the LMTP server (RFC 2033); see lmtp.h.
 *
 * This file owns the listening sockets, one thread per connection and the
 * protocol.  It knows nothing of lists beyond route_lookup(), and nothing
 * of files beyond spool.h: a transaction ends either in spool_commit()
 * followed by one 250 per recipient, or in a refusal that leaves nothing
 * behind.
 *
 * Threads: one accept thread polls the listening sockets and a wake-up
 * pipe; each accepted connection gets a joinable thread.  A connection
 * thread that ends moves itself from the active list to the done list
 * and pokes the pipe, and the accept thread joins it.  srv->lock guards
 * both lists, nactive, stopping and each connection's in_txn and fd (so
 * lmtp_stop() can shutdown() a socket without racing with its close()).
 *
 * Input goes through a buffered reader, so pipelined commands (RFC 2920)
 * are taken one by one from what has arrived; replies are collected and
 * flushed whenever the reader is about to block, as RFC 2920 requires.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1		/* accept4, pipe2 */
#endif

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "lmtp.h"
#include "log.h"
#include "route.h"
#include "spool.h"
#include "xmalloc.h"

#define LMTP_RBUF_SIZE	65536	/* reader buffer; longer data lines pass in pieces */
#define LMTP_LINE_MAX	1000	/* a command line, CRLF included (RFC 5321 4.5.3.1.6) */
#define LMTP_MAX_RCPTS	1000	/* per transaction */
#define LMTP_CHUNK	65536	/* message octets collected per spool_write() */
#define LMTP_STACK_SIZE	(1024 * 1024)

struct lmtp_rcpt {
	char	*given;		/* as the client wrote it, for the replies */
	char	*canon;		/* canonical form, for the envelope */
};

struct lmtp_conn {
	LIST_ENTRY(lmtp_conn)	 entry;
	struct lmtp_server	*srv;
	pthread_t		 thread;
	int			 fd;		/* under srv->lock */
	int			 in_txn;	/* under srv->lock */
	char			 peer[NI_MAXHOST + 8];
	char			*domain;	/* for the greeting and 221/421 */

	char			*rbuf;		/* the buffered reader */
	size_t			 rstart, rend;
	struct buf		 out;		/* replies not yet sent */
	int			 lhlo;		/* LHLO seen */
	int			 closing;	/* leave after flushing */
	int			 broken;	/* a send failed */

	/* The transaction, between MAIL and the end of DATA or RSET. */
	struct config		*cfg;		/* a reference; NULL outside */
	char			*sender;
	struct lmtp_rcpt	*rcpts;
	size_t			 nrcpts;
	unsigned long long	 size_param;	/* MAIL FROM SIZE=, or 0 */
};

LIST_HEAD(lmtp_conn_list, lmtp_conn);

struct lmtp_listener {
	int	 fd;
	char	*addr;		/* as configured, for log lines */
	char	*unix_path;	/* unlinked at stop; NULL for TCP */
};

struct lmtp_server {
	struct lmtp_listener	*ls;
	size_t			 nls;
	lmtp_stored_fn		*stored;
	void			*arg;
	char			*domain;	/* when no current config */
	int			 wake[2];	/* poked to wake the accept thread */
	pthread_t		 accept_thread;
	int			 accept_started;

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* signalled as connections end */
	int			 stopping;
	size_t			 nactive;
	struct lmtp_conn_list	 active;
	struct lmtp_conn_list	 done;
};

static int	lmtp_listen_one(struct lmtp_server *, const char *);
static int	lmtp_listen_unix(struct lmtp_server *, const char *,
		    const char *);
static int	lmtp_listen_inet(struct lmtp_server *, const char *);
static void	lmtp_add_listener(struct lmtp_server *, int, const char *,
		    const char *);
static void	lmtp_close_listeners(struct lmtp_server *);
static void	lmtp_wake(struct lmtp_server *);
static void	*lmtp_accept_main(void *);
static void	lmtp_accept_one(struct lmtp_server *, int);
static void	lmtp_reap(struct lmtp_server *);
static void	lmtp_free_server(struct lmtp_server *);

static void	*lmtp_conn_main(void *);
static void	lmtp_conn_end(struct lmtp_conn *);
static int	lmtp_stopping(struct lmtp_server *);
static void	lmtp_reply(struct lmtp_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	lmtp_flush(struct lmtp_conn *);
static int	lmtp_getseg(struct lmtp_conn *, const char **, size_t *);
static int	lmtp_getline(struct lmtp_conn *, char *, size_t);
static void	lmtp_command(struct lmtp_conn *, char *);
static void	lmtp_cmd_lhlo(struct lmtp_conn *, char *);
static void	lmtp_cmd_mail(struct lmtp_conn *, char *);
static void	lmtp_cmd_rcpt(struct lmtp_conn *, char *);
static void	lmtp_cmd_data(struct lmtp_conn *, char *);
static int	lmtp_read_data(struct lmtp_conn *, struct spool_writer *,
		    size_t *, int *);
static void	lmtp_store(struct lmtp_conn *);
static void	lmtp_txn_reset(struct lmtp_conn *);
static int	lmtp_parse_path(char *, const char *, char **, char **);
static int	lmtp_path_ok(const char *);
static long	lmtp_max_size(struct lmtp_conn *);

/*
 * Start-up: bind the listening sockets.
 */

int
lmtp_start(struct lmtp_server **srvp, const struct config *cfg,
    lmtp_stored_fn *stored, void *arg)
{
	struct lmtp_server *srv;
	int err;

	*srvp = NULL;
	srv = xcalloc(1, sizeof(*srv));
	srv->stored = stored;
	srv->arg = arg;
	srv->domain = xstrdup(cfg->domain);
	srv->wake[0] = srv->wake[1] = -1;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	LIST_INIT(&srv->active);
	LIST_INIT(&srv->done);

	if (cfg->listen.n == 0) {
		log_warnx("lmtp: no listen address configured");
		goto fail;
	}
	for (size_t i = 0; i < cfg->listen.n; i++)
		if (lmtp_listen_one(srv, cfg->listen.v[i]) == -1)
			goto fail;
	if (pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("lmtp: pipe");
		goto fail;
	}
	if ((err = pthread_create(&srv->accept_thread, NULL,
	    lmtp_accept_main, srv)) != 0) {
		errno = err;
		log_warn("lmtp: pthread_create");
		goto fail;
	}
	srv->accept_started = 1;
	for (size_t i = 0; i < srv->nls; i++)
		log_info("lmtp: listening on %s", srv->ls[i].addr);
	*srvp = srv;
	return 0;

fail:
	lmtp_close_listeners(srv);
	lmtp_free_server(srv);
	return -1;
}

static int
lmtp_listen_one(struct lmtp_server *srv, const char *addr)
{
	if (strncmp(addr, "unix:", 5) == 0)
		return lmtp_listen_unix(srv, addr, addr + 5);
	return lmtp_listen_inet(srv, addr);
}

/*
 * A UNIX socket for a local MTA.  A socket file left by a previous run is
 * removed, but only after checking nobody answers on it (a second daemon
 * must not steal the first one's socket) and only if it is a socket (a
 * configuration mistake must not delete a regular file).  The mode is
 * 0666 so that Postfix's lmtp client, running as another user, connects.
 */
static int
lmtp_listen_unix(struct lmtp_server *srv, const char *addr, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, probe;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("lmtp: %s: bad socket path", addr);
		return -1;
	}
	strcpy(sun.sun_path, path);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("lmtp: %s: exists and is not a socket", addr);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			log_warnx("lmtp: %s: another server is listening", addr);
			return -1;
		}
		if (probe != -1)
			close(probe);
		if (unlink(path) == -1) {
			log_warn("lmtp: %s: cannot remove stale socket", addr);
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("lmtp: %s: socket", addr);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("lmtp: %s: bind", addr);
		close(fd);
		return -1;
	}
	if (chmod(path, 0666) == -1 || listen(fd, 128) == -1) {
		log_warn("lmtp: %s", addr);
		close(fd);
		unlink(path);
		return -1;
	}
	lmtp_add_listener(srv, fd, addr, path);
	return 0;
}

/* "127.0.0.1:2424", "[::1]:2424", "localhost:2424", "*:2424". */
static int
lmtp_listen_inet(struct lmtp_server *srv, const char *addr)
{
	struct addrinfo hints, *res, *ai;
	char *host, *port, *copy;
	int fd, one = 1, rc, n = 0;

	copy = xstrdup(addr);
	if (copy[0] == '[') {
		host = copy + 1;
		if ((port = strchr(host, ']')) == NULL || port[1] != ':') {
			log_warnx("lmtp: %s: bad listen address", addr);
			free(copy);
			return -1;
		}
		*port = '\0';
		port += 2;
	} else {
		host = copy;
		if ((port = strrchr(copy, ':')) == NULL) {
			log_warnx("lmtp: %s: bad listen address (no port)",
			    addr);
			free(copy);
			return -1;
		}
		*port++ = '\0';
	}
	if (*host == '\0' || strcmp(host, "*") == 0)
		host = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("lmtp: %s: %s", addr, gai_strerror(rc));
		free(copy);
		return -1;
	}
	free(copy);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd == -1) {
			log_warn("lmtp: %s: socket", addr);
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* "[::]:N" and "0.0.0.0:N" may both be configured. */
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, 128) == -1) {
			log_warn("lmtp: %s: bind", addr);
			close(fd);
			goto fail;
		}
		lmtp_add_listener(srv, fd, addr, NULL);
		n++;
	}
	freeaddrinfo(res);
	return n > 0 ? 0 : -1;

fail:
	freeaddrinfo(res);
	return -1;
}

static void
lmtp_add_listener(struct lmtp_server *srv, int fd, const char *addr,
    const char *unix_path)
{
	srv->ls = xrealloc(srv->ls, (srv->nls + 1) * sizeof(*srv->ls));
	srv->ls[srv->nls].fd = fd;
	srv->ls[srv->nls].addr = xstrdup(addr);
	srv->ls[srv->nls].unix_path = unix_path ? xstrdup(unix_path) : NULL;
	srv->nls++;
}

static void
lmtp_close_listeners(struct lmtp_server *srv)
{
	for (size_t i = 0; i < srv->nls; i++) {
		if (srv->ls[i].fd != -1)
			close(srv->ls[i].fd);
		srv->ls[i].fd = -1;
		if (srv->ls[i].unix_path != NULL)
			unlink(srv->ls[i].unix_path);
	}
}

static void
lmtp_free_server(struct lmtp_server *srv)
{
	for (size_t i = 0; i < srv->nls; i++) {
		free(srv->ls[i].addr);
		free(srv->ls[i].unix_path);
	}
	free(srv->ls);
	if (srv->wake[0] != -1)
		close(srv->wake[0]);
	if (srv->wake[1] != -1)
		close(srv->wake[1]);
	pthread_mutex_destroy(&srv->lock);
	pthread_cond_destroy(&srv->cond);
	free(srv->domain);
	free(srv);
}

static void
lmtp_wake(struct lmtp_server *srv)
{
	char c = 0;

	/* Non-blocking: a full pipe already means "wake up". */
	if (write(srv->wake[1], &c, 1) == -1 && errno != EAGAIN)
		log_warn("lmtp: wake");
}

/*
 * Shut down: stop accepting; idle connections are told 421 at once,
 * transactions get LMTP_STOP_GRACE seconds to finish; then the remaining
 * sockets are cut.  Nothing acknowledged is lost either way, nothing
 * unacknowledged was promised.
 */
void
lmtp_stop(struct lmtp_server *srv)
{
	struct lmtp_conn *c;
	struct timespec deadline;

	if (srv == NULL)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = 1;
	LIST_FOREACH(c, &srv->active, entry)
		if (!c->in_txn && c->fd != -1)
			shutdown(c->fd, SHUT_RD);
	pthread_mutex_unlock(&srv->lock);

	lmtp_wake(srv);
	pthread_join(srv->accept_thread, NULL);
	lmtp_close_listeners(srv);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += LMTP_STOP_GRACE;
	pthread_mutex_lock(&srv->lock);
	while (srv->nactive > 0)
		if (pthread_cond_timedwait(&srv->cond, &srv->lock,
		    &deadline) == ETIMEDOUT)
			break;
	if (srv->nactive > 0) {
		log_warnx("lmtp: closing %zu connections still in a "
		    "transaction", srv->nactive);
		LIST_FOREACH(c, &srv->active, entry)
			if (c->fd != -1)
				shutdown(c->fd, SHUT_RDWR);
	}
	while (srv->nactive > 0)
		pthread_cond_wait(&srv->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);

	lmtp_reap(srv);
	lmtp_free_server(srv);
}

/*
 * The accept thread.
 */

static void *
lmtp_accept_main(void *arg)
{
	struct lmtp_server *srv = arg;
	struct pollfd *pfd;
	char drain[64];
	size_t i;

	pfd = xcalloc(srv->nls + 1, sizeof(*pfd));
	pfd[0].fd = srv->wake[0];
	pfd[0].events = POLLIN;
	for (i = 0; i < srv->nls; i++) {
		pfd[i + 1].fd = srv->ls[i].fd;
		pfd[i + 1].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, srv->nls + 1, -1) == -1) {
			if (errno != EINTR)
				log_warn("lmtp: poll");
			continue;
		}
		if (pfd[0].revents & POLLIN)
			while (read(srv->wake[0], drain, sizeof(drain)) > 0)
				;
		lmtp_reap(srv);
		if (lmtp_stopping(srv))
			break;
		for (i = 0; i < srv->nls; i++)
			if (pfd[i + 1].revents & POLLIN)
				lmtp_accept_one(srv, srv->ls[i].fd);
	}
	free(pfd);
	return NULL;
}

static void
lmtp_accept_one(struct lmtp_server *srv, int lfd)
{
	static const char busy[] = "421 4.3.2 too many connections\r\n";
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct lmtp_conn *c;
	pthread_attr_t attr;
	int fd, err;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
	    SOCK_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* Out of descriptors: do not spin on poll(). */
			log_warn("lmtp: accept");
			usleep(100000);
		}
		return;
	}

	pthread_mutex_lock(&srv->lock);
	if (srv->nactive >= LMTP_MAX_CONNECTIONS) {
		pthread_mutex_unlock(&srv->lock);
		log_warnx("lmtp: too many connections, refusing one");
		(void)send(fd, busy, sizeof(busy) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	if (ss.ss_family == AF_UNIX ||
	    getnameinfo((struct sockaddr *)&ss, sslen, c->peer,
	    sizeof(c->peer), NULL, 0, NI_NUMERICHOST) != 0)
		strcpy(c->peer, "local");
	LIST_INSERT_HEAD(&srv->active, c, entry);
	srv->nactive++;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, LMTP_STACK_SIZE);
	err = pthread_create(&c->thread, &attr, lmtp_conn_main, c);
	pthread_attr_destroy(&attr);
	if (err != 0) {
		LIST_REMOVE(c, entry);
		srv->nactive--;
		pthread_mutex_unlock(&srv->lock);
		errno = err;
		log_warn("lmtp: pthread_create");
		(void)send(fd, busy, sizeof(busy) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		free(c);
		return;
	}
	pthread_mutex_unlock(&srv->lock);
}

/* Join the connection threads that have finished. */
static void
lmtp_reap(struct lmtp_server *srv)
{
	struct lmtp_conn_list done;
	struct lmtp_conn *c;

	pthread_mutex_lock(&srv->lock);
	LIST_INIT(&done);
	while ((c = LIST_FIRST(&srv->done)) != NULL) {
		LIST_REMOVE(c, entry);
		LIST_INSERT_HEAD(&done, c, entry);
	}
	pthread_mutex_unlock(&srv->lock);
	while ((c = LIST_FIRST(&done)) != NULL) {
		LIST_REMOVE(c, entry);
		pthread_join(c->thread, NULL);
		free(c);
	}
}

static int
lmtp_stopping(struct lmtp_server *srv)
{
	int s;

	pthread_mutex_lock(&srv->lock);
	s = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	return s;
}

/*
 * One connection.
 */

static void *
lmtp_conn_main(void *arg)
{
	struct lmtp_conn *c = arg;
	struct timeval tv = { LMTP_READ_TIMEOUT, 0 };
	struct config *cfg;
	char line[LMTP_LINE_MAX + 1];
	int r;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->rbuf = xmalloc(LMTP_RBUF_SIZE);
	buf_init(&c->out);
	cfg = config_current();
	c->domain = xstrdup(cfg ? cfg->domain : c->srv->domain);
	config_release(cfg);
	log_debug("lmtp: connect from %s", c->peer);

	if (lmtp_stopping(c->srv)) {
		lmtp_reply(c, "421 4.3.2 %s shutting down", c->domain);
		c->closing = 1;
	} else
		lmtp_reply(c, "220 %s LMTP mlserver ready", c->domain);

	while (!c->closing && !c->broken) {
		r = lmtp_getline(c, line, sizeof(line));
		if (r == 0) {
			/* EOF: the client left, or lmtp_stop() shut us. */
			if (lmtp_stopping(c->srv))
				lmtp_reply(c, "421 4.3.2 %s shutting down",
				    c->domain);
			break;
		}
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				lmtp_reply(c, "421 4.4.2 %s timeout, closing "
				    "connection", c->domain);
			break;
		}
		if (r == 2 || r == 3) {
			lmtp_reply(c, r == 2 ? "500 5.5.2 line too long" :
			    "500 5.5.2 NUL character in command");
			continue;
		}
		lmtp_command(c, line);
	}
	lmtp_txn_reset(c);
	lmtp_flush(c);
	log_debug("lmtp: disconnect from %s", c->peer);
	lmtp_conn_end(c);
	return NULL;
}

/* Leave the active list for the done list; the accept thread joins us. */
static void
lmtp_conn_end(struct lmtp_conn *c)
{
	struct lmtp_server *srv = c->srv;

	free(c->rbuf);
	buf_free(&c->out);
	free(c->domain);
	pthread_mutex_lock(&srv->lock);
	close(c->fd);
	c->fd = -1;
	LIST_REMOVE(c, entry);
	LIST_INSERT_HEAD(&srv->done, c, entry);
	srv->nactive--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	lmtp_wake(srv);
}

static void
lmtp_reply(struct lmtp_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	buf_adds(&c->out, "\r\n");
}

static int
lmtp_flush(struct lmtp_conn *c)
{
	size_t off = 0;
	ssize_t r;

	if (c->broken) {
		buf_reset(&c->out);
		return -1;
	}
	while (off < c->out.len) {
		r = send(c->fd, c->out.data + off, c->out.len - off,
		    MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			c->broken = 1;
			buf_reset(&c->out);
			return -1;
		}
		off += (size_t)r;
	}
	buf_reset(&c->out);
	return 0;
}

/*
 * The next piece of input: a line up to and including its LF, or, when
 * a line is longer than the buffer, a buffer-full of it.  So a piece
 * that starts a line and lacks an LF is always longer than ".\r\n", which
 * lets the DATA reader spot the terminator.  The piece stays valid until
 * the next call.  Returns 1, 0 at EOF, -1 on error or timeout (errno).
 * Pending replies are flushed before blocking (RFC 2920).
 */
static int
lmtp_getseg(struct lmtp_conn *c, const char **p, size_t *n)
{
	const char *nl;
	ssize_t r;

	for (;;) {
		if (c->rend > c->rstart) {
			nl = memchr(c->rbuf + c->rstart, '\n',
			    c->rend - c->rstart);
			if (nl != NULL || (c->rstart == 0 &&
			    c->rend == LMTP_RBUF_SIZE)) {
				*p = c->rbuf + c->rstart;
				*n = nl ? (size_t)(nl + 1 - *p) :
				    c->rend - c->rstart;
				c->rstart += *n;
				return 1;
			}
		}
		if (c->rstart == c->rend)
			c->rstart = c->rend = 0;
		else if (c->rstart > 0) {
			memmove(c->rbuf, c->rbuf + c->rstart,
			    c->rend - c->rstart);
			c->rend -= c->rstart;
			c->rstart = 0;
		}
		if (c->out.len > 0 && lmtp_flush(c) == -1)
			return -1;
		r = read(c->fd, c->rbuf + c->rend, LMTP_RBUF_SIZE - c->rend);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (int)r;
		c->rend += (size_t)r;
	}
}

/*
 * A command line into line (CR LF removed, NUL-terminated).  Returns 1,
 * 0 at EOF, -1 on error, 2 when the line was too long and 3 when it held
 * a NUL (which would cut the command short unseen); such a line is
 * skipped whole.
 */
static int
lmtp_getline(struct lmtp_conn *c, char *line, size_t size)
{
	const char *p;
	size_t n;
	int r, bad = 0;

	for (;;) {
		if ((r = lmtp_getseg(c, &p, &n)) != 1)
			return r;
		if (p[n - 1] != '\n') {
			bad = 1;	/* longer than the buffer */
			continue;
		}
		if (bad)
			return 2;
		n--;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n >= size - 1)
			return 2;
		if (memchr(p, '\0', n) != NULL)
			return 3;
		memcpy(line, p, n);
		line[n] = '\0';
		return 1;
	}
}

static void
lmtp_command(struct lmtp_conn *c, char *line)
{
	char *args;
	size_t vlen;

	vlen = strcspn(line, " ");
	args = line + vlen;
	while (*args == ' ')
		args++;
	line[vlen] = '\0';

	if (strcasecmp(line, "LHLO") == 0)
		lmtp_cmd_lhlo(c, args);
	else if (strcasecmp(line, "MAIL") == 0)
		lmtp_cmd_mail(c, args);
	else if (strcasecmp(line, "RCPT") == 0)
		lmtp_cmd_rcpt(c, args);
	else if (strcasecmp(line, "DATA") == 0)
		lmtp_cmd_data(c, args);
	else if (strcasecmp(line, "RSET") == 0) {
		lmtp_txn_reset(c);
		lmtp_reply(c, "250 2.0.0 ok");
	} else if (strcasecmp(line, "NOOP") == 0)
		lmtp_reply(c, "250 2.0.0 ok");
	else if (strcasecmp(line, "QUIT") == 0) {
		lmtp_reply(c, "221 2.0.0 %s closing connection", c->domain);
		c->closing = 1;
	} else if (strcasecmp(line, "VRFY") == 0)
		lmtp_reply(c, "252 2.5.2 cannot VRFY; send some mail");
	else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0)
		lmtp_reply(c, "500 5.5.1 use LHLO");
	else
		lmtp_reply(c, "500 5.5.2 command unrecognized");
}

/* The size limit of the moment (the transaction's config, else current). */
static long
lmtp_max_size(struct lmtp_conn *c)
{
	struct config *cfg;
	long max;

	if (c->cfg != NULL)
		return c->cfg->max_message_size;
	if ((cfg = config_current()) == NULL)
		return 0;
	max = cfg->max_message_size;
	config_release(cfg);
	return max;
}

static void
lmtp_cmd_lhlo(struct lmtp_conn *c, char *args)
{
	if (*args == '\0') {
		lmtp_reply(c, "501 5.5.4 syntax: LHLO hostname");
		return;
	}
	lmtp_txn_reset(c);
	c->lhlo = 1;
	lmtp_reply(c, "250-%s", c->domain);
	lmtp_reply(c, "250-PIPELINING");
	lmtp_reply(c, "250-8BITMIME");
	lmtp_reply(c, "250-ENHANCEDSTATUSCODES");
	lmtp_reply(c, "250 SIZE %ld", lmtp_max_size(c));
}

/*
 * An address between angle brackets may go into log lines, a reply and
 * the spool envelope: no control characters, no brackets of its own, and
 * no longer than RFC 5321 allows.
 */
static int
lmtp_path_ok(const char *s)
{
	if (strlen(s) > ADDR_MAX)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return 0;
	return 1;
}

/*
 * Parse "FROM:<path> params" (prefix "FROM:") in place: *addr is the path
 * without brackets or source route, *params what follows.
 */
static int
lmtp_parse_path(char *args, const char *prefix, char **addr, char **params)
{
	size_t plen = strlen(prefix);
	char *p, *end, *colon;
	int quoted = 0;

	if (strncasecmp(args, prefix, plen) != 0)
		return -1;
	p = args + plen;
	while (*p == ' ')
		p++;	/* "MAIL FROM: <a@b>": common, tolerated */
	if (*p != '<')
		return -1;
	p++;
	for (end = p; *end != '\0'; end++) {
		if (*end == '\\' && quoted && end[1] != '\0')
			end++;
		else if (*end == '"')
			quoted = !quoted;
		else if (*end == '>' && !quoted)
			break;
	}
	if (*end != '>')
		return -1;
	*end = '\0';
	/* An obsolete source route "@a,@b:user@d": keep user@d. */
	if (*p == '@' && (colon = strchr(p, ':')) != NULL)
		p = colon + 1;
	*addr = p;
	p = end + 1;
	if (*p != '\0' && *p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	*params = p;
	return lmtp_path_ok(*addr) ? 0 : -1;
}

static void
lmtp_cmd_mail(struct lmtp_conn *c, char *args)
{
	char canon[ADDR_MAX + 1];
	char *addr, *params, *param, *end;
	unsigned long long size = 0;
	long max;

	if (!c->lhlo) {
		lmtp_reply(c, "503 5.5.1 send LHLO first");
		return;
	}
	if (c->cfg != NULL) {
		lmtp_reply(c, "503 5.5.1 nested MAIL command");
		return;
	}
	if (lmtp_parse_path(args, "FROM:", &addr, &params) == -1) {
		lmtp_reply(c, "501 5.5.4 syntax: MAIL FROM:<address>");
		return;
	}
	max = lmtp_max_size(c);
	while ((param = strsep(&params, " ")) != NULL) {
		if (*param == '\0')
			continue;
		if (strncasecmp(param, "SIZE=", 5) == 0) {
			errno = 0;
			size = strtoull(param + 5, &end, 10);
			if (param[5] < '0' || param[5] > '9' || *end != '\0' ||
			    errno == ERANGE) {
				lmtp_reply(c, "501 5.5.4 bad SIZE parameter");
				return;
			}
			if (max > 0 && size > (unsigned long long)max) {
				lmtp_reply(c, "552 5.3.4 message size exceeds "
				    "fixed maximum message size (%ld)", max);
				return;
			}
		} else if (strcasecmp(param, "BODY=8BITMIME") != 0 &&
		    strcasecmp(param, "BODY=7BIT") != 0) {
			lmtp_reply(c, "555 5.5.4 unsupported parameter %s",
			    param);
			return;
		}
	}

	/* From here on a transaction runs: lmtp_stop() waits for it. */
	pthread_mutex_lock(&c->srv->lock);
	if (c->srv->stopping) {
		pthread_mutex_unlock(&c->srv->lock);
		lmtp_reply(c, "421 4.3.2 %s shutting down", c->domain);
		c->closing = 1;
		return;
	}
	c->in_txn = 1;
	pthread_mutex_unlock(&c->srv->lock);
	if ((c->cfg = config_current()) == NULL) {
		lmtp_txn_reset(c);
		lmtp_reply(c, "421 4.3.0 %s no configuration loaded",
		    c->domain);
		c->closing = 1;
		return;
	}
	/* Keep the domain in canonical (lower) case where it parses. */
	if (*addr != '\0' && addr_canon(addr, canon, sizeof(canon)) == 0)
		c->sender = xstrdup(canon);
	else
		c->sender = xstrdup(addr);
	c->size_param = size;
	lmtp_reply(c, "250 2.1.0 ok");
}

static void
lmtp_cmd_rcpt(struct lmtp_conn *c, char *args)
{
	char canon[ADDR_MAX + 1];
	char *addr, *params;
	struct route r;

	if (c->cfg == NULL) {
		lmtp_reply(c, "503 5.5.1 need MAIL command");
		return;
	}
	if (lmtp_parse_path(args, "TO:", &addr, &params) == -1) {
		lmtp_reply(c, "501 5.5.4 syntax: RCPT TO:<address>");
		return;
	}
	if (*params != '\0') {
		lmtp_reply(c, "555 5.5.4 unsupported parameter %s", params);
		return;
	}
	if (c->nrcpts >= LMTP_MAX_RCPTS) {
		lmtp_reply(c, "452 4.5.3 too many recipients");
		return;
	}
	if (addr_canon(addr, canon, sizeof(canon)) == -1) {
		lmtp_reply(c, "501 5.1.3 <%s>: bad recipient address syntax",
		    addr);
		return;
	}
	if (route_lookup(c->cfg, canon, &r) == -1) {
		lmtp_reply(c, "550 5.1.1 <%s>: no such list address", addr);
		return;
	}
	c->rcpts = xrealloc(c->rcpts, (c->nrcpts + 1) * sizeof(*c->rcpts));
	c->rcpts[c->nrcpts].given = xstrdup(addr);
	c->rcpts[c->nrcpts].canon = xstrdup(canon);
	c->nrcpts++;
	lmtp_reply(c, "250 2.1.5 <%s> ok", addr);
}

static void
lmtp_cmd_data(struct lmtp_conn *c, char *args)
{
	if (c->cfg == NULL) {
		lmtp_reply(c, "503 5.5.1 need MAIL command");
		return;
	}
	if (c->nrcpts == 0) {
		lmtp_reply(c, "503 5.5.1 no valid recipients");
		return;
	}
	if (*args != '\0') {
		lmtp_reply(c, "501 5.5.4 syntax: DATA");
		return;
	}
	if (!spool_space_ok(c->cfg->state_dir, (size_t)c->size_param)) {
		log_warn("lmtp: refusing mail from %s: spool %s",
		    c->peer, c->cfg->state_dir);
		lmtp_reply(c, "452 4.3.1 insufficient system storage");
		lmtp_txn_reset(c);
		return;
	}
	lmtp_store(c);
	lmtp_txn_reset(c);
	if (!c->closing && lmtp_stopping(c->srv)) {
		lmtp_reply(c, "421 4.3.2 %s shutting down", c->domain);
		c->closing = 1;
	}
}

/*
 * The DATA phase: open the spool file, read the message to the end, and
 * answer once per recipient.
 */
static void
lmtp_store(struct lmtp_conn *c)
{
	struct spool_writer w;
	char **env;
	size_t i, j, n, size;
	int too_big, r, saved;

	/* The envelope lists each canonical recipient once. */
	env = xcalloc(c->nrcpts, sizeof(*env));
	for (i = n = 0; i < c->nrcpts; i++) {
		for (j = 0; j < n; j++)
			if (addr_same(env[j], c->rcpts[i].canon))
				break;
		if (j == n)
			env[n++] = c->rcpts[i].canon;
	}
	r = spool_begin(c->cfg->state_dir, c->sender, env, n, &w);
	free(env);
	if (r == -1) {
		log_warn("lmtp: cannot store message from <%s>", c->sender);
		lmtp_reply(c, "451 4.3.0 cannot store message: %s",
		    strerror(errno));
		return;
	}
	lmtp_reply(c, "354 go ahead, end with <CRLF>.<CRLF>");

	if ((r = lmtp_read_data(c, &w, &size, &too_big)) != 1) {
		/* Nobody to answer: nothing of this was acknowledged. */
		spool_abort(&w);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			lmtp_reply(c, "421 4.4.2 %s timeout, closing "
			    "connection", c->domain);
		log_info("lmtp: %s: connection lost during DATA from %s",
		    w.id, c->peer);
		c->closing = 1;
		return;
	}
	if (too_big) {
		spool_abort(&w);
		log_info("lmtp: refused message from <%s>: %zu octets, more "
		    "than %ld", c->sender, size, c->cfg->max_message_size);
		for (i = 0; i < c->nrcpts; i++)
			lmtp_reply(c, "552 5.3.4 <%s> message too big "
			    "(limit %ld octets)", c->rcpts[i].given,
			    c->cfg->max_message_size);
		return;
	}
	if (spool_commit(&w) == -1) {
		saved = errno;
		log_warn("lmtp: %s: cannot store message from <%s>",
		    w.id, c->sender);
		for (i = 0; i < c->nrcpts; i++)
			lmtp_reply(c, "451 4.3.0 <%s> cannot store message: "
			    "%s", c->rcpts[i].given, strerror(saved));
		return;
	}
	log_info("%s: from=<%s> size=%zu nrcpt=%zu (lmtp)", w.id, c->sender,
	    size, n);
	for (i = 0; i < c->nrcpts; i++)
		lmtp_reply(c, "250 2.0.0 <%s> stored as %s",
		    c->rcpts[i].given, w.id);
	lmtp_flush(c);
	if (c->srv->stored != NULL)
		c->srv->stored(w.id, c->srv->arg);
}

/*
 * Read the message up to the lone dot, undoing dot-stuffing and keeping
 * line ends as received, into the writer in LMTP_CHUNK pieces.  Past the
 * size limit the rest is read and dropped (*too_big), so that the client
 * gets its 552 replies instead of a broken connection.  Returns 1 at the
 * terminator, 0 at EOF, -1 on error or timeout.
 */
static int
lmtp_read_data(struct lmtp_conn *c, struct spool_writer *w, size_t *size,
    int *too_big)
{
	struct buf chunk = BUF_INIT;
	const char *p;
	size_t n;
	long max = c->cfg->max_message_size;
	int bol = 1, r;

	*size = 0;
	*too_big = 0;
	for (;;) {
		if ((r = lmtp_getseg(c, &p, &n)) != 1)
			break;
		if (bol && p[0] == '.') {
			if ((n == 3 && p[1] == '\r' && p[2] == '\n') ||
			    (n == 2 && p[1] == '\n')) {
				r = 1;
				break;
			}
			p++;
			n--;
		}
		if (n == 0)
			continue;
		bol = p[n - 1] == '\n';
		*size += n;
		if (max > 0 && *size > (size_t)max)
			*too_big = 1;
		if (*too_big)
			continue;
		buf_add(&chunk, p, n);
		if (chunk.len >= LMTP_CHUNK) {
			/* A failure is kept in w; commit reports it. */
			(void)spool_write(w, chunk.data, chunk.len);
			buf_reset(&chunk);
		}
	}
	if (r == 1 && !*too_big && chunk.len > 0)
		(void)spool_write(w, chunk.data, chunk.len);
	buf_free(&chunk);
	return r;
}

/* End the transaction: back to the state after LHLO. */
static void
lmtp_txn_reset(struct lmtp_conn *c)
{
	for (size_t i = 0; i < c->nrcpts; i++) {
		free(c->rcpts[i].given);
		free(c->rcpts[i].canon);
	}
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = 0;
	free(c->sender);
	c->sender = NULL;
	c->size_param = 0;
	if (c->cfg != NULL) {
		config_release(c->cfg);
		c->cfg = NULL;
	}
	pthread_mutex_lock(&c->srv->lock);
	c->in_txn = 0;
	pthread_mutex_unlock(&c->srv->lock);
}
