/*
 * deliver - one SMTP session to the relay per call, on libESMTP; see
 * deliver.h for the contract.
 *
 * How libESMTP 1.1 reports progress (read from its protocol.c and
 * smtp-bdat.c, checked against the installed library by the tests):
 *
 *	SMTP_EV_CONNECT		per address tried, once connected
 *	SMTP_EV_MAILSTATUS	after the reply to MAIL FROM; when it is not
 *				2xx libESMTP sends no RCPT for that message
 *				and moves on: the transaction is over, and no
 *				SMTP_EV_MESSAGESENT follows
 *	SMTP_EV_RCPTSTATUS	after each RCPT reply (all of them are read
 *				before the reply to DATA or to the last BDAT)
 *	SMTP_EV_MESSAGESENT	after the final reply for the message: a 4xx/
 *				5xx (or nonsense) reply to DATA, the reply
 *				after ".", or the reply to BDAT LAST; when a
 *				BDAT fails, after the replies to the BDATs
 *				already pipelined.  Final for every recipient
 *	SMTP_EV_DISCONNECT	connection closed
 *
 * When the connection is lost or times out while a transaction is open,
 * no event comes for it in DATA mode; in BDAT mode MESSAGESENT still
 * comes, with an empty status (code 0, no text).  smtp_start_session()
 * may even return success.  So a transaction is settled in exactly one
 * of three places: at a non-2xx MAILSTATUS, at MESSAGESENT, or after the
 * session for whatever is left (DEFERRED, except recipients a 5xx RCPT
 * reply already refused).  The finished flag guards the one callback per
 * transaction.  A status counts only when complete (deliver_class()).
 * This file drives the session; the settling itself, and the log line,
 * are in deliver_settle.c.
 *
 * Two workarounds for libESMTP 1.1.0 on this system, each explained
 * where it is made: deliver_nodelay() (Nagle cost 40 ms a transaction)
 * and deliver_tls_setup() in deliver_tls.c (an SSL_CTX use-after-free,
 * and TLS 1.3 stalls).  SMTP AUTH, which libESMTP reports through no
 * event, is followed in deliver_auth.c; a session that went past AUTH
 * without succeeding has its refusals taken as deferrals
 * (deliver_unauthenticated()).
 *
 * A reply of 2xx to DATA itself (a broken server; libESMTP then reports
 * MESSAGESENT without sending the data) must not count as delivery: the
 * message reader's rewind marks that the data really started.
 *
 * smtp_errno() is per thread but never cleared by libESMTP, so before the
 * session we make one call that is defined to fail with SMTP_ERR_INVAL;
 * seeing that value afterwards means the session set no error of its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>	/* before libesmtp.h: smtp_starttls_set_ctx() */

#include <libesmtp.h>

#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "deliver_private.h"
#include "log.h"
#include "xmalloc.h"

#define DELIVER_CHUNK		(64 * 1024)	/* message reader, octets */
#define DELIVER_DEFAULT_PORT	25

/* Timeouts in milliseconds: a dead relay must not hold a worker long. */
#define DELIVER_TO_GREETING	30000
#define DELIVER_TO_ENVELOPE	30000	/* each EHLO/MAIL/RCPT reply */
#define DELIVER_TO_DATA		30000	/* the 354 reply to DATA */
#define DELIVER_TO_TRANSFER	120000	/* each write of the data */
#define DELIVER_TO_DATA2	120000	/* the final reply after "." */

static char	*deliver_relay_name(const struct relay_conf *, int *,
		    struct buf *);
static int	 deliver_run(struct deliver_ctx *, const struct relay_conf *);
static void	 deliver_defer_all(struct deliver_ctx *);
static int	 deliver_setup(struct deliver_ctx *, smtp_session_t,
		    const struct relay_conf *);
static int	 deliver_add_txn(struct deliver_ctx *, smtp_session_t,
		    struct deliver_msg *);
