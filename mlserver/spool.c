/*
 * spool - durable storage of accepted mail; see spool.h for the folders
 * and the file format.
 *
 * This file owns every path under STATE_DIR/spool and the one rule that
 * makes mail safe: a message is acknowledged only after its file has been
 * written to tmp/, fsynced, renamed into new/ and new/ itself fsynced.
 * A crash before the rename leaves a stale file in tmp/ that nobody has
 * acknowledged (spool_recover() removes it); a crash after it leaves a
 * complete file in new/ that the processor picks up on restart.
 *
 * A writer holds an exclusive flock() on its tmp/ file for as long as it
 * writes, so spool_recover() can tell an abandoned file (its writer died
 * and the lock went with it) from one that an mlserver-receive process is
 * writing right now while the daemon starts.
 *
 * Functions return 0 or -1 with errno set and leave the log line to the
 * caller, who knows the context (queue id, client, program); the
 * exceptions are spool_init(), which names the directory it could not
 * make, and spool_recover(), which logs each file it removes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1		/* renameat2, RENAME_NOREPLACE */
#endif

#include <sys/types.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "spool.h"
#include "xmalloc.h"

#define SPOOL_MAGIC		"MLSERVER 1\n"
#define SPOOL_MARGIN_BYTES	(1024 * 1024)	/* kept free beyond a message */
#define SPOOL_MARGIN_INODES	100
#define SPOOL_ID_TRIES		10	/* fresh ids tried on a name clash */

static const char *const spool_folders[] = {
	"tmp", "new", "held", "quarantine", "out", NULL
};

static int	spool_valid_folder(const char *);
static char	*spool_dir(const char *, const char *);
static int	spool_mkdir(const char *);
static int	spool_write_all(int, const void *, size_t);
static int	spool_addr_ok(const char *);
static int	spool_rename(const char *, const char *);
static int	spool_read_file(const char *, char **, size_t *);
static const char *spool_parse_line(const char *, const char *,
		    const char **, size_t *);

/* Id generator state: shared by the threads of one process. */
static pthread_mutex_t	spool_id_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t		spool_id_last;		/* last time stamp used, µs */
static uint32_t		spool_id_salt;		/* random, once per process */
static uint32_t		spool_id_counter;
static pid_t		spool_id_pid;

static int
spool_valid_folder(const char *folder)
{
	for (size_t i = 0; spool_folders[i] != NULL; i++)
		if (strcmp(folder, spool_folders[i]) == 0)
			return 1;
	return 0;
}

/* STATE_DIR/spool/FOLDER (or STATE_DIR/spool when folder is NULL). */
static char *
spool_dir(const char *state_dir, const char *folder)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/spool", state_dir);
	if (folder != NULL)
		buf_printf(&b, "/%s", folder);
	return buf_release(&b);
}

