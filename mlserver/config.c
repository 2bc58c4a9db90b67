/*
 * config - the administrator's configuration (libconfig), checked.
 *
 * Everything the contract's "Configuration" section allows is read here,
 * defaults are filled in, and every mistake is reported with the file and
 * line libconfig knows for it, all at once rather than one per run, so an
 * administrator can fix a file in one go.  A struct config is immutable
 * once loaded; the daemon swaps whole configs on SIGHUP.
 *
 * This file holds config_load(), the loader and its cfg_* readers
 * (shared through config_private.h), the daemon-wide settings, and the
 * lookups in a loaded config.  The network, the lists, moderation and
 * dmarc are read in config_list.c, the relay's submission settings in
 * config_relay.c.
 */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "config_relay.h"
#include "event_handle.h"
#include "filter.h"
#include "ical.h"
#include "log.h"
#include "mailbox.h"
#include "proposal_sched.h"
#include "xmalloc.h"

static void	 cfg_strings(struct loader *, const config_setting_t *,
		    const char *, struct strv *);
static void	 cfg_bounce(struct loader *, const config_setting_t *,
		    struct config *);
static void	 cfg_proposals(struct loader *, const config_setting_t *,
		    struct config *);
static char	*cfg_abspath(const char *);
static void	 cfg_relay_error(void *, const config_setting_t *,
		    const char *);
static void	 strv_free(struct strv *);
static int	 strv_has_addr(const struct strv *, const char *);

const char *const config_reserved_suffixes[] = {
	"request", "join", "leave", "confirm", "owner", "bounces",
	"events", "rsvp", "propose", "proposal", NULL
};

static const char *const top_keys[] = {
	"domain", "state_dir", "listen", "language", "timezone", "relay",
	"queue", "network", "lists", "mailboxes", "max_message_size",
	"token_days", "reply_limit", "templates", "bounce",
	"proposal_schedule", "proposal_reminder_days", "moderation", "dmarc",
	"reminders", "digest", NULL
};
static const char *const relay_keys[] = {
	"host", "port", "starttls", "max_recipients", "max_transactions",
	"sessions",
	"user", "password_file", "ca_file", "tls_verify",
	"max_messages_per_hour", "max_recipients_per_message", NULL
};
static const char *const queue_keys[] = {
	"retry_first", "retry_max", "lifetime", NULL
};
static const char *const bounce_keys[] = {
	"threshold", "stale_days", "warnings", "warning_days", "verp",
	"verp_every", NULL
};

static pthread_mutex_t	 current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config	*current;

void
cfg_error(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int line = s ? config_setting_source_line(s) : 0;
	const char *file = s && config_setting_source_file(s) ?
	    config_setting_source_file(s) : ld->path;

	if (line > 0)
		buf_printf(ld->errors, "%s:%d: ", file, line);
	else
		buf_printf(ld->errors, "%s: ", file);
	va_start(ap, fmt);
	buf_vprintf(ld->errors, fmt, ap);
	va_end(ap);
	buf_addc(ld->errors, '\n');
	ld->nerrors++;
}

/* An unknown key is most often a typo; say so rather than ignore it. */
void
cfg_check_keys(struct loader *ld, const config_setting_t *group,
    const char *const *known)
{
	int i, n = config_setting_length(group);

	if (!config_setting_is_group(group))
		return;
	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(group, i);
		const char *name = config_setting_name(m);
		const char *const *k;

		for (k = known; *k; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL)
			cfg_error(ld, m, "unknown setting \"%s\"", name);
	}
}

char *
cfg_string(struct loader *ld, const config_setting_t *group,
    const char *name, const char *def)
{
	config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return def ? xstrdup(def) : NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_error(ld, s, "\"%s\" must be a string", name);
		return def ? xstrdup(def) : NULL;
	}
	return xstrdup(config_setting_get_string(s));
}

int
cfg_int(struct loader *ld, const config_setting_t *group, const char *name,
    int def, int min, int max)
{
	config_setting_t *s = config_setting_get_member(group, name);
	long long v;

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		cfg_error(ld, s, "\"%s\" must be a number", name);
		return def;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		cfg_error(ld, s, "\"%s\" must be between %d and %d", name,
		    min, max);
		return def;
	}
	return (int)v;
}