static int	 deliver_has_8bit(const char *, size_t);
static void	 deliver_lib_error(struct deliver_ctx *, const char *);
static const char *deliver_read(void **, int *, void *);
static void	 deliver_event(smtp_session_t, int, void *, ...);
static void	 deliver_nodelay(int);
static void	 deliver_monitor(const char *, int, int, void *);
static void	 deliver_set_reason(struct deliver_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static struct deliver_msg *deliver_lookup(struct deliver_ctx *,
		    smtp_message_t);

int
deliver_session(const struct relay_conf *relay, struct deliver_txn *txns,
    size_t ntxns, deliver_done_fn *done, void *arg)
{
	struct deliver_ctx ctx;
	struct buf why = BUF_INIT;
	size_t i, active = 0;
	int rc = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.conf = relay;
	ctx.done = done;
	ctx.arg = arg;
	ctx.starttls = relay->starttls;
	ctx.nmsgs = ntxns;
	ctx.msgs = xcalloc(ntxns ? ntxns : 1, sizeof(*ctx.msgs));
	for (i = 0; i < ntxns; i++) {
		ctx.msgs[i].ctx = &ctx;
		ctx.msgs[i].txn = &txns[i];
		deliver_txn_clear(&txns[i]);
		if (txns[i].nrcpts > 0)
			active++;
	}

	if ((ctx.relay = deliver_relay_name(relay, &ctx.port, &why)) == NULL) {
		ctx.relay = xstrdup(relay->host ? relay->host : "(none)");
		deliver_set_reason(&ctx, "%s", buf_cstr(&why));
		log_warnx("deliver: %s", ctx.reason);
		deliver_defer_all(&ctx);
		rc = -1;
	} else if (active > 0)
		rc = deliver_run(&ctx, relay);

	/* Transactions without recipients had nothing to do. */
	for (i = 0; i < ntxns; i++)
		if (!ctx.msgs[i].finished) {
			ctx.msgs[i].finished = 1;
			if (ctx.done != NULL)
				ctx.done(&txns[i], ctx.arg);
		}
	for (i = 0; i < ntxns; i++)
		free(ctx.msgs[i].rcpts);
	free(ctx.msgs);
	free(ctx.relay);
	buf_free(&why);
	return rc;
}

void
deliver_txn_clear(struct deliver_txn *txn)
{
	size_t i;

	for (i = 0; i < txn->nrcpts; i++) {
		free(txn->rcpts[i].reply);
		txn->rcpts[i].reply = NULL;
		txn->rcpts[i].state = DELIVER_PENDING;
	}
}

/*
 * "host:port" for smtp_set_server(), which cuts at the first colon and
 * defaults to port 587 without one.  "[192.0.2.1]" (Postfix's notation)
 * loses its brackets; an IPv6 literal cannot be expressed at all.
 */
static char *
deliver_relay_name(const struct relay_conf *relay, int *portp,
    struct buf *why)
{
	struct buf b = BUF_INIT;
	const char *host = relay->host;
	size_t len;
	int port;

	if (host == NULL || *host == '\0') {
		buf_printf(why, "no relay host configured");
		return NULL;
	}
	len = strlen(host);
	if (host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0) {
		buf_printf(why, "bad relay host \"%s\"", relay->host);
		return NULL;
	}
	if (memchr(host, ':', len) != NULL) {
		buf_printf(why, "relay %s: IPv6 address literals cannot be "
		    "used with libESMTP 1.1; name the relay by a host name",
		    relay->host);
		return NULL;
	}
	port = relay->port > 0 && relay->port <= 65535 ? relay->port :
	    DELIVER_DEFAULT_PORT;
	buf_add(&b, host, len);
	buf_printf(&b, ":%d", port);
	*portp = port;
	return buf_release(&b);
}

/* Set up the libESMTP session, run it, settle every transaction. */
static int
deliver_run(struct deliver_ctx *ctx, const struct relay_conf *relay)
{
	smtp_session_t session;
	size_t i;
	int rc = -1;

	if ((session = smtp_create_session()) == NULL) {
		deliver_lib_error(ctx, "smtp_create_session");
		deliver_defer_all(ctx);
		return -1;
	}
	if (deliver_setup(ctx, session, relay) == -1)
		goto fail;
	for (i = 0; i < ctx->nmsgs; i++)
		if (ctx->msgs[i].txn->nrcpts > 0 &&
		    deliver_add_txn(ctx, session, &ctx->msgs[i]) == -1)
			goto fail;

	/* Defined to fail with SMTP_ERR_INVAL: see the top of the file. */
	(void)smtp_set_timeout(session, Timeout_GREETING, 0);
	/*
	 * Its result says little (a session lost midway may return 1, a
	 * refused greeting 0 with no error of its own): the events and
	 * smtp_errno() tell deliver_settle_left() what happened.
	 */
	if (!smtp_start_session(session))
		log_debug("deliver: relay=%s smtp_start_session failed: "
		    "error %d", ctx->relay, smtp_errno());
	deliver_settle_left(ctx);
	rc = ctx->reached ? 0 : -1;
	smtp_destroy_session(session);
	deliver_auth_free(&ctx->auth);
	return rc;

fail:
	deliver_defer_all(ctx);
	smtp_destroy_session(session);
	deliver_auth_free(&ctx->auth);
	return -1;
}

/* The session could not run: every transaction waits for the next. */
static void
deliver_defer_all(struct deliver_ctx *ctx)
{
	struct deliver_txn *txn;
	size_t i, j;

	for (i = 0; i < ctx->nmsgs; i++) {
		if (ctx->msgs[i].finished)
			continue;
		txn = ctx->msgs[i].txn;
		for (j = 0; j < txn->nrcpts; j++)
			deliver_set(&txn->rcpts[j], DELIVER_DEFERRED,
			    xstrdup(ctx->reason));
		deliver_finish(ctx, &ctx->msgs[i]);
	}
}

static int
deliver_setup(struct deliver_ctx *ctx, smtp_session_t session,
    const struct relay_conf *relay)
{
	static const struct {
		int	which;
		long	ms;
	} timeouts[] = {
		{ Timeout_GREETING,	DELIVER_TO_GREETING },
		{ Timeout_ENVELOPE,	DELIVER_TO_ENVELOPE },
		{ Timeout_DATA,		DELIVER_TO_DATA },
		{ Timeout_TRANSFER,	DELIVER_TO_TRANSFER },
		{ Timeout_DATA2,	DELIVER_TO_DATA2 },
	};
	size_t i;

	if (!smtp_set_server(session, ctx->relay)) {
		deliver_lib_error(ctx, "smtp_set_server");
		return -1;
	}
	if (!smtp_starttls_enable(session, relay->starttls ?
	    Starttls_REQUIRED : Starttls_DISABLED)) {
		deliver_lib_error(ctx, "smtp_starttls_enable");
		return -1;
	}
	if (relay->starttls && deliver_tls_setup(session, relay, ctx->reason,
	    sizeof(ctx->reason)) == -1) {
		log_warnx("deliver: relay=%s %s", ctx->relay, ctx->reason);
		return -1;
	}
	if (deliver_auth_setup(&ctx->auth, session, relay) == -1) {
		deliver_set_reason(ctx, "libESMTP: cannot set up AUTH");
		return -1;
	}
	if (!smtp_set_eventcb(session, deliver_event, ctx) ||
	    !smtp_set_monitorcb(session, deliver_monitor, ctx, 0)) {
		deliver_lib_error(ctx, "smtp_set_eventcb");
		return -1;
	}
	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		if (smtp_set_timeout(session, timeouts[i].which |
		    Timeout_OVERRIDE_RFC2822_MINIMUM, timeouts[i].ms) == 0) {
			deliver_lib_error(ctx, "smtp_set_timeout");
			return -1;
		}
	return 0;
}

static int
deliver_add_txn(struct deliver_ctx *ctx, smtp_session_t session,
    struct deliver_msg *m)
{
	const struct deliver_txn *txn = m->txn;
	size_t i;

	if ((m->msg = smtp_add_message(session)) == NULL) {
		deliver_lib_error(ctx, "smtp_add_message");
		return -1;
	}
	smtp_message_set_application_data_release(m->msg, m, NULL);
	if (!smtp_set_reverse_path(m->msg, txn->sender ? txn->sender : "")) {
		deliver_lib_error(ctx, "smtp_set_reverse_path");
		return -1;
	}
	if (!smtp_set_messagecb(m->msg, deliver_read, m)) {
		deliver_lib_error(ctx, "smtp_set_messagecb");
		return -1;
	}
	/* Lets a relay with SIZE refuse an oversized message at MAIL. */
	if (!smtp_size_set_estimate(m->msg, txn->len)) {
		deliver_lib_error(ctx, "smtp_size_set_estimate");
		return -1;
	}
	/*
	 * RFC 6152: 8-bit data (UTF-8 bodies) must be declared.  libESMTP
	 * then requires 8BITMIME of the relay and fails the session when
	 * it is missing (SMTP_EV_EXTNA_8BITMIME gives the reason).
	 */
	if (deliver_has_8bit(txn->data, txn->len) &&
	    !smtp_8bitmime_set_body(m->msg, E8bitmime_8BITMIME)) {
		deliver_lib_error(ctx, "smtp_8bitmime_set_body");
		return -1;
	}
	m->rcpts = xcalloc(txn->nrcpts, sizeof(*m->rcpts));
	for (i = 0; i < txn->nrcpts; i++)
		if (txn->rcpts[i].addr == NULL ||
		    (m->rcpts[i] = smtp_add_recipient(m->msg,
		    txn->rcpts[i].addr)) == NULL) {
			deliver_lib_error(ctx, "smtp_add_recipient");
			return -1;
		}
	return 0;
}

static int
deliver_has_8bit(const char *p, size_t len)
{
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] & 0x80)
			return 1;
	return 0;
}

