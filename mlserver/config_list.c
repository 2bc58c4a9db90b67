/*
 * config_list - the network (regions and their chapters), the lists, and
 * the moderation and DMARC settings their posts go through: the part of
 * config_load() behind cfg_moderation() and cfg_lists().
 *
 * Kept apart from config.c because this is where the contract's rules on
 * names, scopes and policies are checked, and it grows with every
 * per-list setting; config.c keeps the loader (config_private.h), the
 * daemon-wide settings and the lookups other modules use.
 */
#include <arpa/inet.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_private.h"
#include "digest.h"
#include "filter.h"
#include "xmalloc.h"

static void	 cfg_network(struct loader *, const config_setting_t *,
		    struct config *);
static void	 cfg_list_mail(struct loader *, const config_setting_t *,
		    struct list *);
static void	 cfg_chapter(struct loader *, const config_setting_t *,
		    struct chapter *);
static void	 cfg_list(struct loader *, const config_setting_t *,
		    struct config *, struct list *);
static void	 cfg_digest(struct loader *, const config_setting_t *,
		    struct digest_conf *);
static int	 cfg_scope(struct loader *, const config_setting_t *,
		    struct config *, struct list *, const char *);
static int	 cfg_list_name_ok(const char *);

static const char *const network_keys[] = { "name", "regions", NULL };
static const char *const region_keys[] = {
	"id", "name", "organizers", "chapters", NULL
};
static const char *const chapter_keys[] = {
	"id", "name", "organizers", NULL
};
static const char *const list_keys[] = {
	"name", "scope", "policy", "moderators", "subject_prefix",
	"language", "forward_to", "archive", "description",
	"footer", "charset", "from_munging", "filters", "digest", NULL
};
static const char *const moderation_keys[] = {
	"expire", "notice_interval", NULL
};
static const char *const dmarc_keys[] = {
	"resolver", "timeout", "cache", NULL
};
static const char *const archive_keys[] = { "dir", "url", "public", NULL };

/*
 * moderation = { expire; notice_interval; } (seconds; moderate.h) and
 * dmarc = { resolver = "IPv4[:PORT]"; timeout; cache; } (dmarc.h).
 */
void
cfg_moderation(struct loader *ld, const config_setting_t *root,
    struct config *cf)
{
	config_setting_t *m = config_setting_get_member(root, "moderation");
	config_setting_t *d = config_setting_get_member(root, "dmarc");
	char host[64];
	const char *r, *colon;
	struct in_addr a;

	cf->moderation.expire = 14 * 86400;
	cf->moderation.notice_interval = 86400;
	cf->dmarc.timeout = 2;
	cf->dmarc.cache = 3600;
	if (m != NULL && !config_setting_is_group(m))
		cfg_error(ld, m, "\"moderation\" must be a group { ... }");
	else if (m != NULL) {
		cfg_check_keys(ld, m, moderation_keys);
		cf->moderation.expire = cfg_int(ld, m, "expire", 14 * 86400,
		    1, 365 * 86400);
		cf->moderation.notice_interval = cfg_int(ld, m,
		    "notice_interval", 86400, 0, 30 * 86400);
	}
	if (d != NULL && !config_setting_is_group(d)) {
		cfg_error(ld, d, "\"dmarc\" must be a group { ... }");
		return;
	}
	if (d == NULL)
		return;
	cfg_check_keys(ld, d, dmarc_keys);
	cf->dmarc.timeout = cfg_int(ld, d, "timeout", 2, 1, 30);
	cf->dmarc.cache = cfg_int(ld, d, "cache", 3600, 0, 604800);
	if ((r = cf->dmarc.resolver = cfg_string(ld, d, "resolver",
	    NULL)) == NULL)
		return;
	colon = strchr(r, ':');
	snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - r) :
	    (int)strlen(r), r);
	if (inet_pton(AF_INET, host, &a) != 1 || (colon &&
	    (atoi(colon + 1) < 1 || atoi(colon + 1) > 65535)))
		cfg_error(ld, config_setting_get_member(d, "resolver"),
		    "\"resolver\" must be an IPv4 address with an optional "
		    ":PORT, not \"%s\"", r);
}