int
cfg_bool(struct loader *ld, const config_setting_t *group, const char *name,
    int def)
{
	config_setting_t *s = config_setting_get_member(group, name);

	if (s == NULL)
		return def;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_error(ld, s, "\"%s\" must be true or false", name);
		return def;
	}
	return config_setting_get_bool(s);
}

static void
cfg_strings(struct loader *ld, const config_setting_t *group,
    const char *name, struct strv *out)
{
	config_setting_t *s = config_setting_get_member(group, name);
	int i, n;

	out->v = NULL;
	out->n = 0;
	if (s == NULL)
		return;
	if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
		cfg_error(ld, s, "\"%s\" must be a list of strings", name);
		return;
	}
	n = config_setting_length(s);
	out->v = xcalloc((size_t)n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			cfg_error(ld, e, "\"%s\" must be a list of strings",
			    name);
			continue;
		}
		out->v[out->n++] = xstrdup(config_setting_get_string(e));
	}
}

void
cfg_addresses(struct loader *ld, const config_setting_t *group,
    const char *name, struct strv *out)
{
	config_setting_t *s = config_setting_get_member(group, name);
	char canon[ADDR_MAX + 1];
	size_t i;

	cfg_strings(ld, group, name, out);
	for (i = 0; i < out->n; i++) {
		if (addr_canon(out->v[i], canon, sizeof(canon)) != 0) {
			cfg_error(ld, s, "\"%s\": \"%s\" is not a mail address",
			    name, out->v[i]);
			continue;
		}
		free(out->v[i]);
		out->v[i] = xstrdup(canon);
	}
}

/* bounce = { threshold; stale_days; warnings; warning_days; verp; ... } */
static void
cfg_bounce(struct loader *ld, const config_setting_t *root, struct config *cf)
{
	static const char *const modes[] = { "never", "always", "every" };
	config_setting_t *b = config_setting_get_member(root, "bounce");
	config_setting_t *t;
	char *verp;
	int i;

	cf->bounce.threshold = 5.0;
	cf->bounce.stale_days = 7;
	cf->bounce.warnings = 3;
	cf->bounce.warning_days = 7;
	cf->bounce.verp = VERP_NEVER;
	cf->bounce.verp_every = 10;
	if (b == NULL)
		return;
	if (!config_setting_is_group(b)) {
		cfg_error(ld, b, "\"bounce\" must be a group { ... }");
		return;
	}
	cfg_check_keys(ld, b, bounce_keys);
	if ((t = config_setting_get_member(b, "threshold")) != NULL) {
		if (config_setting_type(t) == CONFIG_TYPE_FLOAT)
			cf->bounce.threshold = config_setting_get_float(t);
		else if (config_setting_type(t) == CONFIG_TYPE_INT)
			cf->bounce.threshold = config_setting_get_int(t);
		else
			cfg_error(ld, t, "\"threshold\" must be a number");
		if (cf->bounce.threshold <= 0)
			cfg_error(ld, t, "\"threshold\" must be above 0");
	}
	cf->bounce.stale_days = cfg_int(ld, b, "stale_days", 7, 1, 365);
	cf->bounce.warnings = cfg_int(ld, b, "warnings", 3, 0, 100);
	cf->bounce.warning_days = cfg_int(ld, b, "warning_days", 7, 1, 365);
	cf->bounce.verp_every = cfg_int(ld, b, "verp_every", 10, 1, 100000);
	verp = cfg_string(ld, b, "verp", "never");
	for (i = 0; i < 3; i++)
		if (strcmp(verp, modes[i]) == 0)
			break;
	if (i < 3)
		cf->bounce.verp = (enum verp_mode)i;
	else
		cfg_error(ld, config_setting_get_member(b, "verp"),
		    "\"verp\" must be \"never\", \"always\" or \"every\"");
	free(verp);
}

