/*
 * deliver - hand outgoing mail to the relay over SMTP (libESMTP).
 *
 * deliver_session() opens one SMTP connection to the configured relay and
 * carries a run of transactions over it, in order: each struct
 * deliver_txn is one MAIL FROM, its RCPT TOs, and DATA (or BDAT when the
 * relay offers CHUNKING).  The caller (the outgoing queue) has already cut
 * recipient lists into batches of at most relay->max_recipients and runs
 * of at most relay->max_transactions; this module does not split.
 *
 * The result of every recipient is one of SENT (RCPT 2xx and the message
 * accepted), FAILED (5xx to MAIL, RCPT or the message: bounce it) or
 * DEFERRED (4xx, or anything uncertain: connection refused or lost before
 * the final reply, a timeout, a reply that makes no sense).  reply holds
 * the server's reply ("250 2.0.0 Ok: queued as 4Xb1...") or our reason
 * ("connect to 127.0.0.1:2525: Connection refused").
 *
 * Crash safety is the reason for the done callback: it is called once
 * per transaction, from inside the SMTP session, as soon as the relay's
 * final answer for that transaction has been read (and before the next
 * transaction's data is sent), so that the caller can record it (SQLite)
 * at once.  After a crash at most the transaction in flight is sent
 * twice.  Transactions the session never reached (connection refused,
 * session lost) get their callback after the session, all DEFERRED.  The
 * txn and its rcpts must stay valid until deliver_session() returns; the
 * callback must not free them.
 *
 * Each transaction is logged once, in Postfix's manner:
 *	QUEUEID: to=<N recipients> relay=HOST:PORT status=sent (250 ...)
 * with ", N deferred (reply), N bounced (reply)" appended when the
 * recipients did not all fare alike.
 *
 * Limits of libESMTP 1.1 worth knowing: the relay must be a host name
 * or an IPv4 address (smtp_set_server() cuts "host:port" at the first
 * colon, so an IPv6 literal cannot be expressed; such a relay defers
 * everything with a reason saying so); connect() itself has no timeout
 * of ours (the kernel's SYN retries, about two minutes, apply).  With
 * relay->starttls, STARTTLS is required, TLS 1.2 is used (see
 * deliver_tls.c), and the relay's certificate must verify against
 * relay->ca_file or the system's CAs (SSL_CERT_FILE applies) and match
 * the relay's name as configured (a DNS name, or an IPv4 address);
 * relay->tls_noverify accepts any certificate.  With relay->user the
 * session authenticates (SMTP AUTH, deliver_auth.c); when that fails,
 * every recipient of the session that the relay did not take is
 * DEFERRED with "relay HOST:PORT: authentication as USER failed:
 * REPLY", logged once per session.
 *
 * Thread safety: no static mutable state here; each call has its own
 * libESMTP session, so calls from several threads may run at once.  The
 * process must ignore SIGPIPE (libESMTP writes to the socket with
 * write(2)).
 */
#ifndef MLS_DELIVER_H
#define MLS_DELIVER_H

#include <stddef.h>

struct relay_conf;

enum deliver_state {
	DELIVER_PENDING,
	DELIVER_SENT,
	DELIVER_DEFERRED,
	DELIVER_FAILED
};

struct deliver_rcpt {
	const char		*addr;
	enum deliver_state	 state;	/* result */
	char			*reply;	/* the server's reply or our reason; xmalloc'd, freed by deliver_txn_clear */
};

struct deliver_txn {
	const char		*id;	/* queue id, for log lines */
	const char		*sender;	/* envelope sender; "" = null sender <> */
	const char		*data;	/* the whole message, CRLF line endings */
	size_t			 len;
	struct deliver_rcpt	*rcpts;
	size_t			 nrcpts;
	void			*arg;	/* caller's */
};

typedef void deliver_done_fn(struct deliver_txn *, void *arg);

/*
 * Run one SMTP session to relay->host:relay->port with txns[0..ntxns-1].
 * done(txn, arg) is called exactly once for every txn (see above).
 * Returns 0 when the session ran (whatever the relay answered), -1 when
 * it could not run at all: no transaction got as far as a reply to MAIL
 * FROM (connection refused, greeting or EHLO rejected, STARTTLS failed,
 * libESMTP could not be set up); then every recipient is DEFERRED with
 * the reason.  Replies left in the rcpts from an earlier call are freed.
 */
int	 deliver_session(const struct relay_conf *, struct deliver_txn *txns,
	    size_t ntxns, deliver_done_fn *done, void *arg);

/* Free the replies of txn's recipients and set them back to PENDING. */
void	 deliver_txn_clear(struct deliver_txn *);

#endif