/* A libESMTP call failed before the session: say which, and why. */
static void
deliver_lib_error(struct deliver_ctx *ctx, const char *call)
{
	char ebuf[256];
	const char *e;

	e = smtp_strerror(smtp_errno(), ebuf, sizeof(ebuf));
	deliver_set_reason(ctx, "libESMTP %s: %s", call, e ? e : "failed");
	log_warnx("deliver: relay=%s %s", ctx->relay ? ctx->relay : "?",
	    ctx->reason);
}

/*
 * libESMTP's message reader: called with len == NULL to rewind (once at
 * the start of each DATA or BDAT, perhaps more than once per
 * transaction), then until it returns nothing.  Hands out the message in
 * chunks of whole lines; the data is already CRLF, and libESMTP does the
 * dot-stuffing.
 */
static const char *
deliver_read(void **state, int *len, void *arg)
{
	struct deliver_msg *m = arg;
	const struct deliver_txn *txn = m->txn;
	const char *p, *nl;
	size_t n;

	(void)state;
	if (len == NULL) {
		m->off = 0;
		m->data_started = 1;
		return NULL;
	}
	if (txn->data == NULL || m->off >= txn->len) {
		*len = 0;
		return NULL;
	}
	p = txn->data + m->off;
	n = txn->len - m->off;
	if (n > DELIVER_CHUNK) {
		if ((nl = memrchr(p, '\n', DELIVER_CHUNK)) != NULL)
			n = nl - p + 1;
		else if ((nl = memchr(p + DELIVER_CHUNK, '\n',
		    n - DELIVER_CHUNK)) != NULL && nl - p < INT_MAX)
			n = nl - p + 1;	/* a line longer than a chunk */
		else
			n = DELIVER_CHUNK;
	}
	m->off += n;
	*len = (int)n;
	return p;
}

