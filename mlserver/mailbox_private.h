/*
 * mailbox_private - what mailbox.c shares with its backends
 * (mailbox_maildir.c, mailbox_imap.c, mailbox_pop3.c).
 *
 * A backend finds the messages of its mailbox, asks mailbox_seen() what
 * became of each, hands new ones to mailbox_take() and removes those
 * that are taken, then says so with mailbox_removed().  It never logs a
 * connection failure itself: it returns -1 with mailbox_fail(), which
 * logs once per outage.
 */
#ifndef MLS_MAILBOX_PRIVATE_H
#define MLS_MAILBOX_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

struct config;
struct mailbox_conf;
struct mailstream_ssl_context;
struct _mailstream;
struct store;

struct mailbox_run {
	struct config			*cf;	/* one reference held */
	const struct mailbox_conf	*mc;	/* inside cf */
	struct store			*st;
	pthread_t			 thread;
	int				 wake[2];	/* pipe: stop */
	atomic_int			 stop;
	void				(*stored)(const char *, void *);
	void				*arg;
	int				 failing;	/* in an outage */
	char				*password;	/* NULL until read */
};

/* What became of a message with a given UID. */
enum mailbox_state {
	MAILBOX_NEW = -1,	/* never taken */
	MAILBOX_STORING = 0,	/* being stored (crash: see mailbox.c) */
	MAILBOX_TAKEN = 1,	/* in our spool; remove it from the box */
	MAILBOX_REMOVED = 2,	/* removed; may linger until expunged */
	MAILBOX_SKIPPED = 3	/* not for us; left in the box */
};

int	 mailbox_seen(struct mailbox_run *, const char *uid);
int	 mailbox_take(struct mailbox_run *, const char *uid, const char *msg,
	    size_t len);
int	 mailbox_removed(struct mailbox_run *, const char *uid);
int	 mailbox_fail(struct mailbox_run *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 mailbox_ok(struct mailbox_run *);
int	 mailbox_sleep(struct mailbox_run *, int seconds, int fd);
int	 mailbox_stopping(struct mailbox_run *);
const char *mailbox_password(struct mailbox_run *);
void	 mailbox_tls_setup(struct mailstream_ssl_context *, void *);
int	 mailbox_tls_check(struct mailbox_run *, struct _mailstream *);

int	 mailbox_maildir_poll(struct mailbox_run *);
int	 mailbox_imap_session(struct mailbox_run *);
int	 mailbox_pop3_poll(struct mailbox_run *);

#endif
