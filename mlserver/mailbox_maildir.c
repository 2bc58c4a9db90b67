/*
 * mailbox_maildir - a Maildir an MTA delivers to, read with libetpan's
 * maildir functions (see mailbox_private.h for the contract).
 *
 * The directory is scanned afresh at each poll: libetpan's maildir keeps
 * the directories' mtimes and would skip a message delivered within the
 * same second as the previous scan.  The unique part of the file name
 * (before ":2,") is the UID, as it stays the same when a reader moves
 * the file from new/ to cur/ or changes its flags.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mailbox.h"
#include "mailbox_private.h"
#include "xmalloc.h"

static int	mailbox_maildir_read(const char *, struct buf *);
static int	mailbox_maildir_one(struct mailbox_run *, struct maildir *,
		    const char *);
static int	mailbox_maildir_cmp(const void *, const void *);

/* Delivery order: Maildir names begin with the time of delivery. */
static int
mailbox_maildir_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file at path into b: 0, or -1 with errno. */
static int
mailbox_maildir_read(const char *path, struct buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

/* One message: 0 done or left, -1 to try again later. */
static int
mailbox_maildir_one(struct mailbox_run *r, struct maildir *md,
    const char *uid)
{
	struct buf b = BUF_INIT;
	char *path;
	int state, rc;

	if ((state = mailbox_seen(r, uid)) < MAILBOX_NEW)
		return -1;
	if (state == MAILBOX_SKIPPED)
		return 0;
	if (state == MAILBOX_NEW) {
		if ((path = maildir_message_get(md, uid)) == NULL)
			return 0;	/* gone meanwhile */
		rc = mailbox_maildir_read(path, &b);
		if (rc != 0) {
			if (errno != ENOENT)
				log_warn("%s: cannot read %s", r->mc->name,
				    path);
			free(path);
			buf_free(&b);
			return errno == ENOENT ? 0 : -1;
		}
		free(path);
		rc = mailbox_take(r, uid, b.data ? b.data : "", b.len);
		buf_free(&b);
		if (rc != 0)
			return rc > 0 ? 0 : -1;
	}
	rc = maildir_message_remove(md, uid);
	if (rc != MAILDIR_NO_ERROR && rc != MAILDIR_ERROR_NOT_FOUND) {
		log_warnx("%s: cannot remove %s (libetpan error %d)",
		    r->mc->name, uid, rc);
		return -1;
	}
	return mailbox_removed(r, uid);
}

int
mailbox_maildir_poll(struct mailbox_run *r)
{
	struct maildir *md;
	char **uids;
	unsigned int i, n;
	int rc, failed = 0;

	if ((md = maildir_new(r->mc->path)) == NULL)
		return mailbox_fail(r, "cannot open Maildir %s", r->mc->path);
	if ((rc = maildir_update(md)) != MAILDIR_NO_ERROR) {
		maildir_free(md);
		return mailbox_fail(r, "cannot read Maildir %s (libetpan "
		    "error %d; is it a Maildir with new/ and cur/?)",
		    r->mc->path, rc);
	}
	mailbox_ok(r);
	/* Copy the UIDs: removing a message changes md's list. */
	n = carray_count(md->mdir_msg_list);
	uids = xcalloc(n + 1, sizeof(*uids));
	for (i = 0; i < n; i++) {
		struct maildir_msg *m = carray_get(md->mdir_msg_list, i);

		uids[i] = xstrdup(m->msg_uid);
	}
	qsort(uids, n, sizeof(*uids), mailbox_maildir_cmp);
	for (i = 0; i < n && !mailbox_stopping(r); i++)
		if (mailbox_maildir_one(r, md, uids[i]) != 0)
			failed = 1;
	for (i = 0; i < n; i++)
		free(uids[i]);
	free(uids);
	maildir_free(md);
	return failed ? -1 : 0;
}