static void
deliver_event(smtp_session_t session, int event, void *arg, ...)
{
	struct deliver_ctx *ctx = arg;
	struct deliver_msg *m;
	smtp_message_t msg;
	va_list ap;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_CONNECT:
		ctx->connected = 1;
		deliver_nodelay(ctx->port);
		break;
	case SMTP_EV_MAILSTATUS:
		(void)va_arg(ap, const char *);
		msg = va_arg(ap, smtp_message_t);
		ctx->reached = 1;
		if ((m = deliver_lookup(ctx, msg)) != NULL &&
		    deliver_class(smtp_reverse_path_status(msg)) != 2)
			deliver_settle_mail(ctx, m);
		break;
	case SMTP_EV_MESSAGESENT:
		msg = va_arg(ap, smtp_message_t);
		if ((m = deliver_lookup(ctx, msg)) != NULL)
			deliver_settle_message(ctx, m);
		break;
	case SMTP_EV_STARTTLS_OK:
		ctx->tls_ok = 1;
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		deliver_set_reason(ctx, "STARTTLS required but not offered "
		    "by %s", ctx->relay);
		break;
	case SMTP_EV_EXTNA_8BITMIME:
		deliver_set_reason(ctx, "%s does not offer 8BITMIME, needed "
		    "for 8-bit message data", ctx->relay);
		break;
	default: {
		char why[sizeof(ctx->reason)];

		/* Certificates: deliver_tls.c.  Otherwise progress
		 * (RCPTSTATUS, MESSAGEDATA) and extensions we do not
		 * require: nothing to settle. */
		if (deliver_tls_event(ctx->conf, ctx->relay, event, ap, why,
		    sizeof(why)) && why[0] != '\0')
			deliver_set_reason(ctx, "%s", why);
		break;
	}
	}
	va_end(ap);
}

