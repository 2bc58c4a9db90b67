/*
 * filter_headers - header cleanup:
 *
 *	{ type = "headers"; drop = [ "X-Mailer" ]; }
 *
 * Read-receipt requests (Disposition-Notification-To, Return-Receipt-To,
 * X-Confirm-Reading-To) are always dropped: sent to a list they would
 * make every member's client ask to report back to the poster.  "drop"
 * names more fields.  Only the message's own header is touched, never a
 * body part, so PGP/MIME and S/MIME signatures stay valid.  It never
 * holds or rejects.
 */
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "mime.h"
#include "xmalloc.h"

struct headers_conf {
	char	**drop;
	size_t	  ndrop;
};

static int	 headers_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict headers_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 headers_free(struct filter *);
static int	 headers_keep(const char *, size_t, const char *, size_t,
		    void *);

const struct filter_type filter_headers_type = {
	"headers", 1, FILTER_ACCEPT, headers_conf, headers_run, headers_free
};

static const char *const receipt_fields[] = {
	"Disposition-Notification-To", "Return-Receipt-To",
	"X-Confirm-Reading-To", NULL
};

static int
headers_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = { "type", "action", "drop", NULL };
	struct headers_conf *c = xcalloc(1, sizeof(*c));
	int bad;

	f->priv = c;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_strings(s, "drop", &c->drop, &c->ndrop, errors,
	    path);
	return bad;
}

static int
headers_keep(const char *name, size_t n, const char *field, size_t flen,
    void *arg)
{
	const struct headers_conf *c = arg;
	size_t i;

	(void)field;
	(void)flen;
	for (i = 0; receipt_fields[i]; i++)
		if (mime_field_is(name, n, receipt_fields[i]))
			return 0;
	for (i = 0; i < c->ndrop; i++)
		if (mime_field_is(name, n, c->drop[i]))
			return 0;
	return 1;
}

static enum filter_verdict
headers_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	size_t hend = mime_header_end(m->raw.data, m->raw.len);
	struct buf out = BUF_INIT;

	(void)reason;
	mime_fields_keep(&out, m->raw.data, hend, headers_keep, f->priv);
	if (out.len == hend) {
		buf_free(&out);
		return FILTER_ACCEPT;
	}
	buf_add(&out, m->raw.data + hend, m->raw.len - hend);
	buf_free(&m->raw);
	m->raw = out;
	filter_msg_changed(m);
	return FILTER_ACCEPT;
}

static void
headers_free(struct filter *f)
{
	struct headers_conf *c = f->priv;

	if (c)
		filter_strings_free(c->drop, c->ndrop);
	free(c);
}
