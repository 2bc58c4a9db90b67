/*
 * mailbox_pop3 - a POP3 maildrop read with libetpan's mailpop3 (see
 * mailbox_private.h for the contract with mailbox.c).
 *
 * Each poll is one session: log in, list the messages with their UIDL,
 * take the new ones, DELE what is taken, and QUIT.  POP3 removes only at
 * QUIT, so the rows become REMOVED only after it succeeded; a session
 * cut before that leaves them TAKEN, and the next one deletes them again
 * without fetching.  A server without UIDL cannot tell us which message
 * we already took, so it is refused rather than read twice.
 */
#include <stdlib.h>
#include <string.h>

#include <libetpan/libetpan.h>

#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "mailbox_private.h"
#include "xmalloc.h"

static int	 pop3_connect(struct mailbox_run *, mailpop3 *);
static int	 pop3_one(struct mailbox_run *, mailpop3 *,
		    struct mailpop3_msg_info *, int *);
static const char *pop3_said(mailpop3 *);

static const char *
pop3_said(mailpop3 *pop)
{
	return pop->pop3_response ? pop->pop3_response : "no answer";
}

static int
pop3_connect(struct mailbox_run *r, mailpop3 *pop)
{
	const struct mailbox_conf *mc = r->mc;
	const char *pw;
	int rc;

	if ((pw = mailbox_password(r)) == NULL)
		return -1;
	if (mc->tls)
		rc = mailpop3_ssl_connect_with_callback(pop, mc->host,
		    (uint16_t)mc->port, mailbox_tls_setup, r);
	else
		rc = mailpop3_socket_connect(pop, mc->host,
		    (uint16_t)mc->port);
	if (rc != MAILPOP3_NO_ERROR)
		return mailbox_fail(r, "cannot connect to %s port %d%s",
		    mc->host, mc->port, mc->tls ? " (TLS)" : "");
	if (mc->tls && mailbox_tls_check(r, pop->pop3_stream) != 0)
		return -1;
	if (mailpop3_user(pop, mc->user) != MAILPOP3_NO_ERROR ||
	    mailpop3_pass(pop, pw) != MAILPOP3_NO_ERROR)
		return mailbox_fail(r, "login refused for user \"%s\" (check "
		    "password_file %s): %s", mc->user, mc->password_file,
		    pop3_said(pop));
	mailbox_ok(r);
	return 0;
}

/*
 * One message: 0 (taken and deleted, left, or to retry), -1 when the
 * session failed.  *dele is set when it was marked for deletion.
 */
static int
pop3_one(struct mailbox_run *r, mailpop3 *pop, struct mailpop3_msg_info *m,
    int *dele)
{
	char *msg = NULL;
	size_t len = 0;
	int state, rc;

	*dele = 0;
	if ((state = mailbox_seen(r, m->msg_uidl)) < MAILBOX_NEW ||
	    state == MAILBOX_SKIPPED)
		return 0;
	if (state == MAILBOX_NEW) {
		if (mailpop3_retr(pop, m->msg_index, &msg, &len) !=
		    MAILPOP3_NO_ERROR)
			return mailbox_fail(r, "RETR %u failed: %s",
			    m->msg_index, pop3_said(pop));
		rc = mailbox_take(r, m->msg_uidl, msg, len);
		mailpop3_retr_free(msg);
		if (rc != 0)
			return 0;
	}
	if (mailpop3_dele(pop, m->msg_index) != MAILPOP3_NO_ERROR)
		return mailbox_fail(r, "DELE %u failed: %s", m->msg_index,
		    pop3_said(pop));
	*dele = 1;
	return 0;
}

int
mailbox_pop3_poll(struct mailbox_run *r)
{
	mailpop3 *pop = mailpop3_new(0, NULL);
	carray *list = NULL;
	char **deleted = NULL;
	unsigned int i, n = 0, nd = 0;
	int rc, dele;

	if (pop == NULL)
		return mailbox_fail(r, "out of memory");
	if ((rc = pop3_connect(r, pop)) != 0)
		goto done;
	if (mailpop3_list(pop, &list) != MAILPOP3_NO_ERROR) {
		rc = mailbox_fail(r, "LIST failed: %s", pop3_said(pop));
		goto done;
	}
	n = carray_count(list);
	deleted = xcalloc(n + 1, sizeof(*deleted));
	for (i = 0; i < n && rc == 0 && !mailbox_stopping(r); i++) {
		struct mailpop3_msg_info *m = carray_get(list, i);

		if (m == NULL || m->msg_deleted)
			continue;
		if (m->msg_uidl == NULL) {
			rc = mailbox_fail(r, "the server has no UIDL, so "
			    "messages taken cannot be told apart; use IMAP");
			break;
		}
		if ((rc = pop3_one(r, pop, m, &dele)) == 0 && dele)
			deleted[nd++] = xstrdup(m->msg_uidl);
	}
	/* QUIT commits the deletions, also after a failure above. */
	if (mailpop3_quit(pop) == MAILPOP3_NO_ERROR)
		for (i = 0; i < nd; i++)
			(void)mailbox_removed(r, deleted[i]);
	else if (rc == 0)
		rc = mailbox_fail(r, "QUIT failed: %s", pop3_said(pop));
done:
	for (i = 0; i < nd; i++)
		free(deleted[i]);
	free(deleted);
	mailpop3_free(pop);
	return rc;
}
