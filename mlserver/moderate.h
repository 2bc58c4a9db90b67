/*
 * moderate - the moderation queue: what happens to a post the list holds
 * (a non-member on a "members" list, every post on a "moderated" list, a
 * filter that holds), and the message filters run before that.
 *
 * A held post stays in spool/held with a row in the held table.  Each
 * moderator gets a notice with the post attached (message/rfc822), the
 * reason, and three token addresses of their own, LIST-confirm+TOKEN@D:
 * approve (also the notice's Reply-To, so replying approves), reject,
 * and approve-and-allow, which adds the sender to the list's allowed
 * senders (their later posts skip the policy's hold, not the filters).
 * Using one acts at once and the moderator gets the usual command
 * reply; "mlserverctl approve ID" and "reject ID [REASON]" do the same
 * from the shell.  A post nobody handles within moderation.expire
 * (14 days) is dropped and its poster told.  The poster is told a post
 * is held at most once per moderation.notice_interval (a day) per
 * address, so a burst of posts does not become a burst of notices.
 *
 * Filters (filters/) run before the database transaction that handles
 * a message, since an external filter command may take seconds: their
 * verdicts wait in the mail context until the post handler asks.
 */
#ifndef MLS_MODERATE_H
#define MLS_MODERATE_H

#include "store.h"

struct buf;
struct command;
struct config;
struct filter_result;
struct list;
struct mail_ctx;
struct request;
struct token_rec;

enum moderate_act {
	MOD_APPROVE,
	MOD_REJECT,
	MOD_ALLOW,	/* approve, and allow the sender from now on */
	MOD_EXPIRE
};

extern const struct store_schema moderation_schema;

void	 moderate_prepare(struct mail_ctx *);
void	 moderate_release(struct mail_ctx *);
void	 moderate_filter(struct mail_ctx *, const struct list *,
	    struct filter_result *);
int	 moderate_allowed(struct store *, const char *list, const char *addr);
int	 moderate_notify(struct mail_ctx *, const struct list *,
	    const char *reason, int nonmember);
int	 moderate_refuse(struct mail_ctx *, const struct list *,
	    const char *reason);
int	 moderate_confirm(struct request *, const struct command *,
	    const struct token_rec *);
int	 moderate_act(const struct config *, struct store *, const char *id,
	    const char *list, enum moderate_act, const char *reason,
	    struct buf *note);
int	 moderate_ctl(const struct config *, struct store *, const char *id,
	    enum moderate_act, const char *reason, struct buf *note);
int	 moderate_ctl_verb(const struct config *, struct store *,
	    const char *verb, int argc, char **argv, struct buf *out);
int	 moderate_expire(const struct config *, struct store *);

#endif
