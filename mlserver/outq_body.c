/*
 * outq_body - the text of a message we send; see outq_body.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "outq_body.h"
#include "spool.h"
#include "store.h"
#include "xmalloc.h"

static int	 outq_body_file(const struct config *, const char *,
		    const char *, size_t);
static int	 outq_body_write_all(int, const char *, size_t);
static int	 outq_body_read_file(const char *, const char *, struct buf *);

/*
 * Keep the text (CRLF line ends, final form) of message id, inside the
 * caller's transaction.  Writing it again replaces it, wherever the new
 * size puts it.  0, or -1 (logged).
 */
int
outq_body_put(struct store *st, const struct config *cf, const char *id,
    const char *crlf, size_t len)
{
	sqlite3_stmt *s;

	/* A smaller earlier version was a row. */
	if (len > OUTQ_BODY_INLINE_MAX)
		return outq_body_file(cf, id, crlf, len) != 0 ? -1 :
		    outq_body_drop(st, id);
	if ((s = store_stmt(st, "INSERT OR REPLACE INTO outbody (id, data) "
	    "VALUES (?1, ?2)")) == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(s, 2, crlf, (sqlite3_uint64)len, SQLITE_STATIC);
	if (store_step_done(st, s) != 0)
		return -1;
	/* A larger earlier version was a file. */
	outq_body_unlink(cf, id);
	return 0;
}

/*
 * The text of message id, in *data (malloc'd, *len octets, NUL after
 * them).  0, or -1 (logged) when it is in neither place.
 */
int
outq_body_get(struct store *st, const struct config *cf, const char *id,
    char **data, size_t *len)
{
	sqlite3_stmt *s;
	struct buf b = BUF_INIT;
	char *path;
	int rc;

	if (!spool_valid_id(id)) {
		log_warnx("%s: invalid queue id", id);
		return -1;
	}
	if ((s = store_stmt(st, "SELECT data FROM outbody WHERE id = ?1")) ==
	    NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(s, 0);
		size_t n = (size_t)sqlite3_column_bytes(s, 0);

		buf_add(&b, p ? p : "", n);
		sqlite3_reset(s);
		*len = b.len;
		*data = buf_release(&b);
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_log_error(st, "outq_body_get");
		return -1;
	}
	path = spool_path(cf->state_dir, "out", id);
	rc = outq_body_read_file(id, path, &b);
	free(path);
	if (rc != 0) {
		buf_free(&b);
		return -1;
	}
	*len = b.len;
	*data = buf_release(&b);
	return 0;
}

/*
 * Forget the text of message id, in the caller's transaction.  A file
 * stays until outq_body_unlink(), after the commit.  0, or -1.
 */
int
outq_body_drop(struct store *st, const char *id)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM outbody WHERE id = ?1");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	return store_step_done(st, s);
}

/* Remove out/id, if the text was a file. */
void
outq_body_unlink(const struct config *cf, const char *id)
{
	char *path = spool_path(cf->state_dir, "out", id);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: unlink %s", id, path);
	free(path);
}

/* out/id, durably: tmp/, fsync, rename, fsync of out/.  0, or -1. */
static int
outq_body_file(const struct config *cf, const char *id, const char *data,
    size_t len)
{
	struct buf tmpname = BUF_INIT;
	char *tmp, *final, *dir;
	int fd, rc = -1;

	buf_printf(&tmpname, "%s.out", id);
	tmp = spool_path(cf->state_dir, "tmp", buf_cstr(&tmpname));
	final = spool_path(cf->state_dir, "out", id);
	dir = spool_path(cf->state_dir, "out", NULL);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		log_warn("%s: create %s", id, tmp);
		goto done;
	}
	if (outq_body_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		log_warn("%s: write %s", id, tmp);
		close(fd);
		unlink(tmp);
		goto done;
	}
	if (close(fd) != 0 || rename(tmp, final) != 0) {
		log_warn("%s: rename to %s", id, final);
		unlink(tmp);
		goto done;
	}
	if (spool_fsync_dir(dir) != 0) {
		log_warn("%s: fsync %s", id, dir);
		goto done;
	}
	rc = 0;
done:
	free(tmp);
	free(final);
	free(dir);
	buf_free(&tmpname);
	return rc;
}

static int
outq_body_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
outq_body_read_file(const char *id, const char *path, struct buf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("%s: open %s", id, path);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("%s: read %s", id, path);
			close(fd);
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}