/*
 * proposal_schedule = [ "MM-DD HH:MM" or "*-DD HH:MM", ... ] (default:
 * each quarter's first day at 09:00; [ ] forwards only on demand), and
 * proposal_reminder_days (default 90; a fraction of a day is allowed).
 */
static void
cfg_proposals(struct loader *ld, const config_setting_t *root,
    struct config *cf)
{
	config_setting_t *t = config_setting_get_member(root,
	    "proposal_schedule");
	struct proposal_sched_point p;
	struct strv *sv = &cf->proposal_schedule;
	double days = 90;
	size_t i;

	if (t == NULL) {
		for (i = 0; proposal_sched_default[i]; i++)
			;
		sv->v = xcalloc(i + 1, sizeof(char *));
		for (i = 0; proposal_sched_default[i]; i++)
			sv->v[sv->n++] = xstrdup(proposal_sched_default[i]);
	} else
		cfg_strings(ld, root, "proposal_schedule", sv);
	for (i = 0; t && i < sv->n; i++)
		if (proposal_sched_parse(sv->v[i], &p) != 0)
			cfg_error(ld, t, "\"proposal_schedule\": \"%s\" is not "
			    "\"MM-DD HH:MM\" (or \"*-DD HH:MM\" for every "
			    "month)", sv->v[i]);
	if ((t = config_setting_get_member(root,
	    "proposal_reminder_days")) != NULL) {
		if (config_setting_type(t) == CONFIG_TYPE_FLOAT)
			days = config_setting_get_float(t);
		else if (config_setting_type(t) == CONFIG_TYPE_INT ||
		    config_setting_type(t) == CONFIG_TYPE_INT64)
			days = (double)config_setting_get_int64(t);
		else
			cfg_error(ld, t, "\"proposal_reminder_days\" must be a "
			    "number");
		if (days <= 0 || days > 3650) {
			cfg_error(ld, t, "\"proposal_reminder_days\" must be "
			    "above 0 and at most 3650");
			days = 90;
		}
	}
	cf->proposal_reminder = (long)(days * 86400);
	if (cf->proposal_reminder < 1)
		cf->proposal_reminder = 1;
}

/* config_relay_load() reports through this (config_relay.h). */
static void
cfg_relay_error(void *arg, const config_setting_t *s, const char *msg)
{
	cfg_error(arg, s, "%s", msg);
}

/* Relative paths are taken from the directory the program started in. */
static char *
cfg_abspath(const char *p)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;

	if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(p);
	buf_printf(&b, "%s/%s", cwd, p);
	return buf_release(&b);
}

/*
 * Load and check the file at path.  On success *out is a new config with
 * one reference and 0 is returned; otherwise -1, with every problem found
 * appended to errors, one "FILE:LINE: message" per line.
 */
