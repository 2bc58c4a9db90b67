/*
 * config - the administrator's configuration (libconfig), checked.
 *
 * config_load() reads and validates the whole file and returns an
 * immutable struct config; every problem found is reported as
 * "FILE:LINE: message", as mlserverctl check prints it.  The daemon holds
 * the current config by reference (config_current/config_release) so that
 * SIGHUP can swap in a new one while workers finish with the old.
 */
#ifndef MLS_CONFIG_H
#define MLS_CONFIG_H

#include <stddef.h>

struct buf;

enum scope_kind {
	SCOPE_CHAPTER,
	SCOPE_REGION,
	SCOPE_NETWORK
};

enum list_policy {
	POLICY_OPEN,
	POLICY_MEMBERS,
	POLICY_MODERATED,
	POLICY_ANNOUNCE
};

struct strv {
	char	**v;
	size_t	  n;
};

struct chapter {
	char		*id;
	char		*name;
	struct strv	 organizers;
};

struct region {
	char		*id;
	char		*name;
	struct strv	 organizers;
	struct chapter	*chapters;
	size_t		 nchapters;
};

struct archive_conf {
	char	*dir;
	char	*url;
	int	 public;
};

struct filter_chain;
struct mailbox_conf;

enum from_munging {
	MUNGE_NEVER,
	MUNGE_ALWAYS,
	MUNGE_WHEN_NEEDED
};

/* moderation = { expire; notice_interval; } (moderate.h) */
struct moderation_conf {
	int	expire;			/* seconds a post stays held */
	int	notice_interval;	/* seconds between "held" notices */
};

/* dmarc = { resolver; timeout; cache; } (dmarc.h) */
struct dmarc_conf {
	char	*resolver;	/* "IPv4[:PORT]", or NULL: the system's */
	int	 timeout;	/* seconds per query */
	int	 cache;		/* seconds an answer is kept */
};

/* digest = { time = "07:00"; max_size = 100000; } (digest.h) */
struct digest_conf {
	int	minute;		/* of the day, in timezone: the daily send */
	long	max_size;	/* octets of waiting posts that send it early */
};

struct list {
	char			*name;
	enum scope_kind		 scope;
	char			*region;	/* region id, or NULL (network) */
	char			*chapter;	/* chapter id, or NULL */
	enum list_policy	 policy;
	struct strv		 moderators;
	struct strv		 forward_to;
	char			*subject_prefix;	/* UTF-8, or NULL */
	char			*language;		/* "ja" or "en" */
	char			*description;	/* the scope's name, for List-Id */
	struct archive_conf	*archive;	/* NULL when not archived */
	char			*footer;	/* UTF-8, or NULL (footer.h) */
	char			*charset;	/* of our own mail; NULL: UTF-8 */
	enum from_munging	 from_munging;	/* see dmarc.h */
	struct filter_chain	*filters;	/* NULL: none (filter.h) */
	struct digest_conf	 digest;	/* the config's, or its own */
	int			 line;
};

struct relay_conf {
	char	*host;
	int	 port;
	int	 starttls;
	int	 max_recipients;	/* per SMTP transaction */
	int	 max_transactions;	/* per SMTP session */
	int	 sessions;		/* SMTP sessions at once per round */
	/* A provider's submission server (config_relay.h): */
	char	*user;			/* AUTH user; NULL: no AUTH */
	char	*password;		/* read from password_file at load */
	char	*password_file;
	char	*ca_file;		/* NULL: the system's CAs */
	int	 tls_noverify;		/* tls_verify = false; 0 = verify */
	int	 max_messages_per_hour;	/* transactions; 0: no limit */
	int	 max_recipients_per_message;	/* 0: not set */
};

struct queue_conf {
	int	retry_first;	/* seconds */
	int	retry_max;
	int	lifetime;
};

enum verp_mode {
	VERP_NEVER,
	VERP_ALWAYS,
	VERP_EVERY	/* every verp_every-th post of a list */
};

struct bounce_conf {
	double		 threshold;	/* score that disables delivery */
	int		 stale_days;	/* a score older than this restarts */
	int		 warnings;	/* notices before removal */
	int		 warning_days;	/* between notices */
	enum verp_mode	 verp;
	int		 verp_every;
};

struct config {
	char			*path;
	char			*domain;
	char			*state_dir;	/* absolute */
	struct strv		 listen;
	char			*language;
	char			*timezone;
	struct relay_conf	 relay;
	struct queue_conf	 queue;
	struct bounce_conf	 bounce;
	struct moderation_conf	 moderation;
	struct dmarc_conf	 dmarc;
	char			*network_name;
	struct region		*regions;
	size_t			 nregions;
	struct list		*lists;
	size_t			 nlists;
	long			 max_message_size;	/* octets */
	int			 token_ttl;		/* seconds */
	int			 reply_limit;		/* replies/address/hour */
	char			*templates_dir;	/* NULL: the built-in ones */
	struct strv		 proposal_schedule;	/* "MM-DD HH:MM" */
	long			 proposal_reminder;	/* seconds */
	int			*reminders;	/* event reminder leads, s */
	size_t			 nreminders;
	struct digest_conf	 digest;	/* lists' default (digest.h) */
	struct mailbox_conf	*mailboxes;	/* mailbox.h */
	size_t			 nmailboxes;
	int			 refs;
};

/* The addresses a list owns: LIST-SUFFIX@domain. */
extern const char *const config_reserved_suffixes[];

int	 config_load(const char *path, struct config **, struct buf *errors);
void	 config_free(struct config *);
const struct list *config_list(const struct config *, const char *name);
const struct region *config_region(const struct config *, const char *id);
const struct chapter *config_chapter(const struct config *,
	    const char *region, const char *chapter);
int	 config_is_organizer(const struct config *, const struct list *,
	    const char *addr);
int	 config_is_moderator(const struct list *, const char *addr);
char	*config_state_path(const struct config *, const char *name);

/* The daemon's current configuration, swapped on SIGHUP. */
void	 config_set_current(struct config *);
struct config *config_current(void);
void	 config_release(struct config *);

#endif
