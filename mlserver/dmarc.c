/*
 * dmarc - From munging; see dmarc.h.
 *
 * The organizational domain is approximated without the Public Suffix
 * List: the last two labels, or three when the second-level label is
 * one of the generic ones under a country code (example.co.jp,
 * example.ac.uk).  That covers the Japanese domains this server meets;
 * a wrong guess only means one more lookup that finds nothing.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "dmarc.h"
#include "encword_cs.h"
#include "log.h"
#include "message.h"
#include "mime.h"
#include "xmalloc.h"

#define DMARC_CACHE_MAX		1024
#define DMARC_FAIL_TTL		60	/* seconds a failed lookup is kept */
#define DMARC_ANSWER_MAX	4096

enum dmarc_rr {
	RR_ERROR = -1,
	RR_NONE = 0,
	RR_FOUND = 1
};

struct dmarc_entry {
	char			*domain;
	enum dmarc_policy	 policy;
	time_t			 expires;
};

struct dmarc_munge {
	struct buf		*out;
	const struct config	*cf;
	const struct list	*l;
	const struct message	*m;
	int			 has_reply_to;
};

static pthread_mutex_t	 dmarc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dmarc_entry dmarc_cache[DMARC_CACHE_MAX];
static size_t		 dmarc_ncache;

static enum dmarc_rr dmarc_query(const struct config *, const char *,
		    struct buf *);
static int	 dmarc_resolver(const struct config *, res_state);
static enum dmarc_policy dmarc_resolve(const struct config *,
		    const char *);
static int	 dmarc_cache_get(const char *, enum dmarc_policy *);
static void	 dmarc_cache_put(const char *, enum dmarc_policy, int);
static int	 dmarc_from_field(const char *, size_t, const char *, size_t,
		    void *);

/* Sets the state to use the configured server, if any. */
static int
dmarc_resolver(const struct config *cf, res_state st)
{
	char host[64];
	const char *colon;
	struct in_addr a;
	int port = 53;

	memset(st, 0, sizeof(*st));
	if (res_ninit(st) != 0)
		return -1;
	st->retrans = cf->dmarc.timeout;
	st->retry = 1;
	if (cf->dmarc.resolver == NULL)
		return 0;
	colon = strchr(cf->dmarc.resolver, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon -
	    cf->dmarc.resolver) : (int)strlen(cf->dmarc.resolver),
	    cf->dmarc.resolver);
	if (colon)
		port = atoi(colon + 1);
	if (inet_pton(AF_INET, host, &a) != 1 || port <= 0 || port > 65535) {
		log_warnx("dmarc: resolver \"%s\" is not IPv4[:PORT]",
		    cf->dmarc.resolver);
		res_nclose(st);
		return -1;
	}
	st->nscount = 1;
	memset(&st->nsaddr_list[0], 0, sizeof(st->nsaddr_list[0]));
	st->nsaddr_list[0].sin_family = AF_INET;
	st->nsaddr_list[0].sin_port = htons((uint16_t)port);
	st->nsaddr_list[0].sin_addr = a;
	return 0;
}

/*
 * The DMARC record of _dmarc.domain, into rec: RR_FOUND, RR_NONE (no
 * such name, no TXT, or no single "v=DMARC1" record), or RR_ERROR.
 */
static enum dmarc_rr
dmarc_query(const struct config *cf, const char *domain, struct buf *rec)
{
	struct __res_state st;
	unsigned char answer[DMARC_ANSWER_MAX];
	char name[NS_MAXDNAME];
	ns_msg msg;
	ns_rr rr;
	int len, i, n, found = 0;
	enum dmarc_rr rc = RR_ERROR;

	if (snprintf(name, sizeof(name), "_dmarc.%s", domain) >=
	    (int)sizeof(name))
		return RR_NONE;
	if (dmarc_resolver(cf, &st) != 0)
		return RR_ERROR;
	len = res_nquery(&st, name, ns_c_in, ns_t_txt, answer,
	    sizeof(answer));
	if (len < 0) {
		rc = st.res_h_errno == HOST_NOT_FOUND ||
		    st.res_h_errno == NO_DATA ? RR_NONE : RR_ERROR;
		goto done;
	}
	if (ns_initparse(answer, len, &msg) != 0)
		goto done;
	n = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < n; i++) {
		const unsigned char *rd, *end;
		struct buf txt = BUF_INIT;

		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			goto done;
		if (ns_rr_type(rr) != ns_t_txt)
			continue;
		rd = ns_rr_rdata(rr);
		end = rd + ns_rr_rdlen(rr);
		/* A TXT record is strings of <length><octets>, joined. */
		while (rd < end) {
			size_t k = *rd++;

			if (k > (size_t)(end - rd))
				k = (size_t)(end - rd);
			buf_add(&txt, rd, k);
			rd += k;
		}
		if (txt.len >= 8 && strncasecmp(buf_cstr(&txt), "v=DMARC1",
		    8) == 0 && (txt.len == 8 || txt.data[8] == ';' ||
		    txt.data[8] == ' ')) {
			found++;
			buf_reset(rec);
			buf_add(rec, txt.data, txt.len);
		}
		buf_free(&txt);
	}
	/* RFC 7489, 6.6.3: more than one record counts as none. */
	rc = found == 1 ? RR_FOUND : RR_NONE;
