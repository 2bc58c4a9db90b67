/*
 * filter - the chain of message filters; see filter.h.
 *
 * This file owns the table of filter types, the reading of a list's
 * "filters" setting (each entry a group with a "type", an optional
 * "action" and the type's own keys; every mistake reported as
 * FILE:LINE like the rest of the configuration), and running a chain.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "filter.h"
#include "mime.h"
#include "xmalloc.h"

static const struct filter_type *filter_type_find(const char *);
static int	 filter_conf_one(const config_setting_t *, const char *,
		    struct buf *, struct filter *);
static int	 filter_action_parse(const char *, enum filter_verdict *);

static const struct filter_type *const filter_types[] = {
	&filter_size_type,
	&filter_mime_type,
	&filter_headers_type,
	&filter_loop_type,
	&filter_rcpts_type,
	&filter_exec_type,
	NULL
};

static const char *const verdict_names[] = {
	"accept", "hold", "reject", "discard"
};

const char *
filter_verdict_name(enum filter_verdict v)
{
	return (size_t)v < 4 ? verdict_names[v] : "?";
}

static int
filter_action_parse(const char *s, enum filter_verdict *v)
{
	for (int i = 1; i < 4; i++)
		if (strcmp(s, verdict_names[i]) == 0) {
			*v = (enum filter_verdict)i;
			return 0;
		}
	return -1;
}

static const struct filter_type *
filter_type_find(const char *name)
{
	for (size_t i = 0; filter_types[i]; i++)
		if (strcmp(filter_types[i]->name, name) == 0)
			return filter_types[i];
	return NULL;
}

void
filter_conf_error(struct buf *errors, const char *path,
    const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	int line = s ? config_setting_source_line(s) : 0;
	const char *file = s && config_setting_source_file(s) ?
	    config_setting_source_file(s) : path;

	if (line > 0)
		buf_printf(errors, "%s:%d: ", file, line);
	else
		buf_printf(errors, "%s: ", file);
	va_start(ap, fmt);
	buf_vprintf(errors, fmt, ap);
	va_end(ap);
	buf_addc(errors, '\n');
}

/* Reports settings of group s not in known; returns how many. */
int
filter_conf_check_keys(const config_setting_t *s, const char *const *known,
    struct buf *errors, const char *path)
{
	int i, n = config_setting_length(s), bad = 0;

	for (i = 0; i < n; i++) {
		config_setting_t *m = config_setting_get_elem(s, i);
		const char *name = config_setting_name(m);
		const char *const *k;

		for (k = known; *k; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL) {
			filter_conf_error(errors, path, m, "unknown filter "
			    "setting \"%s\"", name);
			bad++;
		}
	}
	return bad;
}

/* A list of strings, or nothing; returns the number of errors. */
int
filter_conf_strings(const config_setting_t *s, const char *name,
    char ***out, size_t *n, struct buf *errors, const char *path)
{
	config_setting_t *a = config_setting_get_member(s, name);
	int i, len, bad = 0;

	*out = NULL;
	*n = 0;
	if (a == NULL)
		return 0;
	if (!config_setting_is_array(a) && !config_setting_is_list(a)) {
		filter_conf_error(errors, path, a, "\"%s\" must be a list of "
		    "strings", name);
		return 1;
	}
	len = config_setting_length(a);
	*out = xcalloc((size_t)len + 1, sizeof(char *));
	for (i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(a, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			filter_conf_error(errors, path, e, "\"%s\" must be a "
			    "list of strings", name);
			bad++;
			continue;
		}
		(*out)[(*n)++] = xstrdup(config_setting_get_string(e));
	}
	return bad;
}

void
filter_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* An integer setting within [min, max]; returns the number of errors. */
int
filter_conf_int(const config_setting_t *s, const char *name, long long def,
    long long min, long long max, long long *out, struct buf *errors,
    const char *path)
{
	config_setting_t *v = config_setting_get_member(s, name);
	long long x;

	*out = def;
	if (v == NULL)
		return 0;
	if (config_setting_type(v) != CONFIG_TYPE_INT &&
	    config_setting_type(v) != CONFIG_TYPE_INT64) {
		filter_conf_error(errors, path, v, "\"%s\" must be a number",
		    name);
		return 1;
	}
	x = config_setting_get_int64(v);
	if (x < min || x > max) {
		filter_conf_error(errors, path, v, "\"%s\" must be between "
		    "%lld and %lld", name, min, max);
		return 1;
	}
	*out = x;
	return 0;
}

static int
filter_conf_one(const config_setting_t *s, const char *path,
    struct buf *errors, struct filter *f)
{
	const char *type = NULL, *action = NULL;
	int bad = 0;

