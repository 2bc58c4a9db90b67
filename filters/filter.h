/*
 * filter - the message filters of a list, run in the order the
 * configuration gives them before the list's policy looks at a post.
 *
 * Each filter is one small module (filters/filter_*.c) behind one
 * interface, struct filter_type: it reads its settings from the list's
 * "filters" entry, looks at the message (the text, and libetpan's parse
 * of it on demand), and answers accept, hold (for a moderator), reject
 * (the poster is told why) or discard (logged only).  A filter may
 * rewrite the message (drop header fields, strip attachments); those
 * that can are marked, and only they run again when a moderator approves
 * a held post, so an approved post is cleaned like any other but no
 * longer judged.  The first answer other than accept ends the chain.
 *
 * This module knows nothing of lists, the database or the spool: the
 * post handler gives it the message and acts on the verdict.
 */
#ifndef MLS_FILTER_H
#define MLS_FILTER_H

#include <stddef.h>

#include <libconfig.h>

#include "buf.h"

struct mailmime;

enum filter_verdict {
	FILTER_ACCEPT,
	FILTER_HOLD,
	FILTER_REJECT,
	FILTER_DISCARD
};

/* The message as a filter sees it. */
struct filter_msg {
	struct buf	 raw;		/* the message, LF line ends; mutable */
	struct mailmime	*mime;		/* libetpan's parse; filter_msg_mime */
	const char	*sender;	/* envelope sender, "" for <> */
	const char	*from;		/* canonical From, or "" */
	const char	*list;		/* LIST */
	const char	*list_addr;	/* LIST@D */
	const char	*list_id;	/* "LIST.D" */
	int		 ja;		/* reasons in Japanese, else English */
	size_t		 size;		/* octets as received */
};

struct filter;

/* What one kind of filter is. */
struct filter_type {
	const char	*name;		/* the "type" in the config */
	int		 rewrites;	/* may change the message */
	enum filter_verdict default_action;	/* what a hit means */
	int		(*conf)(struct filter *, const config_setting_t *,
			    struct buf *errors, const char *path);
	enum filter_verdict (*run)(const struct filter *,
			    struct filter_msg *, struct buf *reason);
	void		(*free)(struct filter *);
};

struct filter {
	const struct filter_type *type;
	enum filter_verdict	  action;	/* from "action", or default */
	void			 *priv;
	int			  line;
};

struct filter_chain {
	struct filter	*v;
	size_t		 n;
};

/* The outcome of a chain. */
struct filter_result {
	enum filter_verdict	 verdict;
	char			*reason;	/* UTF-8, or NULL on accept */
	const char		*by;		/* the filter's type name */
	struct buf		 raw;		/* the message after rewriting */
};

extern const struct filter_type filter_size_type;
extern const struct filter_type filter_mime_type;
extern const struct filter_type filter_headers_type;
extern const struct filter_type filter_loop_type;
extern const struct filter_type filter_rcpts_type;
extern const struct filter_type filter_exec_type;

int	 filter_chain_conf(const config_setting_t *, const char *path,
	    struct buf *errors, struct filter_chain **);
void	 filter_chain_free(struct filter_chain *);
int	 filter_chain_rewrites(const struct filter_chain *);

void	 filter_msg_init(struct filter_msg *, const char *raw, size_t len);
void	 filter_msg_free(struct filter_msg *);
struct mailmime *filter_msg_mime(struct filter_msg *);
void	 filter_msg_changed(struct filter_msg *);

void	 filter_run(const struct filter_chain *, struct filter_msg *,
	    int approved, struct filter_result *);
void	 filter_result_free(struct filter_result *);
const char *filter_verdict_name(enum filter_verdict);

/* For the filter modules. */
void	 filter_conf_error(struct buf *errors, const char *path,
	    const config_setting_t *, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
int	 filter_conf_strings(const config_setting_t *, const char *name,
	    char ***out, size_t *n, struct buf *errors, const char *path);
void	 filter_strings_free(char **, size_t);
int	 filter_conf_int(const config_setting_t *, const char *name,
	    long long def, long long min, long long max, long long *out,
	    struct buf *errors, const char *path);
int	 filter_conf_check_keys(const config_setting_t *,
	    const char *const *known, struct buf *errors, const char *path);

#endif
