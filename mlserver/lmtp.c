/*
 * lmtp - the LMTP server (RFC 2033); see lmtp.h.
 *
 * This file owns the listening sockets, the accept thread and one thread
 * per connection: start-up, shut-down, and each connection's life from
 * accept() to close().  What is said on a connection is lmtp_session.c's;
 * lmtp_private.h holds what the two files share.
 *
 * Threads: one accept thread polls the listening sockets and a wake-up
 * pipe; each accepted connection gets a joinable thread.  A connection
 * thread that ends moves itself from the active list to the done list
 * and pokes the pipe, and the accept thread joins it.  srv->lock guards
 * both lists, nactive, stopping and each connection's in_txn and fd (so
 * lmtp_stop() can shutdown() a socket without racing with its close()).
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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "lmtp.h"
#include "lmtp_private.h"
#include "log.h"
#include "xmalloc.h"

#define LMTP_STACK_SIZE	(1024 * 1024)

struct lmtp_listener {
	int	 fd;
	char	*addr;		/* as configured, for log lines */
	char	*unix_path;	/* unlinked at stop; NULL for TCP */
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

/* 1 once lmtp_stop() has begun; the session asks it too. */
int
lmtp_stopping(struct lmtp_server *srv)
{
	int s;

	pthread_mutex_lock(&srv->lock);
	s = srv->stopping;
	pthread_mutex_unlock(&srv->lock);
	return s;
}

/*
 * One connection: its thread sets up the socket and the buffers, runs the
 * session (lmtp_session.c), then leaves.
 */

static void *
lmtp_conn_main(void *arg)
{
	struct lmtp_conn *c = arg;
	struct timeval tv = { LMTP_READ_TIMEOUT, 0 };
	struct config *cfg;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->rbuf = xmalloc(LMTP_RBUF_SIZE);
	buf_init(&c->out);
	cfg = config_current();
	c->domain = xstrdup(cfg ? cfg->domain : c->srv->domain);
	config_release(cfg);
	log_debug("lmtp: connect from %s", c->peer);

	lmtp_session_run(c);

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