/* A list's footer, charset, from_munging and filters. */
static void
cfg_list_mail(struct loader *ld, const config_setting_t *s, struct list *l)
{
	static const char *const munging[] = {
		"never", "always", "when_needed"
	};
	char *v;
	int i;

	l->footer = cfg_string(ld, s, "footer", NULL);
	l->charset = cfg_string(ld, s, "charset", NULL);
	if (l->charset && strcasecmp(l->charset, "utf-8") == 0) {
		free(l->charset);
		l->charset = NULL;
	} else if (l->charset && strcasecmp(l->charset, "iso-2022-jp") == 0) {
		free(l->charset);
		l->charset = xstrdup("ISO-2022-JP");
	} else if (l->charset)
		cfg_error(ld, config_setting_get_member(s, "charset"),
		    "\"charset\" must be \"utf-8\" or \"iso-2022-jp\"");
	v = cfg_string(ld, s, "from_munging", "never");
	for (i = 0; i < 3; i++)
		if (strcmp(v, munging[i]) == 0)
			break;
	if (i < 3)
		l->from_munging = (enum from_munging)i;
	else
		cfg_error(ld, config_setting_get_member(s, "from_munging"),
		    "\"from_munging\" must be \"never\", \"always\" or "
		    "\"when_needed\"");
	free(v);
	ld->nerrors += filter_chain_conf(config_setting_get_member(s,
	    "filters"), ld->path, ld->errors, &l->filters);
}

static void
cfg_chapter(struct loader *ld, const config_setting_t *s, struct chapter *c)
{
	cfg_check_keys(ld, s, chapter_keys);
	c->id = cfg_string(ld, s, "id", NULL);
	c->name = cfg_string(ld, s, "name", NULL);
	cfg_addresses(ld, s, "organizers", &c->organizers);
	if (c->id == NULL || !cfg_list_name_ok(c->id)) {
		cfg_error(ld, s, "a chapter needs an \"id\" of lower-case "
		    "letters, digits, '-', '_' or '.'");
		free(c->id);
		c->id = xstrdup("?");
	}
	if (c->name == NULL)
		c->name = xstrdup(c->id);
}

static void
cfg_network(struct loader *ld, const config_setting_t *root,
    struct config *cf)
{
	config_setting_t *net = config_setting_get_member(root, "network");
	config_setting_t *regions;
	int i, j, n;

	if (net == NULL) {
		cf->network_name = xstrdup("");
		return;
	}
	cfg_check_keys(ld, net, network_keys);
	cf->network_name = cfg_string(ld, net, "name", "");
	regions = config_setting_get_member(net, "regions");
	if (regions == NULL)
		return;
	if (!config_setting_is_list(regions) &&
	    !config_setting_is_array(regions)) {
		cfg_error(ld, regions, "\"regions\" must be a list ( ... )");
		return;
	}
	n = config_setting_length(regions);
	cf->regions = xcalloc((size_t)n, sizeof(*cf->regions));
	for (i = 0; i < n; i++) {
		config_setting_t *rs = config_setting_get_elem(regions, i);
		config_setting_t *chs;
		struct region *r = &cf->regions[cf->nregions++];

		if (!config_setting_is_group(rs)) {
			cfg_error(ld, rs, "a region must be a group { ... }");
			r->id = xstrdup("?");
			r->name = xstrdup("?");
			continue;
		}
		cfg_check_keys(ld, rs, region_keys);
		r->id = cfg_string(ld, rs, "id", NULL);
		r->name = cfg_string(ld, rs, "name", NULL);
		cfg_addresses(ld, rs, "organizers", &r->organizers);
		if (r->id == NULL || !cfg_list_name_ok(r->id)) {
			cfg_error(ld, rs, "a region needs an \"id\" of "
			    "lower-case letters, digits, '-', '_' or '.'");
			free(r->id);
			r->id = xstrdup("?");
		}
		if (r->name == NULL)
			r->name = xstrdup(r->id);
		for (j = 0; j < i; j++)
			if (strcmp(cf->regions[j].id, r->id) == 0)
				cfg_error(ld, rs, "duplicate region \"%s\"",
				    r->id);
		chs = config_setting_get_member(rs, "chapters");
		if (chs == NULL)
			continue;
		if (!config_setting_is_list(chs) &&
		    !config_setting_is_array(chs)) {
			cfg_error(ld, chs, "\"chapters\" must be a list");
			continue;
		}
		r->chapters = xcalloc((size_t)config_setting_length(chs),
		    sizeof(*r->chapters));
		for (j = 0; j < config_setting_length(chs); j++) {
			config_setting_t *c = config_setting_get_elem(chs, j);
			struct chapter *ch = &r->chapters[r->nchapters];

			if (!config_setting_is_group(c)) {
				cfg_error(ld, c, "a chapter must be a group");
				continue;
			}
			cfg_chapter(ld, c, ch);
			r->nchapters++;
			for (size_t k = 0; k + 1 < r->nchapters; k++)
				if (strcmp(r->chapters[k].id, ch->id) == 0)
					cfg_error(ld, c, "duplicate chapter "
					    "\"%s\" in region \"%s\"",
					    ch->id, r->id);
		}
	}
}

