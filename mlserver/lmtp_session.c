/*
 * lmtp_session - the protocol of one LMTP connection (RFC 2033); see
 * lmtp.h for the module and lmtp_private.h for what is shared with lmtp.c.
 *
 * This file owns what is said on a connection lmtp.c has accepted: the
 * replies, the buffered reader, command dispatch, LHLO, MAIL, RCPT and
 * DATA, storing into the spool and resetting the transaction.  It runs in
 * the connection's own thread.  It knows nothing of lists beyond
 * route_lookup(), and nothing of files beyond spool.h: a transaction ends
 * either in spool_commit() followed by one 250 per recipient, or in a
 * refusal that leaves nothing behind.
 *
 * Input goes through a buffered reader, so pipelined commands (RFC 2920)
 * are taken one by one from what has arrived; replies are collected and
 * flushed whenever the reader is about to block, as RFC 2920 requires.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "lmtp_private.h"
#include "log.h"
#include "route.h"
#include "spool.h"
#include "xmalloc.h"

#define LMTP_LINE_MAX	1000	/* a command line, CRLF included (RFC 5321 4.5.3.1.6) */
#define LMTP_MAX_RCPTS	1000	/* per transaction */
#define LMTP_CHUNK	65536	/* message octets collected per spool_write() */

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
 * The session: greet, then read and answer commands until the client
 * quits, the connection breaks or lmtp_stop() shuts it down.  What is
 * left of a transaction is dropped and pending replies are sent.
 */
void
lmtp_session_run(struct lmtp_conn *c)
{
	char line[LMTP_LINE_MAX + 1];
	int r;

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