done:
	res_nclose(&st);
	return rc;
}

/*
 * The policy of a record: 1 for quarantine or reject, else 0; for a
 * subdomain, sp= applies when it is there.
 */
int
dmarc_parse(const char *record, int subdomain)
{
	char *copy = xstrdup(record), *tok, *save = NULL;
	char p[32] = "", sp[32] = "";
	const char *use;

	for (tok = strtok_r(copy, ";", &save); tok;
	    tok = strtok_r(NULL, ";", &save)) {
		char *v;
		size_t n;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		if ((v = strchr(tok, '=')) == NULL)
			continue;
		n = (size_t)(v - tok);
		while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
			n--;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		if (n == 1 && tolower((unsigned char)tok[0]) == 'p')
			snprintf(p, sizeof(p), "%s", v);
		else if (n == 2 && strncasecmp(tok, "sp", 2) == 0)
			snprintf(sp, sizeof(sp), "%s", v);
	}
	free(copy);
	use = subdomain && sp[0] ? sp : p;
	return strncasecmp(use, "reject", 6) == 0 ||
	    strncasecmp(use, "quarantine", 10) == 0;
}

void
dmarc_org_domain(const char *domain, char *out, size_t outsz)
{
	static const char *const generic[] = {
		"co", "ne", "or", "ac", "ad", "ed", "go", "gr", "lg", "com",
		"net", "org", "edu", "gov", "ltd", "plc", NULL
	};
	const char *dot[3] = { NULL, NULL, NULL }, *p, *second, *start;
	size_t i, sl;
	int k = 0, labels = 2;

	/* dot[0] is the last dot, dot[1] the one before it, ... */
	for (p = domain + strlen(domain); p > domain && k < 3; p--)
		if (p[-1] == '.')
			dot[k++] = p - 1;
	if (k < 2) {
		snprintf(out, outsz, "%s", domain);
		return;
	}
	second = dot[1] + 1;
	sl = (size_t)(dot[0] - second);
	if (strlen(dot[0] + 1) == 2)
		for (i = 0; generic[i]; i++)
			if (strlen(generic[i]) == sl &&
			    strncasecmp(second, generic[i], sl) == 0)
				labels = 3;
	if (labels == 2)
		start = second;
	else
		start = dot[2] ? dot[2] + 1 : domain;
	snprintf(out, outsz, "%s", start);
}

static int
dmarc_cache_get(const char *domain, enum dmarc_policy *p)
{
	time_t now = time(NULL);
	int hit = 0;

	pthread_mutex_lock(&dmarc_lock);
	for (size_t i = 0; i < dmarc_ncache; i++)
		if (strcasecmp(dmarc_cache[i].domain, domain) == 0 &&
		    dmarc_cache[i].expires > now) {
			*p = dmarc_cache[i].policy;
			hit = 1;
			break;
		}
	pthread_mutex_unlock(&dmarc_lock);
	return hit;
}

static void
dmarc_cache_put(const char *domain, enum dmarc_policy p, int ttl)
{
	time_t now = time(NULL);
	size_t i;

	pthread_mutex_lock(&dmarc_lock);
	for (i = 0; i < dmarc_ncache; i++)
		if (strcasecmp(dmarc_cache[i].domain, domain) == 0 ||
		    dmarc_cache[i].expires <= now)
			break;
	if (i == DMARC_CACHE_MAX)
		i = (size_t)now % DMARC_CACHE_MAX;	/* full: evict one */
	if (i == dmarc_ncache)
		dmarc_ncache++;
	else
		free(dmarc_cache[i].domain);
	dmarc_cache[i].domain = xstrdup(domain);
	dmarc_cache[i].policy = p;
	dmarc_cache[i].expires = now + ttl;
	pthread_mutex_unlock(&dmarc_lock);
}

