/*
 * filter_rcpts - too many addresses in To and Cc:
 *
 *	{ type = "recipients"; max = 10; action = "hold"; }
 *
 * A post addressed to the list and to a crowd besides is most often
 * spam, or a reply-all storm about to happen; Mailman holds those by
 * default (max_num_recipients).  Each mailbox counts, group members
 * included, across every To and Cc field, as libetpan parses them.
 */
#include <stdlib.h>

#include <libetpan/libetpan.h>

#include "filter.h"
#include "xmalloc.h"

static int	 rcpts_conf(struct filter *, const config_setting_t *,
		    struct buf *, const char *);
static enum filter_verdict rcpts_run(const struct filter *,
		    struct filter_msg *, struct buf *);
static void	 rcpts_free(struct filter *);
static size_t	 rcpts_count(const struct mailimf_address_list *);

const struct filter_type filter_rcpts_type = {
	"recipients", 0, FILTER_HOLD, rcpts_conf, rcpts_run, rcpts_free
};

static int
rcpts_conf(struct filter *f, const config_setting_t *s, struct buf *errors,
    const char *path)
{
	static const char *const keys[] = { "type", "action", "max", NULL };
	long long *max = xmalloc(sizeof(*max));
	int bad;

	f->priv = max;
	bad = filter_conf_check_keys(s, keys, errors, path);
	bad += filter_conf_int(s, "max", 10, 1, 100000, max, errors, path);
	return bad;
}

static size_t
rcpts_count(const struct mailimf_address_list *al)
{
	clistiter *it;
	size_t n = 0;

	if (al == NULL || al->ad_list == NULL)
		return 0;
	for (it = clist_begin(al->ad_list); it; it = clist_next(it)) {
		const struct mailimf_address *a = clist_content(it);

		if (a->ad_type == MAILIMF_ADDRESS_MAILBOX)
			n++;
		else if (a->ad_data.ad_group->grp_mb_list &&
		    a->ad_data.ad_group->grp_mb_list->mb_list)
			n += (size_t)clist_count(
			    a->ad_data.ad_group->grp_mb_list->mb_list);
	}
	return n;
}

static enum filter_verdict
rcpts_run(const struct filter *f, struct filter_msg *m, struct buf *reason)
{
	long long max = *(const long long *)f->priv;
	struct mailmime *mime = filter_msg_mime(m);
	struct mailimf_fields *fields;
	clistiter *it;
	size_t n = 0;

	if (mime == NULL || mime->mm_type != MAILMIME_MESSAGE ||
	    (fields = mime->mm_data.mm_message.mm_fields) == NULL)
		return FILTER_ACCEPT;
	for (it = clist_begin(fields->fld_list); it; it = clist_next(it)) {
		const struct mailimf_field *fd = clist_content(it);

		if (fd->fld_type == MAILIMF_FIELD_TO)
			n += rcpts_count(fd->fld_data.fld_to->to_addr_list);
		else if (fd->fld_type == MAILIMF_FIELD_CC)
			n += rcpts_count(fd->fld_data.fld_cc->cc_addr_list);
	}
	if ((long long)n <= max)
		return FILTER_ACCEPT;
	if (m->ja)
		buf_printf(reason, "宛先（To/Cc）のアドレスが多すぎます"
		    "（%zu 件、上限 %lld 件）", n, max);
	else
		buf_printf(reason, "too many addresses in To and Cc (%zu, the "
		    "limit is %lld)", n, max);
	return f->action;
}

static void
rcpts_free(struct filter *f)
{
	free(f->priv);
}
