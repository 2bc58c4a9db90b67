/*
 * proposal_mail - the mail of proposals: what arrives at LIST-propose@D
 * and LIST-proposal+REF@D, and every mail the proposal modules send.
 *
 * A submission from a member is numbered, acknowledged to the proposer
 * with its reference, and put to the list's moderators with two token
 * addresses: replying to one approves, to the other rejects.  A comment
 * follows the list's posting policy as a post would: sent to the list,
 * held for the moderators (approved the same way), or refused.  Every
 * change of state is mailed to the proposer.
 *
 * Who someone is, for the state machine (proposals.h): a member is in
 * the audience of the proposal's list, or one of its moderators or
 * organizers; a moderator of a proposal is one of its list or of a list
 * whose scope covers it (the region's, the network's).
 */
#ifndef MLS_PROPOSAL_MAIL_H
#define MLS_PROPOSAL_MAIL_H

#include <stddef.h>

#include "addr.h"
#include "spool.h"
#include "template.h"

struct buf;
struct config;
struct list;
struct mail_ctx;
struct proposal;
struct proposal_comment;
struct route;
struct store;

#define PROPOSAL_VARS_MAX	48

/* Template variables; values are copied. */
struct proposal_vars {
	struct tvar	 v[PROPOSAL_VARS_MAX];
	char		*own[PROPOSAL_VARS_MAX];
	size_t		 n;
};

/* One mail to send; see proposal_mail_send. */
struct proposal_out {
	const char	*from;		/* default LIST-request@D */
	const char	*from_name;	/* default the list's description */
	const char	*reply_to;
	const char	*to;		/* the To: field's addresses */
	const char	*auto_submitted;	/* default auto-generated */
	const char	*in_reply_to;	/* a Message-ID without <> */
	int		 list_copy;	/* list fields; to the audience */
	char *const	*rcpts;
	size_t		 nrcpts;
	char		 msgid[SPOOL_ID_LEN + ADDR_MAX + 16];	/* out */
};

void	 proposal_vars_init(struct proposal_vars *, const struct config *,
	    const struct list *);
void	 proposal_vars_set(struct proposal_vars *, const char *name,
	    const char *value);
void	 proposal_vars_proposal(struct proposal_vars *,
	    const struct config *, const struct list *,
	    const struct proposal *);
void	 proposal_vars_free(struct proposal_vars *);
void	 proposal_label(struct buf *, const struct config *,
	    const char *lang, const char *key);
const char *proposal_display_name(const struct config *, const char *lang,
	    const char *name, struct buf *);

int	 proposal_mail_send(const struct config *, struct store *,
	    const struct list *, const char *tmpl, struct proposal_vars *,
	    struct proposal_out *);

int	 proposal_is_member(const struct config *, struct store *,
	    const struct list *, const char *addr);
int	 proposal_is_moderator(const struct config *, const char *list,
	    const char *addr);
int	 proposal_roles(const struct config *, struct store *,
	    const struct proposal *, const char *addr, unsigned *roles);

int	 proposal_mail_submit(struct mail_ctx *, const struct route *);
int	 proposal_mail_comment(struct mail_ctx *, const struct route *);

int	 proposal_mail_opened(const struct config *, struct store *,
	    struct proposal *);
int	 proposal_mail_not_approved(const struct config *, struct store *,
	    const struct proposal *, const char *reason);
int	 proposal_mail_comment_out(const struct config *, struct store *,
	    const struct proposal *, const struct proposal_comment *);
int	 proposal_mail_forwarded(const struct config *, struct store *,
	    const struct proposal *, const struct list *by);
int	 proposal_mail_answered(const struct config *, struct store *,
	    const struct proposal *, int *told);

#endif