static int
spool_mkdir(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	/* Something is there: it must be a directory we can use. */
	if (stat(path, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * Create STATE_DIR (one level, if missing), STATE_DIR/spool and its
 * folders.  The failing directory is logged here, since only this
 * function knows which one it was.
 */
int
spool_init(const char *state_dir)
{
	char *path;
	int rc = 0;

	if (spool_mkdir(state_dir) == -1) {
		log_warn("spool: cannot create %s", state_dir);
		return -1;
	}
	path = spool_dir(state_dir, NULL);
	if (spool_mkdir(path) == -1) {
		log_warn("spool: cannot create %s", path);
		free(path);
		return -1;
	}
	free(path);
	for (size_t i = 0; spool_folders[i] != NULL && rc == 0; i++) {
		path = spool_dir(state_dir, spool_folders[i]);
		if (spool_mkdir(path) == -1 || access(path, W_OK | X_OK) == -1) {
			log_warn("spool: cannot create %s", path);
			rc = -1;
		}
		free(path);
	}
	return rc;
}

/*
 * A new queue id: 13 hex digits of the time in microseconds (good until
 * the year 2112), then 5 of the process id and 2 of a per-process random
 * salt plus a counter.  Within a process the time stamp is made strictly
 * increasing, so ids of one process are unique and ordered even when the
 * clock stands still or steps back; between processes the pid (and, for
 * pids beyond 20 bits, the random salt) keeps them apart.  spool_begin()
 * creates the file with O_EXCL and spool_commit() renames without
 * replacing, so even an unlikely clash can never overwrite mail.
 */
void
spool_new_id(char id[SPOOL_ID_LEN + 1])
{
	struct timeval tv;
	uint64_t now;
	uint32_t low;

	gettimeofday(&tv, NULL);
	now = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;

	pthread_mutex_lock(&spool_id_lock);
	if (spool_id_pid != getpid()) {
		/* First call, or a child after fork(): new salt and clock. */
		spool_id_pid = getpid();
		if (getrandom(&spool_id_salt, sizeof(spool_id_salt),
		    GRND_NONBLOCK) != sizeof(spool_id_salt))
			spool_id_salt = (uint32_t)now ^ (uint32_t)getpid();
		spool_id_last = 0;
		spool_id_counter = 0;
	}
	if (now <= spool_id_last)
		now = spool_id_last + 1;
	spool_id_last = now;
	low = (((uint32_t)spool_id_pid & 0xfffff) << 8) |
	    ((spool_id_salt + spool_id_counter++) & 0xff);
	pthread_mutex_unlock(&spool_id_lock);

	snprintf(id, SPOOL_ID_LEN + 1, "%013" PRIX64 "%07" PRIX32,
	    now & UINT64_C(0xfffffffffffff), low & 0xfffffff);
}

/*
 * STATE_DIR/spool/FOLDER/ID, allocated; with id NULL, the folder itself.
 * Callers validate id and folder first (spool_valid_id): this only joins.
 */
char *
spool_path(const char *state_dir, const char *folder, const char *id)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/spool/%s", state_dir, folder);
	if (id != NULL)
		buf_printf(&b, "/%s", id);
	return buf_release(&b);
}

/*
 * Whether s is a queue id as spool_new_id() makes them.  Ids arrive from
 * outside (mlserverctl arguments, database rows, file names read back)
 * and end up in paths: accepting only [0-9A-F]{20} rules out "../",
 * "/", empty names and anything else that could step out of a folder.
 */
int
spool_valid_id(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < SPOOL_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return s[i] == '\0';
}

static int
spool_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * An envelope address is one line of the spool file: a CR or LF would let
 * a sender inject an extra "R" line (a recipient of their choosing).  NUL
 * cannot occur in a C string; callers reading raw bytes must reject it
 * before they make one.
 */
static int
spool_addr_ok(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

/*
 * Open a new file in tmp/ and write the envelope.  On success the writer
 * owns an open descriptor and two paths until spool_commit() or
 * spool_abort(); on failure nothing is left behind.
 */
int
spool_begin(const char *state_dir, const char *sender, char *const *rcpts,
    size_t nrcpts, struct spool_writer *w)
{
	struct buf env = BUF_INIT;
	int saved, tries;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!spool_addr_ok(sender) || nrcpts == 0) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < nrcpts; i++)
		if (!spool_addr_ok(rcpts[i]) || rcpts[i][0] == '\0') {
			errno = EINVAL;
			return -1;
		}

	for (tries = 0; tries < SPOOL_ID_TRIES; tries++) {
		spool_new_id(w->id);
		w->tmp_path = spool_path(state_dir, "tmp", w->id);
		w->fd = open(w->tmp_path,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd != -1 || errno != EEXIST)
			break;
		free(w->tmp_path);
		w->tmp_path = NULL;
	}
	if (w->fd == -1) {
		saved = errno;
		free(w->tmp_path);
		w->tmp_path = NULL;
		errno = saved;
		return -1;
	}
	/* Marks the file as alive for spool_recover(); see the top. */
	if (flock(w->fd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	w->new_path = spool_path(state_dir, "new", w->id);

	buf_adds(&env, SPOOL_MAGIC);
	buf_printf(&env, "F %s\n", sender);
	for (size_t i = 0; i < nrcpts; i++)
		buf_printf(&env, "R %s\n", rcpts[i]);
	buf_addc(&env, '\n');
	if (spool_write_all(w->fd, env.data, env.len) == -1) {
		buf_free(&env);
		goto fail;
	}
	buf_free(&env);
	return 0;

fail:
	saved = errno;
	spool_abort(w);
	errno = saved;
	return -1;
}

/*
 * Append message octets.  A failure (ENOSPC, EIO, EDQUOT) is remembered
 * so that the caller may keep reading its input to the end and learn the
 * error at spool_commit(), which refuses the message.
 */
int
spool_write(struct spool_writer *w, const void *p, size_t n)
{
	if (w->failed) {
		errno = w->failed;
		return -1;
	}
	if (w->fd == -1) {
		errno = EBADF;
		w->failed = EBADF;
		return -1;
	}
	if (spool_write_all(w->fd, p, n) == -1) {
		w->failed = errno ? errno : EIO;
		return -1;
	}
	w->size += n;
	return 0;
}

/* rename(2) that never replaces an existing file (see spool_new_id). */
static int
spool_rename(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: check, then rename. */
	if (access(to, F_OK) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/*
 * Make the message durable: fsync the file, close it, rename it into new/
 * and fsync new/.  Returns 0 once all of that is done, the only moment at
 * which the message may be acknowledged.  On failure the message is gone
 * from the spool (tmp/ and new/) and errno says why.
 */
int
spool_commit(struct spool_writer *w)
{
	char *newdir;
	int saved, fd;

	if (w->failed || w->fd == -1) {
		saved = w->failed ? w->failed : EBADF;
		spool_abort(w);
		errno = saved;
		return -1;
	}
	if (fsync(w->fd) == -1)
		goto fail;
	fd = w->fd;
	w->fd = -1;
	if (close(fd) == -1)
		goto fail;
	if (spool_rename(w->tmp_path, w->new_path) == -1)
		goto fail;

	newdir = xstrdup(w->new_path);
	*strrchr(newdir, '/') = '\0';
	if (spool_fsync_dir(newdir) == -1) {
		/*
		 * The name in new/ may not survive a crash, so the message is
		 * refused; withdraw it, or the client's retry would make it
		 * a duplicate.
		 */
		saved = errno;
		unlink(w->new_path);
		free(newdir);
		spool_abort(w);
		errno = saved;
		return -1;
	}
	free(newdir);
	free(w->tmp_path);
	free(w->new_path);
	w->tmp_path = w->new_path = NULL;
	return 0;

fail:
	saved = errno;
	spool_abort(w);
	errno = saved;
	return -1;
}

/*
 * Drop a message being written.  Safe to call at any point after
 * spool_begin(), also after spool_commit() (then it does nothing), and
 * twice; errno is kept.
 */
void
spool_abort(struct spool_writer *w)
{
	int saved = errno;

	if (w->fd != -1) {
		close(w->fd);
		w->fd = -1;
	}
	if (w->tmp_path != NULL) {
		unlink(w->tmp_path);
		free(w->tmp_path);
		w->tmp_path = NULL;
	}
	free(w->new_path);
	w->new_path = NULL;
	errno = saved;
}

static int
spool_read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	char *p;
	size_t n = 0, cap;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	p = xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			/* The file grew since fstat: keep reading. */
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(fd, p + n, cap - n - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(p);
			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	p[n] = '\0';
	*data = p;
	*len = n;
	return 0;

fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * One envelope line starting at p (end is the end of the data): returns
 * the start of the next line and sets the value (after "X ") and its
 * length, or NULL when the line is not complete or holds a NUL.
 */
static const char *
spool_parse_line(const char *p, const char *end, const char **val,
    size_t *vlen)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL || memchr(p, '\0', (size_t)(nl - p)) != NULL)
		return NULL;
	if (nl - p >= 2 && p[1] == ' ') {
		*val = p + 2;
		*vlen = (size_t)(nl - p - 2);
	} else if (nl - p == 1) {
		*val = p + 1;		/* "F" alone: the null sender */
		*vlen = 0;
	} else
		return NULL;
	return nl + 1;
}

/*
 * Read a spool file back: the envelope into *env (free it with
 * spool_envelope_free) and the message into *msg, allocated and
 * NUL-terminated for convenience (the message itself may contain NUL;
 * *msglen is its length).  Returns -1 with errno EBADMSG when the file is
 * not in the format of spool.h, or with the errno of the read.
 */
int
spool_read(const char *path, struct spool_envelope *env, char **msg,
    size_t *msglen)
{
	const char *p, *end, *val, *next;
	char *data;
	size_t len, vlen, off;

	memset(env, 0, sizeof(*env));
	if (spool_read_file(path, &data, &len) == -1)
		return -1;
	p = data;
	end = data + len;
	if (len < sizeof(SPOOL_MAGIC) - 1 ||
	    memcmp(p, SPOOL_MAGIC, sizeof(SPOOL_MAGIC) - 1) != 0)
		goto bad;
	p += sizeof(SPOOL_MAGIC) - 1;

	if (p >= end || *p != 'F' ||
	    (next = spool_parse_line(p, end, &val, &vlen)) == NULL ||
	    memchr(val, '\r', vlen) != NULL)
		goto bad;
	env->sender = xstrndup(val, vlen);
	p = next;

	while (p < end && *p == 'R') {
		if ((next = spool_parse_line(p, end, &val, &vlen)) == NULL ||
		    vlen == 0 || memchr(val, '\r', vlen) != NULL)
			goto bad;
		env->rcpts = xrealloc(env->rcpts,
		    (env->nrcpts + 1) * sizeof(*env->rcpts));
		env->rcpts[env->nrcpts++] = xstrndup(val, vlen);
		p = next;
	}
	if (env->nrcpts == 0 || p >= end || *p != '\n')
		goto bad;
	p++;

	/* Move the message to the front of the buffer and hand it over. */
	off = (size_t)(p - data);
	*msglen = len - off;
	memmove(data, p, *msglen);
	data[*msglen] = '\0';
	*msg = xrealloc(data, *msglen + 1);
	return 0;

bad:
	free(data);
	spool_envelope_free(env);
	errno = EBADMSG;
	return -1;
}

void
spool_envelope_free(struct spool_envelope *env)
{
	free(env->sender);
	for (size_t i = 0; i < env->nrcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	memset(env, 0, sizeof(*env));
}

/*
 * Move message ID from one folder to another ("new" -> "held"), then
 * fsync both folders so the move survives a crash.  Never replaces a
 * file of the same name.
 */
int
spool_move(const char *state_dir, const char *id, const char *from,
    const char *to)
{
	char *src, *dst, *dir;
	int rc = -1;

	if (!spool_valid_id(id) || !spool_valid_folder(from) ||
	    !spool_valid_folder(to)) {
		errno = EINVAL;
		return -1;
	}
	src = spool_path(state_dir, from, id);
	dst = spool_path(state_dir, to, id);
	if (spool_rename(src, dst) == 0) {
		dir = spool_path(state_dir, to, NULL);
		rc = spool_fsync_dir(dir);
		free(dir);
		if (rc == 0) {
			dir = spool_path(state_dir, from, NULL);
			rc = spool_fsync_dir(dir);
			free(dir);
		}
	}
	free(src);
	free(dst);
	return rc;
}

/*
 * Remove what writers left in tmp/ when they died (a crash, a killed
 * mlserver-receive, a dropped connection the daemon could not clean up):
 * none of it was acknowledged, so the client still has it and will send
 * it again.  A file whose writer is still alive holds a lock and is left
 * alone.  Returns the number of files removed, or -1 when tmp/ cannot be
 * read.
 */
int
spool_recover(const char *state_dir)
{
	struct dirent *de;
	DIR *d;
	char *dir, *path;
	int n = 0, fd;

	dir = spool_path(state_dir, "tmp", NULL);
	if ((d = opendir(dir)) == NULL) {
		log_warn("spool: cannot read %s", dir);
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = spool_path(state_dir, "tmp", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK) {
			/* Being written by a live process. */
			close(fd);
			free(path);
			continue;
		}
		if (unlink(path) == 0) {
			log_warnx("spool: removed stale %s", path);
			n++;
		} else if (errno != ENOENT)
			log_warn("spool: cannot remove %s", path);
		if (fd != -1)
			close(fd);
		free(path);
	}
	closedir(d);
	if (n > 0 && spool_fsync_dir(dir) == -1)
		log_warn("spool: fsync %s", dir);
	free(dir);
	return n;
}

/* fsync a directory, so that names created or removed in it persist. */
int
spool_fsync_dir(const char *dir)
{
	int fd, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

/*
 * Whether the spool's file system has room for a message of need octets
 * plus a margin of space and inodes (so the database and the logs can
 * still be written when the spool fills).  Returns 1 when there is room;
 * 0 when there is not (errno ENOSPC) or statvfs fails (its errno).  The
 * LMTP server asks before DATA and answers 452 on 0.
 */
int
spool_space_ok(const char *state_dir, size_t need)
{
	struct statvfs sv;
	char *dir;
	uint64_t avail, want;
	int rc;

	dir = spool_dir(state_dir, NULL);
	rc = statvfs(dir, &sv);
	free(dir);
	if (rc == -1)
		return 0;
	avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	want = (uint64_t)need + SPOOL_MARGIN_BYTES;
	if (want < need || avail < want) {
		errno = ENOSPC;
		return 0;
	}
	/* f_files == 0: the file system has no inode limit (btrfs). */
	if (sv.f_files != 0 && sv.f_favail < SPOOL_MARGIN_INODES) {
		errno = ENOSPC;
		return 0;
	}
	return 1;
}
