/*
 * lmtp - the LMTP server (RFC 2033): mail from the MTA into the spool.
 *
 * lmtp_start() binds every address of config->listen ("127.0.0.1:2424",
 * "[::1]:2424", "unix:/path/to/socket") and serves each connection in a
 * thread of its own, with blocking I/O and a read timeout, so that one
 * slow client never holds up another.  RCPT TO is checked at once with
 * route_lookup(); after DATA the message is committed to the spool
 * (spool.h) and only then is each recipient answered 250.  Each
 * transaction takes its own reference to config_current(), so a SIGHUP
 * swap applies to the next MAIL FROM.
 *
 * The config passed to lmtp_start() is read only during the call (for
 * the listen addresses); the caller may release it afterwards.  After a
 * message is stored, stored(id, arg) is called from the connection's
 * thread: it must be thread-safe and quick (wake the processor).
 *
 * lmtp_stop() stops accepting, closes idle connections with 421, lets
 * transactions in progress finish for up to 20 seconds, then cuts the
 * rest (nothing of theirs was acknowledged, so the MTA sends it again),
 * joins every thread and frees the server.
 *
 * The process should ignore SIGPIPE (replies are sent with MSG_NOSIGNAL,
 * but other modules write to sockets too).
 */
#ifndef MLS_LMTP_H
#define MLS_LMTP_H

struct config;
struct lmtp_server;

typedef void lmtp_stored_fn(const char *id, void *arg);

#define LMTP_MAX_CONNECTIONS	256	/* more get "421 4.3.2" at once */
#define LMTP_READ_TIMEOUT	300	/* seconds; RFC 5321 4.5.3.2 */
#define LMTP_STOP_GRACE		20	/* seconds lmtp_stop() waits */

int	 lmtp_start(struct lmtp_server **, const struct config *,
	    lmtp_stored_fn *, void *arg);
void	 lmtp_stop(struct lmtp_server *);

#endif
