/*
 * mailbox_imap - an IMAP folder read with libetpan's mailimap (see
 * mailbox_private.h for the contract with mailbox.c).
 *
 * One session lasts until it fails or the thread stops: log in, select
 * the folder, take every message it holds, then wait (IDLE where the
 * server offers it and idle is on, else interval seconds) and look
 * again.  A message is fetched with BODY.PEEK[] (so a failure leaves it
 * unseen), taken into the spool, and only then flagged \Deleted and
 * expunged (UID EXPUNGE where UIDPLUS allows, so that nothing else a
 * person flagged goes with it), or moved to move_to (MOVE, else COPY
 * and delete).  The key in state.db is "UIDVALIDITY:UID": a folder
 * rebuilt with a new UIDVALIDITY is read as new, which is right, as its
 * messages are still there and none was removed yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "mailbox_private.h"

/* RFC 2177: clients re-issue IDLE at least every 29 minutes. */
#define IMAP_IDLE_MAX	(25 * 60)

static int	 imap_connect(struct mailbox_run *, mailimap *);
static int	 imap_check(struct mailbox_run *, mailimap *);
static int	 imap_one(struct mailbox_run *, mailimap *, uint32_t,
		    uint32_t);
static int	 imap_fetch(struct mailbox_run *, mailimap *, uint32_t,
		    const char *);
static int	 imap_remove(struct mailbox_run *, mailimap *, uint32_t);
static int	 imap_delete(mailimap *, struct mailimap_set *);
static int	 imap_wait(struct mailbox_run *, mailimap *);
static const char *imap_said(mailimap *);

/* The server's last words, for the log. */
static const char *
imap_said(mailimap *imap)
{
	return imap->imap_response ? imap->imap_response : "no answer";
}

static int
imap_connect(struct mailbox_run *r, mailimap *imap)
{
	const struct mailbox_conf *mc = r->mc;
	struct mailimap_capability_data *caps = NULL;
	const char *pw;
	int rc;

	if ((pw = mailbox_password(r)) == NULL)
		return -1;
	if (mc->tls)
		rc = mailimap_ssl_connect_with_callback(imap, mc->host,
		    (uint16_t)mc->port, mailbox_tls_setup, r);
	else
		rc = mailimap_socket_connect(imap, mc->host,
		    (uint16_t)mc->port);
	if (rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    rc != MAILIMAP_NO_ERROR_AUTHENTICATED)
		return mailbox_fail(r, "cannot connect to %s port %d%s",
		    mc->host, mc->port, mc->tls ? " (TLS)" : "");
	if (mc->tls && mailbox_tls_check(r, imap->imap_stream) != 0)
		return -1;
	rc = mailimap_login(imap, mc->user, pw);
	if (rc != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "login refused for user \"%s\" (check "
		    "password_file %s): %s", mc->user, mc->password_file,
		    imap_said(imap));
	/* Capabilities may change after login (IDLE, MOVE, UIDPLUS). */
	if (mailimap_capability(imap, &caps) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	if (mailimap_select(imap, mc->folder) != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "cannot select folder \"%s\": %s",
		    mc->folder, imap_said(imap));
	mailbox_ok(r);
	return 0;
}

/* Take what the folder holds: 0, or -1 when the session failed. */
static int
imap_check(struct mailbox_run *r, mailimap *imap)
{
	struct mailimap_search_key *key = mailimap_search_key_new_all();
	uint32_t validity;
	clist *uids = NULL;
	clistiter *it;
	int rc;

	rc = mailimap_uid_search(imap, NULL, key, &uids);
	mailimap_search_key_free(key);
	if (rc != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "UID SEARCH failed: %s",
		    imap_said(imap));
	validity = imap->imap_selection_info ?
	    imap->imap_selection_info->sel_uidvalidity : 0;
	rc = 0;
	for (it = clist_begin(uids); it && rc == 0 && !mailbox_stopping(r);
	    it = clist_next(it))
		rc = imap_one(r, imap, validity, *(uint32_t *)
		    clist_content(it));
	mailimap_search_result_free(uids);
	return rc;
}

/* One message: 0 (taken, left or to retry later), -1 session failed. */
static int
imap_one(struct mailbox_run *r, mailimap *imap, uint32_t validity,
    uint32_t uid)
{
	char key[32];
	int state;

	snprintf(key, sizeof(key), "%u:%u", validity, uid);
	if ((state = mailbox_seen(r, key)) < MAILBOX_NEW ||
	    state == MAILBOX_SKIPPED)
		return 0;
	if (state == MAILBOX_NEW) {
		int rc = imap_fetch(r, imap, uid, key);

		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	if (imap_remove(r, imap, uid) != 0)
		return -1;
	/* A failure is logged; the next look removes it again. */
	(void)mailbox_removed(r, key);
	return 0;
}

/* Fetch and take: 0 taken, 1 left in the folder, -1 session failed. */
static int
imap_fetch(struct mailbox_run *r, mailimap *imap, uint32_t uid,
    const char *key)
{
	struct mailimap_section *sec = mailimap_section_new(NULL);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att(
	    mailimap_fetch_att_new_body_peek_section(sec));
	struct mailimap_set *set = mailimap_set_new_single(uid);
	clist *res = NULL;
	clistiter *i, *j;
	int rc, taken = 1;

	rc = mailimap_uid_fetch(imap, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "UID FETCH %u failed: %s", uid,
		    imap_said(imap));
	for (i = clist_begin(res); i; i = clist_next(i)) {
		struct mailimap_msg_att *att = clist_content(i);

		for (j = clist_begin(att->att_list); j; j = clist_next(j)) {
			struct mailimap_msg_att_item *it = clist_content(j);
			struct mailimap_msg_att_body_section *b;

			if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
			    it->att_data.att_static->att_type !=
			    MAILIMAP_MSG_ATT_BODY_SECTION)
				continue;
			b = it->att_data.att_static->att_data.att_body_section;
			if (b->sec_body_part != NULL && taken == 1)
				taken = mailbox_take(r, key, b->sec_body_part,
				    b->sec_length) == 0 ? 0 : 1;
		}
	}
	mailimap_fetch_list_free(res);
	return taken;
}

/* Out of the folder, as "after" says: 0, or -1 (logged). */
static int
imap_remove(struct mailbox_run *r, mailimap *imap, uint32_t uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int rc = MAILIMAP_NO_ERROR;

	if (r->mc->after == MAILBOX_MOVE) {
		if (mailimap_has_extension(imap, "MOVE")) {
			rc = mailimap_uid_move(imap, set, r->mc->move_to);
			mailimap_set_free(set);
			if (rc != MAILIMAP_NO_ERROR)
				return mailbox_fail(r, "cannot move UID %u "
				    "to \"%s\": %s", uid, r->mc->move_to,
				    imap_said(imap));
			return 0;
		}
		rc = mailimap_uid_copy(imap, set, r->mc->move_to);
	}
	if (rc == MAILIMAP_NO_ERROR)
		rc = imap_delete(imap, set);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "cannot remove UID %u: %s", uid,
		    imap_said(imap));
	return 0;
}