/*
 * Turn off Nagle's algorithm on the connection libESMTP just made.
 *
 * libESMTP writes through a 2 KB buffer and ends each message with a
 * short write (the last lines and ".", or "BDAT 0 LAST") while earlier
 * segments are still unacknowledged; Nagle then holds it until the
 * relay's delayed ACK, 40 ms on Linux, for every transaction: measured
 * 4.4 s instead of 0.07 s for 100 transactions of 4 KB.  libESMTP 1.1
 * neither sets TCP_NODELAY nor shows its socket, so look for it: a
 * non-blocking TCP socket (sio_attach() just made it so) connected to
 * the relay's port.  Another thread's session to the relay may match
 * too; that socket wants the same option.  Without /proc this does
 * nothing and delivery is merely slower.
 */
static void
deliver_nodelay(int port)
{
	struct sockaddr_storage ss;
	struct dirent *de;
	socklen_t len;
	DIR *dir;
	int fd, one = 1, val, peer;
	char *end;
	long l;

	if ((dir = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		l = strtol(de->d_name, &end, 10);
		if (*de->d_name == '\0' || *end != '\0' || l < 0 ||
		    l > INT_MAX || (fd = (int)l) == dirfd(dir))
			continue;
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &val, &len) == -1 ||
		    val != IPPROTO_TCP)
			continue;
		if ((val = fcntl(fd, F_GETFL)) == -1 || !(val & O_NONBLOCK))
			continue;
		len = sizeof(ss);
		if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
			continue;
		if (ss.ss_family == AF_INET)
			peer = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			peer = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			continue;
		if (peer == port)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
	}
	closedir(dir);
}

/*
 * Keep the last line the server sent before any MAIL FROM was answered:
 * it explains a session refused at the greeting, EHLO or STARTTLS, for
 * which libESMTP keeps no status the API can reach.  A refusal (4xx,
 * 5xx) once seen is kept: what follows it, such as the 221 to our QUIT,
 * is a consequence, not the reason.
 */
static void
deliver_monitor(const char *buf, int len, int writing, void *arg)
{
	struct deliver_ctx *ctx = arg;
	const char *end, *start;
	size_t n;

	deliver_auth_monitor(&ctx->auth, buf, len, writing);
	if (writing != SMTP_CB_READING || ctx->reached || len <= 0)
		return;
	if (ctx->last_reply[0] == '4' || ctx->last_reply[0] == '5')
		return;
	end = buf + len;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (start = end; start > buf && start[-1] != '\n'; start--)
		;
	n = end - start;
	if (n == 0)
		return;
	if (n >= sizeof(ctx->last_reply))
		n = sizeof(ctx->last_reply) - 1;
	memcpy(ctx->last_reply, start, n);
	ctx->last_reply[n] = '\0';
}

/* The first reason wins: later ones are consequences. */
static void
deliver_set_reason(struct deliver_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->reason[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(ctx->reason, sizeof(ctx->reason), fmt, ap);
	va_end(ap);
}

static struct deliver_msg *
deliver_lookup(struct deliver_ctx *ctx, smtp_message_t msg)
{
	struct deliver_msg *m;

	if (msg == NULL)
		return NULL;
	m = smtp_message_get_application_data(msg);
	if (m == NULL || m->ctx != ctx || m->finished)
		return NULL;
	return m;
}