static int
cfg_list_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || *s == '-' || *s == '_' ||
	    *s == '.')
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static int
cfg_scope(struct loader *ld, const config_setting_t *s, struct config *cf,
    struct list *l, const char *scope)
{
	const char *slash;

	if (strcmp(scope, "network") == 0) {
		l->scope = SCOPE_NETWORK;
		l->description = xstrdup(cf->network_name);
		return 0;
	}
	if (strncmp(scope, "region:", 7) == 0) {
		const struct region *r = config_region(cf, scope + 7);

		if (r == NULL) {
			cfg_error(ld, s, "scope \"%s\": no region \"%s\" in "
			    "network.regions", scope, scope + 7);
			return -1;
		}
		l->scope = SCOPE_REGION;
		l->region = xstrdup(r->id);
		l->description = xstrdup(r->name);
		return 0;
	}
	if (strncmp(scope, "chapter:", 8) == 0 &&
	    (slash = strchr(scope + 8, '/')) != NULL) {
		char *region = xstrndup(scope + 8, (size_t)(slash - scope - 8));
		const struct chapter *c = config_chapter(cf, region, slash + 1);

		if (c == NULL) {
			cfg_error(ld, s, "scope \"%s\": no chapter \"%s\" in "
			    "region \"%s\"", scope, slash + 1, region);
			free(region);
			return -1;
		}
		l->scope = SCOPE_CHAPTER;
		l->region = region;
		l->chapter = xstrdup(c->id);
		l->description = xstrdup(c->name);
		return 0;
	}
	cfg_error(ld, s, "unknown scope \"%s\" (use \"chapter:REGION/CHAPTER\","
	    " \"region:REGION\" or \"network\")", scope);
	return -1;
}

/* digest = { time; max_size; } of group, over what *dc holds (digest.h). */
static void
cfg_digest(struct loader *ld, const config_setting_t *group,
    struct digest_conf *dc)
{
	const config_setting_t *bad;
	const char *why;

	if (digest_conf_parse(config_setting_get_member(group, "digest"), dc,
	    &bad, &why) != 0)
		cfg_error(ld, bad, "%s", why);
}

static void
cfg_list(struct loader *ld, const config_setting_t *s, struct config *cf,
    struct list *l)
{
	static const char *const policies[] = {
		"open", "members", "moderated", "announce", NULL
	};
	config_setting_t *arch;
	char *scope, *policy;
	size_t i;

