/*
 * dmarc - From munging for posters whose domain publishes a strict
 * DMARC policy (RFC 7489).
 *
 * A list changes the Subject and adds a footer, which breaks the
 * poster's DKIM signature; when the poster's domain says p=reject or
 * p=quarantine, receivers then refuse or bury the list's copy.  As
 * Mailman does, the list then sends the post From "Name via LIST"
 * <LIST@D>, with Reply-To the poster (a Reply-To the poster set is kept
 * instead).  Per list: from_munging = "never" (default), "always", or
 * "when_needed", which looks up _dmarc.DOMAIN (then the organizational
 * domain's record, with its sp=) over DNS with a short timeout; answers
 * are cached, and a lookup that fails (time-out, SERVFAIL) munges, since
 * sending unmunged mail that bounces is the worse mistake.
 *
 * The resolver is the system's (/etc/resolv.conf), or the one named by
 * dmarc.resolver ("IPv4[:PORT]"); tests point it at a small DNS server
 * on the loopback, so nothing here needs the internet.
 */
#ifndef MLS_DMARC_H
#define MLS_DMARC_H

struct buf;
struct config;
struct list;
struct message;

enum dmarc_policy {
	DMARC_FAIL = -1,	/* the lookup failed */
	DMARC_NONE = 0,		/* no record, or p=none */
	DMARC_STRICT = 1	/* p=quarantine or p=reject */
};

enum dmarc_policy dmarc_lookup(const struct config *, const char *domain);
int	 dmarc_wanted(const struct config *, const struct list *,
	    const char *from);
int	 dmarc_apply(struct buf *msg, const struct config *,
	    const struct list *, const struct message *);
void	 dmarc_org_domain(const char *domain, char *out, size_t outsz);
int	 dmarc_parse(const char *record, int subdomain);
void	 dmarc_cache_clear(void);

#endif
