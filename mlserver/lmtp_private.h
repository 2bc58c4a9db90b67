/*
 * lmtp_private.h - what lmtp.c and lmtp_session.c share; private to those
 * two files, included by nothing else (the module's interface is lmtp.h).
 *
 * lmtp.c owns the server and each connection's thread; lmtp_session.c
 * owns the protocol spoken on one connection.  The accept side hands a
 * set-up connection to lmtp_session_run(); the session asks the server
 * only lmtp_stopping(), takes srv->lock around in_txn and stopping, and
 * calls srv->stored after a commit.
 */
#ifndef MLS_LMTP_PRIVATE_H
#define MLS_LMTP_PRIVATE_H

#include <sys/queue.h>

#include <netdb.h>
#include <pthread.h>
#include <stddef.h>

#include "buf.h"
#include "lmtp.h"

#define LMTP_RBUF_SIZE	65536	/* reader buffer; longer data lines pass in pieces */

struct config;
struct lmtp_listener;

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

void	 lmtp_session_run(struct lmtp_conn *);	/* lmtp_session.c */
int	 lmtp_stopping(struct lmtp_server *);	/* lmtp.c */

#endif