	cfg_check_keys(ld, s, list_keys);
	l->line = config_setting_source_line(s);
	l->name = cfg_string(ld, s, "name", NULL);
	if (l->name == NULL || !cfg_list_name_ok(l->name)) {
		cfg_error(ld, s, "a list needs a \"name\" of lower-case "
		    "letters, digits, '-', '_' or '.'");
		free(l->name);
		l->name = xstrdup("?");
	} else {
		for (i = 0; config_reserved_suffixes[i]; i++) {
			size_t n = strlen(l->name), k =
			    strlen(config_reserved_suffixes[i]);

			if (n > k + 1 && l->name[n - k - 1] == '-' &&
			    strcmp(l->name + n - k,
			    config_reserved_suffixes[i]) == 0)
				cfg_error(ld, s, "list name \"%s\" collides "
				    "with the reserved suffix \"-%s\"",
				    l->name, config_reserved_suffixes[i]);
		}
	}
	scope = cfg_string(ld, s, "scope", NULL);
	if (scope == NULL) {
		cfg_error(ld, s, "list \"%s\" needs a \"scope\"", l->name);
		l->scope = SCOPE_NETWORK;
		l->description = xstrdup(l->name);
	} else if (cfg_scope(ld, s, cf, l, scope) != 0)
		l->description = xstrdup(l->name);
	free(scope);

	policy = cfg_string(ld, s, "policy", "members");
	for (i = 0; policies[i]; i++)
		if (strcmp(policy, policies[i]) == 0)
			break;
	if (policies[i] == NULL)
		cfg_error(ld, s, "unknown policy \"%s\" (use open, members, "
		    "moderated or announce)", policy);
	else
		l->policy = (enum list_policy)i;
	free(policy);

	cfg_addresses(ld, s, "moderators", &l->moderators);
	cfg_addresses(ld, s, "forward_to", &l->forward_to);
	l->subject_prefix = cfg_string(ld, s, "subject_prefix", NULL);
	l->language = cfg_string(ld, s, "language", cf->language);
	if (strcmp(l->language, "ja") != 0 && strcmp(l->language, "en") != 0)
		cfg_error(ld, s, "language must be \"ja\" or \"en\"");
	{
		char *d = cfg_string(ld, s, "description", NULL);

		if (d) {
			free(l->description);
			l->description = d;
		}
	}
	cfg_list_mail(ld, s, l);
	l->digest = cf->digest;
	cfg_digest(ld, s, &l->digest);
	arch = config_setting_get_member(s, "archive");
	if (arch != NULL) {
		if (!config_setting_is_group(arch)) {
			cfg_error(ld, arch, "\"archive\" must be a group");
			return;
		}
		cfg_check_keys(ld, arch, archive_keys);
		l->archive = xcalloc(1, sizeof(*l->archive));
		l->archive->dir = cfg_string(ld, arch, "dir", NULL);
		l->archive->url = cfg_string(ld, arch, "url", NULL);
		l->archive->public = cfg_bool(ld, arch, "public", 0);
		if (l->archive->dir == NULL)
			cfg_error(ld, arch, "\"archive\" needs a \"dir\"");
	}
}

/*
 * The lists' part of config_load(): the digest settings every list
 * inherits, then the network the lists' scopes name, then the lists.
 */
void
cfg_lists(struct loader *ld, const config_setting_t *root, struct config *cf)
{
	config_setting_t *ls = config_setting_get_member(root, "lists");
	int i, n;

	digest_conf_init(&cf->digest);
	cfg_digest(ld, root, &cf->digest);
	cfg_network(ld, root, cf);
	if (ls == NULL)
		return;
	if (!config_setting_is_list(ls)) {
		cfg_error(ld, ls, "\"lists\" must be a list ( ... )");
		return;
	}
	n = config_setting_length(ls);
	cf->lists = xcalloc((size_t)n, sizeof(*cf->lists));
	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(ls, i);
		struct list *l = &cf->lists[cf->nlists];

		if (!config_setting_is_group(s)) {
			cfg_error(ld, s, "a list must be a group { ... }");
			continue;
		}
		cfg_list(ld, s, cf, l);
		cf->nlists++;
		for (size_t j = 0; j + 1 < cf->nlists; j++)
			if (strcmp(cf->lists[j].name, l->name) == 0)
				cfg_error(ld, s, "duplicate list name \"%s\" "
				    "(first at line %d)", l->name,
				    cf->lists[j].line);
	}
}
