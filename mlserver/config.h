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
	int			 line;
};

struct relay_conf {
	char	*host;
	int	 port;
	int	 starttls;
	int	 max_recipients;	/* per SMTP transaction */
	int	 max_transactions;	/* per SMTP session */
};

struct queue_conf {
	int	retry_first;	/* seconds */
	int	retry_max;
	int	lifetime;
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
	char			*network_name;
	struct region		*regions;
	size_t			 nregions;
	struct list		*lists;
	size_t			 nlists;
	long			 max_message_size;	/* octets */
	int			 token_ttl;		/* seconds */
	int			 reply_limit;		/* replies/address/hour */
	char			*templates_dir;	/* NULL: the built-in ones */
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