void
dmarc_cache_clear(void)
{
	pthread_mutex_lock(&dmarc_lock);
	for (size_t i = 0; i < dmarc_ncache; i++)
		free(dmarc_cache[i].domain);
	dmarc_ncache = 0;
	pthread_mutex_unlock(&dmarc_lock);
}

static enum dmarc_policy
dmarc_resolve(const struct config *cf, const char *domain)
{
	struct buf rec = BUF_INIT;
	char org[256];
	enum dmarc_rr r;
	enum dmarc_policy p = DMARC_NONE;

	r = dmarc_query(cf, domain, &rec);
	if (r == RR_NONE) {
		dmarc_org_domain(domain, org, sizeof(org));
		if (strcasecmp(org, domain) != 0) {
			r = dmarc_query(cf, org, &rec);
			if (r == RR_FOUND)
				p = dmarc_parse(buf_cstr(&rec), 1) ?
				    DMARC_STRICT : DMARC_NONE;
		}
	} else if (r == RR_FOUND)
		p = dmarc_parse(buf_cstr(&rec), 0) ? DMARC_STRICT : DMARC_NONE;
	if (r == RR_ERROR)
		p = DMARC_FAIL;
	buf_free(&rec);
	return p;
}

/* The DMARC policy of domain, from the cache or DNS. */
enum dmarc_policy
dmarc_lookup(const struct config *cf, const char *domain)
{
	enum dmarc_policy p;

	if (dmarc_cache_get(domain, &p))
		return p;
	p = dmarc_resolve(cf, domain);
	if (p == DMARC_FAIL)
		log_warnx("dmarc: cannot look up _dmarc.%s; From is rewritten "
		    "to be safe", domain);
	dmarc_cache_put(domain, p, p == DMARC_FAIL ? DMARC_FAIL_TTL :
	    cf->dmarc.cache);
	return p;
}

/* 1 if list l sends a post From this (canonical) address munged. */
int
dmarc_wanted(const struct config *cf, const struct list *l, const char *from)
{
	const char *at;

	if (from == NULL || (at = strrchr(from, '@')) == NULL)
		return 0;
	switch (l->from_munging) {
	case MUNGE_ALWAYS:
		return 1;
	case MUNGE_WHEN_NEEDED:
		return dmarc_lookup(cf, at + 1) != DMARC_NONE;
	default:
		return 0;
	}
}

/* Replaces the From field with the list's (and adds Reply-To). */
static int
dmarc_from_field(const char *name, size_t n, const char *field, size_t flen,
    void *arg)
{
	struct dmarc_munge *d = arg;
	struct buf display = BUF_INIT, raw = BUF_INIT;
	const char *cs;

	if (!mime_field_is(name, n, "From"))
		return 1;
	buf_add(&raw, field, flen);
	buf_printf(&display, "%s via %s", d->m->from_name &&
	    *d->m->from_name ? d->m->from_name : d->m->from, d->l->name);
	cs = strcasestr(buf_cstr(&raw), "=?iso-2022-jp?") ? "ISO-2022-JP" :
	    d->l->charset;
	buf_adds(d->out, "From: ");
	encword_cs_phrase(d->out, buf_cstr(&display), cs);
	buf_printf(d->out, " <%s@%s>\n", d->l->name, d->cf->domain);
	if (!d->has_reply_to) {
		/* The poster's own From, as written, is where replies go. */
		buf_adds(d->out, "Reply-To:");
		buf_add(d->out, field + n + 1, flen - n - 1);
		if (flen && field[flen - 1] != '\n')
			buf_addc(d->out, '\n');
	}
	buf_free(&display);
	buf_free(&raw);
	return 0;
}

/*
 * Munges the From of msg (a whole message, LF line ends) when the list
 * wants it for this poster.  Returns 1 if it did, else 0.
 */
int
dmarc_apply(struct buf *msg, const struct config *cf, const struct list *l,
    const struct message *m)
{
	struct dmarc_munge d = { NULL, cf, l, m, 0 };
	struct buf out = BUF_INIT;
	size_t hend;

	if (m == NULL || m->from[0] == '\0' || !dmarc_wanted(cf, l, m->from))
		return 0;
	hend = mime_header_end(msg->data, msg->len);
	d.out = &out;
	d.has_reply_to = mime_field_count(msg->data, msg->len, "Reply-To") > 0;
	mime_fields_keep(&out, msg->data, hend, dmarc_from_field, &d);
	buf_add(&out, msg->data + hend, msg->len - hend);
	buf_free(msg);
	*msg = out;
	return 1;
}
