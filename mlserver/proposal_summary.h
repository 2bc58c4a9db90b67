/*
 * proposal_summary - the summaries forwarded to institutions, kept as
 * they were sent.
 *
 * The summary mail is the network's word to the institution; the public
 * page of a forward period (pages_proposals.c) shows exactly that text,
 * not a later rendering of proposals that have moved on since.  So the
 * text is rendered once more from the same variables, in the forward's
 * own transaction, and stored beside the proposals.
 */
#ifndef MLS_PROPOSAL_SUMMARY_H
#define MLS_PROPOSAL_SUMMARY_H

struct config;
struct list;
struct proposal_vars;
struct store;

struct proposal_summary {
	long long	 id;
	const char	*list;
	const char	*period;	/* "" when forwarded by hand */
	long long	 ts;
	int		 count;
	const char	*subject;
	const char	*body;
};

typedef int proposal_summary_fn(const struct proposal_summary *, void *);

int	 proposal_summary_keep(const struct config *, struct store *,
	    const struct list *, struct proposal_vars *, const char *period,
	    long long now, int count);
int	 proposal_summary_foreach(struct store *, const char *list,
	    proposal_summary_fn *, void *);

#endif
