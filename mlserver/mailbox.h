/*
 * mailbox - mail fetched from mailboxes (Maildir, IMAP, POP3) through
 * libetpan, for lists that have no MTA of their own.
 *
 * Each configured mailbox gets a thread of the daemon that takes its
 * messages into the spool exactly as LMTP stores them (spool.h), wakes
 * the processor, and only then removes them from the mailbox.  What was
 * taken is recorded in state.db (IMAP UIDVALIDITY/UID, POP3 UIDL, Maildir
 * unique name), so a crash between storing and removing neither loses a
 * message nor posts it twice.
 */
#ifndef MLS_MAILBOX_H
#define MLS_MAILBOX_H

#include <stddef.h>

#include <libconfig.h>

struct buf;
struct config;
struct store_schema;

enum mailbox_type {
	MAILBOX_MAILDIR,
	MAILBOX_IMAP,
	MAILBOX_POP3
};

/* What becomes of a message once it is in our spool (IMAP only). */
enum mailbox_after {
	MAILBOX_DELETE,		/* flagged \Deleted and expunged */
	MAILBOX_MOVE		/* copied to move_to, then expunged */
};

struct mailbox_conf {
	enum mailbox_type	 type;
	char			*path;		/* Maildir: absolute */
	char			*host;
	int			 port;
	int			 tls;		/* TLS from the first octet */
	char			*ca_file;	/* NULL: the system's CAs */
	char			*user;
	char			*password_file;	/* absolute */
	char			*folder;	/* IMAP, default INBOX */
	int			 idle;		/* IMAP IDLE when offered */
	int			 interval;	/* seconds between polls */
	enum mailbox_after	 after;
	char			*move_to;	/* with MAILBOX_MOVE */
	char			*address;	/* canonical, or NULL */
	char			*name;		/* for logs and state.db */
	int			 line;
};

struct mailbox_set;

extern const struct store_schema mailbox_schema;

int	 mailbox_conf_load(const config_setting_t *, const struct config *,
	    const char *path, struct buf *errors, struct mailbox_conf **,
	    size_t *);
void	 mailbox_conf_free(struct mailbox_conf *, size_t);

struct mailbox_set *mailbox_start(void (*stored)(const char *, void *),
	    void *arg);
void	 mailbox_stop(struct mailbox_set *);

#endif
