/*
 * deliver_private - what deliver.c (the session) shares with
 * deliver_settle.c (results and log lines), deliver_tls.c (STARTTLS and
 * the relay's certificate) and deliver_auth.c (SMTP AUTH).  Nothing
 * outside the deliver module includes this; the contract is deliver.h.
 *
 * Include <stddef.h>, <openssl/ssl.h> and <libesmtp.h> before this file
 * (see the notes on libesmtp.h in deliver.c).
 */
#ifndef MLS_DELIVER_PRIVATE_H
#define MLS_DELIVER_PRIVATE_H

#include <stdarg.h>
#include <auth-client.h>

#include "deliver.h"

struct relay_conf;

/*
 * Give the session an SSL_CTX of its own that checks the relay's
 * certificate as relay says (ca_file, tls_verify).  On failure, why
 * says what went wrong.
 */
int	 deliver_tls_setup(smtp_session_t, const struct relay_conf *,
	    char *why, size_t whylen);

/*
 * Handle a libESMTP certificate event (SMTP_EV_INVALID_PEER_CERTIFICATE
 * and its kin), whose arguments follow in ap: accept what the policy
 * accepts, and write the reason for refusing into why.  Returns 1 when
 * the event was one of these (why may still be empty: accepted), 0 when
 * it is not a certificate event.
 */
int	 deliver_tls_event(const struct relay_conf *, const char *relay,
	    int event, va_list ap, char *why, size_t whylen);

enum deliver_auth_state {
	DELIVER_AUTH_NONE,	/* no AUTH command sent (yet) */
	DELIVER_AUTH_SENT,	/* waiting for the outcome */
	DELIVER_AUTH_OK,	/* 235 */
	DELIVER_AUTH_FAILED	/* 4xx or 5xx; reply says which */
};

struct deliver_auth {
	auth_context_t		 actx;	/* NULL: no AUTH configured */
	const char		*user;
	const char		*password;
	enum deliver_auth_state	 state;
	char			 reply[256];	/* the server's refusal */
};

/* Set up AUTH for the session when relay has a user; 0 or -1. */
int	 deliver_auth_setup(struct deliver_auth *, smtp_session_t,
	    const struct relay_conf *);
/* Follow the AUTH exchange in libESMTP's protocol monitor. */
void	 deliver_auth_monitor(struct deliver_auth *, const char *buf,
	    int len, int writing);
/*
 * NULL when AUTH was not wanted or succeeded; otherwise why the session
 * is not authenticated ("535 5.7.8 ...", or that the relay offered no
 * AUTH).  Meaningful once the session went past AUTH.
 */
const char *deliver_auth_failure(const struct deliver_auth *);
void	 deliver_auth_free(struct deliver_auth *);

/* One transaction as libESMTP sees it. */
struct deliver_msg {
	struct deliver_ctx	*ctx;
	struct deliver_txn	*txn;
	smtp_message_t		 msg;
	smtp_recipient_t	*rcpts;
	size_t			 off;		/* message reader's position */
	int			 data_started;	/* reader rewound: data went out */
	int			 finished;	/* done() was called */
};

/* One call of deliver_session(). */
struct deliver_ctx {
	const struct relay_conf	*conf;
	char			*relay;		/* "host:port" */
	struct deliver_msg	*msgs;
	size_t			 nmsgs;
	deliver_done_fn		*done;
	void			*arg;
	int			 port;
	int			 starttls;
	int			 connected;	/* SMTP_EV_CONNECT seen */
	int			 tls_ok;	/* SMTP_EV_STARTTLS_OK seen */
	int			 reached;	/* some MAIL FROM was answered */
	char			 reason[512];	/* first session failure, or "" */
	char			 last_reply[512]; /* last server line before
						     any MAIL FROM */
	struct deliver_auth	 auth;
	int			 auth_logged;	/* its failure was logged */
	char			 auth_text[512];
};


/* deliver_settle.c: results per recipient, and the log line. */
int	 deliver_class(const smtp_status_t *);
void	 deliver_set(struct deliver_rcpt *, enum deliver_state, char *);
void	 deliver_settle_mail(struct deliver_ctx *, struct deliver_msg *);
void	 deliver_settle_message(struct deliver_ctx *, struct deliver_msg *);
void	 deliver_settle_left(struct deliver_ctx *);
void	 deliver_finish(struct deliver_ctx *, struct deliver_msg *);

#endif
