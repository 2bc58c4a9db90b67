/*
 * filter_size - a size limit per list:
 *
 *	{ type = "size"; max = 524288; action = "hold"; }
 *
 * A message larger than max octets (as received) is held by default, so
 * a moderator can still let a large but wanted post through; "reject"
 * tells the poster instead.  The global max_message_size still refuses
 * at LMTP time what no list should ever store.
 */
#include <stdlib.h>

#include "filter.h"
#include "xmalloc.h"

static int	 size_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict size_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 size_free(struct filter *);

const struct filter_type filter_size_type = {
	"size", 0, FILTER_HOLD, size_conf, size_run, size_free
};

static int
size_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = { "type", "action", "max", NULL };
	long long *max = xmalloc(sizeof(*max));
	int bad;

	f->priv = max;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_int(s, "max", 1048576, 1, 1LL << 40, max, errors,
	    path);
	return bad;
}

static enum filter_verdict
size_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	long long max = *(const long long *)f->priv;
	size_t size = m->size ? m->size : m->raw.len;

	if ((long long)size <= max)
		return FILTER_ACCEPT;
	if (m->ja)
		buf_printf(reason, "メッセージが大きすぎます（%zu バイト、"
		    "上限 %lld バイト）", size, max);
	else
		buf_printf(reason, "the message is too big (%zu octets, the "
		    "limit is %lld)", size, max);
	return f->action;
}

static void
size_free(struct filter *f)
{
	free(f->priv);
}