static int
imap_delete(mailimap *imap, struct mailimap_set *set)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sf;
	int rc;

	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	rc = mailimap_uid_store(imap, set, sf);
	mailimap_store_att_flags_free(sf);
	if (rc != MAILIMAP_NO_ERROR)
		return rc;
	if (mailimap_has_uidplus(imap))
		return mailimap_uid_expunge(imap, set);
	return mailimap_expunge(imap);
}

/*
 * Wait for news: IDLE until the server says something (or the re-IDLE
 * time), else sleep interval seconds and NOOP.  0, or -1 on failure.
 */
static int
imap_wait(struct mailbox_run *r, mailimap *imap)
{
	int rc, secs;

	if (!r->mc->idle || !mailimap_has_idle(imap)) {
		if (mailbox_sleep(r, r->mc->interval, -1) < 0)
			return 0;
		if (mailimap_noop(imap) != MAILIMAP_NO_ERROR)
			return mailbox_fail(r, "connection lost: %s",
			    imap_said(imap));
		return 0;
	}
	if (mailimap_idle(imap) != MAILIMAP_NO_ERROR)
		return mailbox_fail(r, "IDLE failed: %s", imap_said(imap));
	/* Words already read with the "+ idling" need no wait. */
	secs = r->mc->interval > IMAP_IDLE_MAX ? IMAP_IDLE_MAX :
	    r->mc->interval;
	rc = imap->imap_stream->read_buffer_len > 0 ? 1 :
	    mailbox_sleep(r, secs, mailimap_idle_get_fd(imap));
	if (mailimap_idle_done(imap) != MAILIMAP_NO_ERROR)
		return rc < 0 ? 0 : mailbox_fail(r, "connection lost "
		    "during IDLE: %s", imap_said(imap));
	return 0;
}

/*
 * A session: 0 when asked to stop, -1 when it failed (mailbox.c waits
 * and calls again).
 */
int
mailbox_imap_session(struct mailbox_run *r)
{
	mailimap *imap = mailimap_new(0, NULL);
	int rc;

	if (imap == NULL)
		return mailbox_fail(r, "out of memory");
	rc = imap_connect(r, imap);
	while (rc == 0 && !mailbox_stopping(r)) {
		if ((rc = imap_check(r, imap)) == 0 && !mailbox_stopping(r))
			rc = imap_wait(r, imap);
	}
	if (rc == 0)
		mailimap_logout(imap);
	mailimap_free(imap);
	return rc;
}