	memset(f, 0, sizeof(*f));
	f->line = config_setting_source_line(s);
	if (!config_setting_is_group(s)) {
		filter_conf_error(errors, path, s, "a filter must be a group "
		    "{ type = \"...\"; ... }");
		return 1;
	}
	if (config_setting_lookup_string(s, "type", &type) != CONFIG_TRUE ||
	    (f->type = filter_type_find(type)) == NULL) {
		filter_conf_error(errors, path, s, "a filter needs a \"type\": "
		    "size, mime, headers, loop, recipients or command%s%s%s",
		    type ? " (not \"" : "", type ? type : "", type ? "\")" : "");
		return 1;
	}
	f->action = f->type->default_action;
	if (config_setting_get_member(s, "action") != NULL) {
		if (config_setting_lookup_string(s, "action", &action) !=
		    CONFIG_TRUE || filter_action_parse(action, &f->action) != 0) {
			filter_conf_error(errors, path,
			    config_setting_get_member(s, "action"), "\"action\" "
			    "must be \"hold\", \"reject\" or \"discard\"");
			bad++;
		}
	}
	bad += f->type->conf(f, s, errors, path);
	return bad;
}

/*
 * Reads a list's "filters" setting (NULL: none).  Returns the number of
 * mistakes, each appended to errors as "FILE:LINE: message"; *out is
 * the chain (NULL when there is none or on mistakes).
 */
int
filter_chain_conf(const config_setting_t *s, const char *path,
    struct buf *errors, struct filter_chain **out)
{
	struct filter_chain *c;
	int i, n, bad = 0;

	*out = NULL;
	if (s == NULL)
		return 0;
	if (!config_setting_is_list(s)) {
		filter_conf_error(errors, path, s, "\"filters\" must be a list "
		    "( { type = ...; }, ... )");
		return 1;
	}
	n = config_setting_length(s);
	c = xcalloc(1, sizeof(*c));
	c->v = xcalloc((size_t)n + 1, sizeof(*c->v));
	for (i = 0; i < n; i++) {
		int b = filter_conf_one(config_setting_get_elem(s, i), path,
		    errors, &c->v[c->n]);

		if (c->v[c->n].type != NULL)
			c->n++;	/* kept, so that it is freed */
		bad += b;
	}
	if (bad > 0 || c->n == 0) {
		filter_chain_free(c);
		return bad;
	}
	*out = c;
	return 0;
}

void
filter_chain_free(struct filter_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].type->free)
			c->v[i].type->free(&c->v[i]);
	free(c->v);
	free(c);
}

/* 1 if some filter of the chain may rewrite messages. */
int
filter_chain_rewrites(const struct filter_chain *c)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].type->rewrites)
			return 1;
	return 0;
}

/* A copy of raw with LF line ends; the other fields are the caller's. */
void
filter_msg_init(struct filter_msg *m, const char *raw, size_t len)
{
	memset(m, 0, sizeof(*m));
	buf_init(&m->raw);
	mime_lf(&m->raw, raw, len);
	m->size = len;
	m->sender = m->from = m->list = m->list_addr = m->list_id = "";
}

void
filter_msg_free(struct filter_msg *m)
{
	filter_msg_changed(m);
	buf_free(&m->raw);
}

/* libetpan's parse of the message as it is now, or NULL. */
struct mailmime *
filter_msg_mime(struct filter_msg *m)
{
	size_t idx = 0;

	if (m->mime == NULL && mailmime_parse(m->raw.data, m->raw.len, &idx,
	    &m->mime) != MAILIMF_NO_ERROR)
		m->mime = NULL;
	return m->mime;
}

/* A filter that changed raw calls this, so the parse is redone. */
void
filter_msg_changed(struct filter_msg *m)
{
	if (m->mime) {
		mailmime_free(m->mime);
		m->mime = NULL;
	}
}

/*
 * Runs the chain on m.  approved: a moderator has let the post through,
 * so only filters that rewrite run, and their verdicts are ignored.
 * The result's raw is the message as the filters left it.
 */
void
filter_run(const struct filter_chain *c, struct filter_msg *m, int approved,
    struct filter_result *r)
{
	struct buf reason = BUF_INIT;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->verdict = FILTER_ACCEPT;
	for (i = 0; c && i < c->n; i++) {
		const struct filter *f = &c->v[i];
		enum filter_verdict v;

		if (approved && !f->type->rewrites)
			continue;
		buf_reset(&reason);
		v = f->type->run(f, m, &reason);
		if (v == FILTER_ACCEPT || approved)
			continue;
		r->verdict = v;
		r->by = f->type->name;
		r->reason = xstrdup(reason.len ? buf_cstr(&reason) :
		    f->type->name);
		break;
	}
	buf_free(&reason);
	r->raw = m->raw;
	buf_init(&m->raw);
	buf_add(&m->raw, r->raw.data ? r->raw.data : "", r->raw.len);
	filter_msg_changed(m);
}

void
filter_result_free(struct filter_result *r)
{
	free(r->reason);
	buf_free(&r->raw);
	memset(r, 0, sizeof(*r));
}
