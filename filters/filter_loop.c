/*
 * filter_loop - mail that has been round a loop:
 *
 *	{ type = "loop"; max_received = 30; action = "discard"; }
 *
 * A post carrying this list's X-Loop or List-Id has already been sent by
 * the list (a member's forwarding address, an auto-responder quoting the
 * header, a list subscribed to itself); more than max_received Received
 * lines means some pair of MTAs is passing it back and forth (Postfix
 * and sendmail bounce at 50 and 100).  Either way it is discarded by
 * default: sending it again would feed the loop, and telling anyone
 * would be mail into the same loop.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "filter.h"
#include "mime.h"
#include "xmalloc.h"

static int	 loop_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict loop_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 loop_free(struct filter *);
static int	 loop_field_has(const char *, size_t, const char *,
		    const char *);

const struct filter_type filter_loop_type = {
	"loop", 0, FILTER_DISCARD, loop_conf, loop_run, loop_free
};

static int
loop_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = {
		"type", "action", "max_received", NULL
	};
	long long *max = xmalloc(sizeof(*max));
	int bad;

	f->priv = max;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_int(s, "max_received", 30, 1, 1000, max, errors,
	    path);
	return bad;
}

/* 1 if some field called name contains needle (case ignored). */
static int
loop_field_has(const char *raw, size_t len, const char *name,
    const char *needle)
{
	size_t hend = mime_header_end(raw, len), n = strlen(name), i;
	char *v;
	int has = 0;

	if (*needle == '\0')
		return 0;
	for (i = 0; i + n < hend && !has; i++) {
		if ((i > 0 && raw[i - 1] != '\n') || raw[i + n] != ':' ||
		    strncasecmp(raw + i, name, n) != 0)
			continue;
		v = mime_field_value(raw + i, hend - i, name);
		has = v && addr_mentioned(v, needle);
		free(v);
	}
	return has;
}

static enum filter_verdict
loop_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	long long max = *(const long long *)f->priv;
	struct buf id = BUF_INIT;
	size_t received;
	int loop;

	buf_printf(&id, "<%s>", m->list_id);
	loop = loop_field_has(m->raw.data, m->raw.len, "X-Loop", m->list_addr) ||
	    loop_field_has(m->raw.data, m->raw.len, "List-Id", id.data);
	buf_free(&id);
	if (loop) {
		buf_adds(reason, m->ja ? "このリストから送られたメールが"
		    "戻ってきました（X-Loop / List-Id）" :
		    "the list's own mail came back (X-Loop or List-Id)");
		return f->action;
	}
	received = mime_field_count(m->raw.data, m->raw.len, "Received");
	if ((long long)received > max) {
		if (m->ja)
			buf_printf(reason, "Received 行が多すぎます（%zu 行）。"
			    "メールがループしています", received);
		else
			buf_printf(reason, "%zu Received lines: the message "
			    "is looping", received);
		return f->action;
	}
	return FILTER_ACCEPT;
}

static void
loop_free(struct filter *f)
{
	free(f->priv);
}
