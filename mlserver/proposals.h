/*
 * proposals - members' policy proposals: the record, its references and
 * its state machine.
 *
 * A proposal is mailed to LIST-propose@D, approved by a moderator,
 * discussed on the list (comments by mail), compiled with the others of
 * its scope into a summary forwarded to an institution (the list's
 * forward_to), and answered.  This module owns the tables that keep all
 * of that (proposals, their dated history, comments in order,
 * supporters once each, the forwarding periods done) and the rules of
 * who may do what in which state; the mail that moves a proposal along
 * is in proposal_mail.c, proposal_command.c and proposal_forward.c, and
 * reading a proposal's text out of that mail in proposal_text.c.
 *
 * States: submitted -> open (approved) | rejected (not approved);
 * open -> forwarded | withdrawn; submitted -> withdrawn;
 * forwarded -> answered | rejected (the institution's word), and
 * forwarded stays forwarded with an in_progress note, as often as the
 * institution sends one.  answered, rejected and withdrawn are final.
 *
 * References are P-YYYY-NNNN: the year of submission in the config's
 * timezone, and a number counted per year across the whole server, so
 * a reference names one proposal wherever it is quoted.
 */
#ifndef MLS_PROPOSALS_H
#define MLS_PROPOSALS_H

#include <stddef.h>

#include "addr.h"
#include "store.h"

struct buf;

#define PROPOSAL_REF_MAX	24	/* "P-2026-0012" and room to grow */

enum proposal_state {
	PROPOSAL_SUBMITTED,
	PROPOSAL_OPEN,
	PROPOSAL_FORWARDED,
	PROPOSAL_ANSWERED,
	PROPOSAL_REJECTED,
	PROPOSAL_WITHDRAWN,
	PROPOSAL_NSTATES
};

/* What someone wants to do with a proposal. */
enum proposal_action {
	PROPOSAL_APPROVE,	/* a moderator opens it */
	PROPOSAL_REJECT,	/* a moderator does not */
	PROPOSAL_COMMENT,	/* anyone, under the list's policy */
	PROPOSAL_SUPPORT,	/* a member other than the proposer */
	PROPOSAL_WITHDRAW,	/* the proposer */
	PROPOSAL_FORWARD,	/* the server, on schedule or on demand */
	PROPOSAL_ANSWER,	/* a moderator: answered */
	PROPOSAL_DECLINE,	/* a moderator: the institution said no */
	PROPOSAL_NOTE		/* a moderator: in_progress, with a note */
};

/* Who is asking: a set of these bits. */
#define PROPOSAL_ROLE_MEMBER	0x01	/* in the list's audience */
#define PROPOSAL_ROLE_PROPOSER	0x02
#define PROPOSAL_ROLE_MODERATOR	0x04	/* of the list or a wider one */
#define PROPOSAL_ROLE_SERVER	0x08

/* proposal_may's answer: 0 or why not. */
enum proposal_refusal {
	PROPOSAL_OK = 0,
	PROPOSAL_NO_STATE,	/* not in this state */
	PROPOSAL_NO_MODERATOR,	/* moderators only */
	PROPOSAL_NO_MEMBER,	/* members only */
	PROPOSAL_NO_PROPOSER,	/* the proposer only */
	PROPOSAL_NO_OWN		/* not on one's own proposal */
};

struct proposal {
	char			 ref[PROPOSAL_REF_MAX];
	int			 year;
	int			 seq;
	char			*list;
	char			 proposer[ADDR_MAX + 1];
	char			*name;		/* the proposer's, or "" */
	char			*title;
	char			*theme;		/* or "" */
	char			*body;
	enum proposal_state	 state;
	long long		 created;
	long long		 opened;	/* 0: never opened */
	long long		 forwarded;
	char			*forwarded_by;	/* list, or "" */
	long long		 answered;	/* last answer or note */
	char			*answer;	/* its text, or "" */
	char			*answer_state;	/* in_progress answered rejected */
	long long		 reminded;
	char			*msgid;		/* of the announcement, or "" */
	long long		 supporters;
	long long		 comments;	/* shown ones */
};

/* A comment; in the foreach callbacks its strings live for the call. */
struct proposal_comment {
	long long	 id;
	long long	 ts;
	char		 ref[PROPOSAL_REF_MAX];
	char		 addr[ADDR_MAX + 1];
	char		*name;
	char		*body;
	int		 held;	/* 1 waiting for a moderator, 2 refused */
};

struct proposal_event {
	long long	 ts;
	const char	*event;	/* a state, or in_progress */
	const char	*note;
};

typedef int proposal_comment_fn(const struct proposal_comment *, void *);
typedef int proposal_event_fn(const struct proposal_event *, void *);

/*
 * The lists whose proposals list ?1 takes: itself, and for a region
 * list its chapters' lists, for a network list every list.  For a
 * WHERE clause over "proposals p JOIN lists l ON l.name = p.list JOIN
 * lists w ON w.name = ?1".
 */
#define PROPOSALS_SCOPE_SQL						\
	"(l.name = w.name OR w.scope = 'network' OR "			\
	" (w.scope = 'region' AND l.scope = 'chapter' AND "		\
	"  l.region = w.region))"

extern const struct store_schema proposals_schema;

/* Pure logic. */
const char	*proposal_state_name(enum proposal_state);
int		 proposal_state_parse(const char *, enum proposal_state *);
enum proposal_refusal proposal_may(enum proposal_state, enum proposal_action,
		    unsigned roles, enum proposal_state *next);
void		 proposal_ref_format(char ref[PROPOSAL_REF_MAX], int year,
		    int seq);
int		 proposal_ref_parse(const char *, char ref[PROPOSAL_REF_MAX]);

/* The record. */
int	 proposal_create(struct store *, struct proposal *, long long now);
int	 proposal_get(struct store *, const char *ref, struct proposal *);
void	 proposal_clear(struct proposal *);
int	 proposal_set_state(struct store *, struct proposal *,
	    enum proposal_state, long long now, const char *note);
int	 proposal_record_answer(struct store *, struct proposal *,
	    const char *answer_state, const char *text, long long now);
int	 proposal_set_forwarded(struct store *, struct proposal *,
	    const char *by, long long now);
int	 proposal_set_msgid(struct store *, const char *ref, const char *);
int	 proposal_set_reminded(struct store *, const char *ref, long long);
int	 proposal_history_add(struct store *, const char *ref, long long ts,
	    const char *event, const char *note);
int	 proposal_history_foreach(struct store *, const char *ref,
	    proposal_event_fn *, void *);
int	 proposal_support(struct store *, const char *ref, const char *addr,
	    long long now);
int	 proposal_supporters_foreach(struct store *, const char *ref,
	    int (*)(const char *, void *), void *);
long long proposal_comment_add(struct store *, const char *ref,
	    const char *addr, const char *name, const char *body, int held,
	    long long now);
int	 proposal_comment_get(struct store *, long long id,
	    struct proposal_comment *);
void	 proposal_comment_clear(struct proposal_comment *);
int	 proposal_comment_set(struct store *, long long id, int held);
int	 proposal_comments_foreach(struct store *, const char *ref,
	    proposal_comment_fn *, void *);
int	 proposal_period_claim(struct store *, const char *list,
	    const char *period, long long now);
int	 proposal_period_count(struct store *, const char *list,
	    const char *period, int count);

#endif