int
config_load(const char *path, struct config **out, struct buf *errors)
{
	struct loader ld = { path, errors, 0 };
	config_t lc;
	config_setting_t *root, *relay, *queue;
	struct config *cf;
	char *s;

	*out = NULL;
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			buf_printf(errors, "%s: cannot read: %s\n", path,
			    strerror(errno));
		else
			buf_printf(errors, "%s:%d: %s\n",
			    config_error_file(&lc) ? config_error_file(&lc) :
			    path, config_error_line(&lc),
			    config_error_text(&lc));
		config_destroy(&lc);
		return -1;
	}
	root = config_root_setting(&lc);
	cf = xcalloc(1, sizeof(*cf));
	cf->refs = 1;
	cf->path = xstrdup(path);
	cfg_check_keys(&ld, root, top_keys);

	cf->domain = cfg_string(&ld, root, "domain", NULL);
	if (cf->domain == NULL)
		cfg_error(&ld, NULL, "\"domain\" is required");
	else {
		char probe[ADDR_MAX + 1];
		struct buf a = BUF_INIT;

		buf_printf(&a, "x@%s", cf->domain);
		if (addr_canon(buf_cstr(&a), probe, sizeof(probe)) != 0)
			cfg_error(&ld, config_setting_get_member(root,
			    "domain"), "\"%s\" is not a domain", cf->domain);
		else {
			free(cf->domain);
			cf->domain = xstrdup(probe + 2);
		}
		buf_free(&a);
	}
	s = cfg_string(&ld, root, "state_dir", "spool");
	cf->state_dir = cfg_abspath(s);
	free(s);
	cfg_strings(&ld, root, "listen", &cf->listen);
	if (cf->listen.n == 0 &&
	    config_setting_get_member(root, "listen") == NULL) {
		cf->listen.v = xcalloc(2, sizeof(char *));
		cf->listen.v[cf->listen.n++] = xstrdup("127.0.0.1:2424");
	}
	cf->language = cfg_string(&ld, root, "language", "ja");
	if (strcmp(cf->language, "ja") != 0 && strcmp(cf->language, "en") != 0)
		cfg_error(&ld, config_setting_get_member(root, "language"),
		    "language must be \"ja\" or \"en\"");
	cf->timezone = cfg_string(&ld, root, "timezone", "Asia/Tokyo");
	if (!ical_tz_known(cf->timezone))
		cfg_error(&ld, config_setting_get_member(root, "timezone"),
		    "unknown timezone \"%s\" (use a name such as "
		    "\"Asia/Tokyo\")", cf->timezone);
	{
		const config_setting_t *bad;
		const char *why;

		if (event_conf_reminders(config_setting_get_member(root,
		    "reminders"), &cf->reminders, &cf->nreminders, &bad,
		    &why) != 0)
			cfg_error(&ld, bad, "%s", why);
	}
	cf->max_message_size = cfg_int(&ld, root, "max_message_size",
	    10 * 1024 * 1024, 1024, INT_MAX);
	cf->token_ttl = cfg_int(&ld, root, "token_days", 7, 1, 365) * 86400;
	cf->reply_limit = cfg_int(&ld, root, "reply_limit", 10, 1, 10000);
	s = cfg_string(&ld, root, "templates", NULL);
	cf->templates_dir = s ? cfg_abspath(s) : NULL;
	free(s);

	relay = config_setting_get_member(root, "relay");
	if (relay)
		cfg_check_keys(&ld, relay, relay_keys);
	cf->relay.host = relay ? cfg_string(&ld, relay, "host", "127.0.0.1") :
	    xstrdup("127.0.0.1");
	cf->relay.port = relay ? cfg_int(&ld, relay, "port", 25, 1, 65535) : 25;
	cf->relay.starttls = relay ? cfg_bool(&ld, relay, "starttls", 0) : 0;
	cf->relay.max_recipients = relay ?
	    cfg_int(&ld, relay, "max_recipients", 50, 1, 1000) : 50;
	cf->relay.max_transactions = relay ?
	    cfg_int(&ld, relay, "max_transactions", 100, 1, 10000) : 100;
	cf->relay.sessions = relay ?
	    cfg_int(&ld, relay, "sessions", 1, 1, 16) : 1;
	config_relay_load(relay, path, &cf->relay, cfg_relay_error, &ld);

	queue = config_setting_get_member(root, "queue");
	if (queue)
		cfg_check_keys(&ld, queue, queue_keys);
	cf->queue.retry_first = queue ?
	    cfg_int(&ld, queue, "retry_first", 300, 1, 86400) : 300;
	cf->queue.retry_max = queue ?
	    cfg_int(&ld, queue, "retry_max", 3600, 1, 864000) : 3600;
	cf->queue.lifetime = queue ?
	    cfg_int(&ld, queue, "lifetime", 432000, 60, 8640000) : 432000;

	cfg_bounce(&ld, root, cf);
	cfg_moderation(&ld, root, cf);
	cfg_proposals(&ld, root, cf);
	cfg_lists(&ld, root, cf);	/* digest defaults, network, lists */
	/* After the lists: a mailbox's address must route to one. */
	ld.nerrors += mailbox_conf_load(config_setting_get_member(root,
	    "mailboxes"), cf, path, errors, &cf->mailboxes, &cf->nmailboxes);
	config_destroy(&lc);
	if (ld.nerrors > 0) {
		config_free(cf);
		return -1;
	}
	*out = cf;
	return 0;
}

static void
strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

void
config_free(struct config *cf)
{
	size_t i, j;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->nregions; i++) {
		struct region *r = &cf->regions[i];

		for (j = 0; j < r->nchapters; j++) {
			free(r->chapters[j].id);
			free(r->chapters[j].name);
			strv_free(&r->chapters[j].organizers);
		}
		free(r->chapters);
		free(r->id);
		free(r->name);
		strv_free(&r->organizers);
	}
	for (i = 0; i < cf->nlists; i++) {
		struct list *l = &cf->lists[i];

		free(l->name);
		free(l->region);
		free(l->chapter);
		strv_free(&l->moderators);
		strv_free(&l->forward_to);
		free(l->subject_prefix);
		free(l->language);
		free(l->description);
		free(l->footer);
		free(l->charset);
		filter_chain_free(l->filters);
		if (l->archive) {
			free(l->archive->dir);
			free(l->archive->url);
			free(l->archive);
		}
	}
	free(cf->regions);
	free(cf->lists);
	strv_free(&cf->listen);
	strv_free(&cf->proposal_schedule);
	free(cf->reminders);
	free(cf->path);
	free(cf->domain);
	free(cf->state_dir);
	free(cf->language);
	free(cf->timezone);
	free(cf->relay.host);
	config_relay_free(&cf->relay);
	free(cf->network_name);
	free(cf->templates_dir);
	free(cf->dmarc.resolver);
	mailbox_conf_free(cf->mailboxes, cf->nmailboxes);
	free(cf);
}

const struct list *
config_list(const struct config *cf, const char *name)
{
	for (size_t i = 0; i < cf->nlists; i++)
		if (strcasecmp(cf->lists[i].name, name) == 0)
			return &cf->lists[i];
	return NULL;
}

const struct region *
config_region(const struct config *cf, const char *id)
{
	for (size_t i = 0; i < cf->nregions; i++)
		if (strcmp(cf->regions[i].id, id) == 0)
			return &cf->regions[i];
	return NULL;
}

const struct chapter *
config_chapter(const struct config *cf, const char *region,
    const char *chapter)
{
	const struct region *r = config_region(cf, region);

	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < r->nchapters; i++)
		if (strcmp(r->chapters[i].id, chapter) == 0)
			return &r->chapters[i];
	return NULL;
}

static int
strv_has_addr(const struct strv *sv, const char *addr)
{
	for (size_t i = 0; i < sv->n; i++)
		if (addr_same(sv->v[i], addr))
			return 1;
	return 0;
}

int
config_is_moderator(const struct list *l, const char *addr)
{
	return strv_has_addr(&l->moderators, addr);
}

/*
 * Organizers of a list: those of its chapter, or of its region (a region's
 * organizers also organize its chapters).  A network list has none but its
 * moderators.
 */
int
config_is_organizer(const struct config *cf, const struct list *l,
    const char *addr)
{
	const struct region *r;
	const struct chapter *c;

	if (l->region == NULL)
		return 0;
	if ((r = config_region(cf, l->region)) != NULL &&
	    strv_has_addr(&r->organizers, addr))
		return 1;
	if (l->chapter != NULL &&
	    (c = config_chapter(cf, l->region, l->chapter)) != NULL &&
	    strv_has_addr(&c->organizers, addr))
		return 1;
	return 0;
}

/* STATE_DIR/name, allocated. */
char *
config_state_path(const struct config *cf, const char *name)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", cf->state_dir, name);
	return buf_release(&b);
}

void
config_set_current(struct config *cf)
{
	struct config *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = cf;
	pthread_mutex_unlock(&current_lock);
	if (old)
		config_release(old);
}

/* A reference to the current config; give it back with config_release. */
struct config *
config_current(void)
{
	struct config *cf;

	pthread_mutex_lock(&current_lock);
	cf = current;
	if (cf)
		cf->refs++;
	pthread_mutex_unlock(&current_lock);
	return cf;
}

void
config_release(struct config *cf)
{
	int last;

	if (cf == NULL)
		return;
	pthread_mutex_lock(&current_lock);
	last = --cf->refs == 0;
	pthread_mutex_unlock(&current_lock);
	if (last)
		config_free(cf);
}
