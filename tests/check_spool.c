/*
 * check_spool - unit tests of the spool (spool.c): what is acknowledged is
 * in new/ and complete, what is not leaves nothing behind.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "spool.h"
#include "xmalloc.h"

static char	*tdir;

static void	setup(void);
static void	teardown(void);
static int	count_files(const char *);
static void	rm_rf(const char *);
static char	*folder(const char *);
static void	put_file(const char *, const char *, const void *, size_t);

static void
setup(void)
{
	char tmpl[] = "/tmp/check_spool.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	tdir = xstrdup(tmpl);
	ck_assert_int_eq(spool_init(tdir), 0);
}

static void
teardown(void)
{
	rm_rf(tdir);
	free(tdir);
	tdir = NULL;
}

static char *
folder(const char *name)
{
	return spool_path(tdir, name, NULL);
}

static int
count_files(const char *name)
{
	char *dir = folder(name);
	struct dirent *de;
	DIR *d;
	int n = 0;

	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	free(dir);
	return n;
}

static void
rm_rf(const char *path)
{
	struct dirent *de;
	struct buf b = BUF_INIT;
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		buf_reset(&b);
		buf_printf(&b, "%s/%s", path, de->d_name);
		rm_rf(buf_cstr(&b));
	}
	closedir(d);
	buf_free(&b);
	rmdir(path);
}

static void
put_file(const char *fold, const char *name, const void *p, size_t n)
{
	char *path = spool_path(tdir, fold, name);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
	free(path);
}

START_TEST(test_init_folders)
{
	const char *names[] = { "tmp", "new", "held", "quarantine", "out" };
	struct stat st;

	for (size_t i = 0; i < 5; i++) {
		char *dir = folder(names[i]);

		ck_assert_int_eq(stat(dir, &st), 0);
		ck_assert(S_ISDIR(st.st_mode));
		free(dir);
	}
	/* Again: existing folders are fine. */
	ck_assert_int_eq(spool_init(tdir), 0);
}
END_TEST

START_TEST(test_init_fails_under_file)
{
	struct buf b = BUF_INIT;

	put_file("tmp", "plain", "x", 1);
	buf_printf(&b, "%s/spool/tmp/plain/state", tdir);
	ck_assert_int_eq(spool_init(buf_cstr(&b)), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_commit_one_file)
{
	struct spool_writer w;
	char *rcpts[] = { "setagaya@lists.example.org" };
	const char msg[] = "Subject: hi\r\n\r\nbody\r\n";
	char *path;
	struct stat st;

	ck_assert_int_eq(spool_begin(tdir, "a@example.jp", rcpts, 1, &w), 0);
	ck_assert(spool_valid_id(w.id));
	ck_assert_int_eq(count_files("tmp"), 1);
	ck_assert_int_eq(spool_write(&w, msg, sizeof(msg) - 1), 0);
	ck_assert_uint_eq(w.size, sizeof(msg) - 1);
	ck_assert_int_eq(spool_commit(&w), 0);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("new"), 1);
	path = spool_path(tdir, "new", w.id);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(path);
	/* abort after commit does nothing. */
	spool_abort(&w);
	ck_assert_int_eq(count_files("new"), 1);
}
END_TEST

START_TEST(test_read_roundtrip)
{
	struct spool_writer w;
	struct spool_envelope env;
	char *rcpts[] = { "setagaya@lists.example.org",
	    "setagaya-request@lists.example.org" };
	/* "件名: 世田谷" in UTF-8 and Shift_JIS, a NUL, a lone CR, no EOL. */
	const char msg[] =
	    "Subject: \xe4\xbb\xb6\xe5\x90\x8d\r\n"
	    "\r\n"
	    "\xe4\xb8\x96\xe7\x94\xb0\xe8\xb0\xb7\r\n"
	    "\x90\xa2\x93\x63\x92\x4a\n"
	    "nul\0here\rand\xff\xfe\x80";
	char *path, *body;
	size_t len;

	ck_assert_int_eq(spool_begin(tdir, "", rcpts, 2, &w), 0);
	ck_assert_int_eq(spool_write(&w, msg, 10), 0);
	ck_assert_int_eq(spool_write(&w, msg + 10, sizeof(msg) - 1 - 10), 0);
	ck_assert_int_eq(spool_commit(&w), 0);

	path = spool_path(tdir, "new", w.id);
	ck_assert_int_eq(spool_read(path, &env, &body, &len), 0);
	ck_assert_str_eq(env.sender, "");
	ck_assert_uint_eq(env.nrcpts, 2);
	ck_assert_str_eq(env.rcpts[0], rcpts[0]);
	ck_assert_str_eq(env.rcpts[1], rcpts[1]);
	ck_assert_uint_eq(len, sizeof(msg) - 1);
	ck_assert(memcmp(body, msg, len) == 0);
	ck_assert_int_eq(body[len], '\0');
	free(body);
	spool_envelope_free(&env);
	free(path);
}
END_TEST

START_TEST(test_read_sender)
{
	struct spool_writer w;
	struct spool_envelope env;
	char *rcpts[] = { "x@lists.example.org" };
	char *path, *body;
	size_t len;

	ck_assert_int_eq(spool_begin(tdir, "\"a b\"@example.jp", rcpts, 1,
	    &w), 0);
	ck_assert_int_eq(spool_commit(&w), 0);
	path = spool_path(tdir, "new", w.id);
	ck_assert_int_eq(spool_read(path, &env, &body, &len), 0);
	ck_assert_str_eq(env.sender, "\"a b\"@example.jp");
	ck_assert_uint_eq(len, 0);
	free(body);
	spool_envelope_free(&env);
	free(path);
}
END_TEST

START_TEST(test_read_malformed)
{
	static const struct {
		const char	*data;
		size_t		 len;
	} bad[] = {
#define B(s)	{ s, sizeof(s) - 1 }
		B(""),
		B("MLSERVER 2\nF a@b\nR c@d\n\nx"),
		B("MLSERVER 1\nR c@d\n\nx"),			/* no F */
		B("MLSERVER 1\nF a@b\n\nx"),			/* no R */
		B("MLSERVER 1\nF a@b\nR \n\nx"),		/* empty R */
		B("MLSERVER 1\nF a@b\nR c@d\n"),		/* no blank */
		B("MLSERVER 1\nF a@b\nR c@d"),			/* cut */
		B("MLSERVER 1\nF a\0b\nR c@d\n\nx"),		/* NUL */
		B("MLSERVER 1\nF a@b\nR c@d\r\n\nx"),		/* CR */
		B("MLSERVER 1\nFa@b\nR c@d\n\nx"),
		B("MLSERVER 1\nF a@b\nX y\n\nx"),
		B("MLSERVER 1"),
#undef B
	};
	struct spool_envelope env;
	char *path, *body;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_file("quarantine", "00000000000000000000", bad[i].data,
		    bad[i].len);
		path = spool_path(tdir, "quarantine", "00000000000000000000");
		body = NULL;
		errno = 0;
		ck_assert_msg(spool_read(path, &env, &body, &len) == -1,
		    "case %zu accepted", i);
		ck_assert_int_eq(errno, EBADMSG);
		ck_assert_ptr_null(body);
		ck_assert_ptr_null(env.sender);
		ck_assert_ptr_null(env.rcpts);
		free(path);
	}
	path = spool_path(tdir, "quarantine", "11111111111111111111");
	ck_assert_int_eq(spool_read(path, &env, &body, &len), -1);
	ck_assert_int_eq(errno, ENOENT);
	free(path);
}
END_TEST

START_TEST(test_abort)
{
	struct spool_writer w;
	char *rcpts[] = { "setagaya@lists.example.org" };

	ck_assert_int_eq(spool_begin(tdir, "a@example.jp", rcpts, 1, &w), 0);
	ck_assert_int_eq(spool_write(&w, "Subject: x\n\n", 12), 0);
	spool_abort(&w);
	spool_abort(&w);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("new"), 0);
}
END_TEST

START_TEST(test_begin_rejects_injection)
{
	struct spool_writer w;
	char *good[] = { "setagaya@lists.example.org" };
	char *cr[] = { "setagaya@lists.example.org\r\nR evil@example.com" };
	char *lf[] = { "setagaya@lists.example.org\nR evil@example.com" };
	char *empty[] = { "" };

	errno = 0;
	ck_assert_int_eq(spool_begin(tdir, "a@b\nR evil@x", good, 1, &w), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(spool_begin(tdir, "a@b\r", good, 1, &w), -1);
	ck_assert_int_eq(spool_begin(tdir, "a@b", cr, 1, &w), -1);
	ck_assert_int_eq(spool_begin(tdir, "a@b", lf, 1, &w), -1);
	ck_assert_int_eq(spool_begin(tdir, "a@b", empty, 1, &w), -1);
	ck_assert_int_eq(spool_begin(tdir, "a@b", good, 0, &w), -1);
	ck_assert_int_eq(count_files("tmp"), 0);
}
END_TEST

/* A write error (here EFBIG from RLIMIT_FSIZE) is remembered and refused. */
START_TEST(test_write_failure)
{
	struct spool_writer w;
	struct rlimit rl = { 200, 200 }, saved;
	char *rcpts[] = { "setagaya@lists.example.org" };
	char big[1000];
	int r1, r2, r3, failed;

	memset(big, 'x', sizeof(big));
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(spool_begin(tdir, "a@example.jp", rcpts, 1, &w), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl.rlim_max = saved.rlim_max;
	/*
	 * No ck_assert while the limit holds: Check reports through a file
	 * of its own, which the limit would cut too.
	 */
	r1 = setrlimit(RLIMIT_FSIZE, &rl);
	r2 = spool_write(&w, big, sizeof(big));
	failed = w.failed;
	/* Later writes fail too, even small ones that would fit. */
	r3 = spool_write(&w, "x", 1);
	setrlimit(RLIMIT_FSIZE, &saved);
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, -1);
	ck_assert_int_eq(failed, EFBIG);
	ck_assert_int_eq(r3, -1);
	errno = 0;
	ck_assert_int_eq(spool_commit(&w), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("new"), 0);
}
END_TEST

/* Commit fails when new/ is gone: errno kept, tmp/ cleaned. */
START_TEST(test_commit_failure)
{
	struct spool_writer w;
	char *rcpts[] = { "setagaya@lists.example.org" };
	char *dir = folder("new");

	ck_assert_int_eq(spool_begin(tdir, "a@example.jp", rcpts, 1, &w), 0);
	ck_assert_int_eq(spool_write(&w, "Subject: x\n\n", 12), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	errno = 0;
	ck_assert_int_eq(spool_commit(&w), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(count_files("tmp"), 0);
	free(dir);
}
END_TEST

START_TEST(test_begin_fails_without_tmp)
{
	struct spool_writer w;
	char *rcpts[] = { "setagaya@lists.example.org" };
	char *dir = folder("tmp");

	ck_assert_int_eq(rmdir(dir), 0);
	errno = 0;
	ck_assert_int_eq(spool_begin(tdir, "a@example.jp", rcpts, 1, &w), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(w.tmp_path);
	ck_assert_int_eq(w.fd, -1);
	free(dir);
}
END_TEST

START_TEST(test_ids_unique_ordered)
{
	enum { N = 10000 };
	char (*ids)[SPOOL_ID_LEN + 1];

	ids = xcalloc(N, sizeof(*ids));
	for (int i = 0; i < N; i++) {
		spool_new_id(ids[i]);
		ck_assert_uint_eq(strlen(ids[i]), SPOOL_ID_LEN);
		ck_assert(spool_valid_id(ids[i]));
		if (i > 0)
			ck_assert_msg(strcmp(ids[i - 1], ids[i]) < 0,
			    "%s !< %s", ids[i - 1], ids[i]);
	}
	free(ids);
}
END_TEST

/* Ids from two processes at once never clash. */
START_TEST(test_ids_two_processes)
{
	enum { N = 2000 };
	char (*ids)[SPOOL_ID_LEN + 1];
	int pfd[2], status;
	pid_t pid;
	size_t got = 0;
	ssize_t r;

	ids = xcalloc(2 * N, sizeof(*ids));
	ck_assert_int_eq(pipe(pfd), 0);
	if ((pid = fork()) == 0) {
		char id[SPOOL_ID_LEN + 1];

		close(pfd[0]);
		for (int i = 0; i < N; i++) {
			spool_new_id(id);
			if (write(pfd[1], id, sizeof(id)) != sizeof(id))
				_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	for (int i = 0; i < N; i++)
		spool_new_id(ids[i]);
	while (got < N * sizeof(ids[0]) &&
	    (r = read(pfd[0], (char *)ids[N] + got,
	    N * sizeof(ids[0]) - got)) > 0)
		got += (size_t)r;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	ck_assert_int_eq(got, N * sizeof(ids[0]));
	qsort(ids, 2 * N, sizeof(ids[0]),
	    (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < 2 * N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	free(ids);
}
END_TEST

START_TEST(test_valid_id)
{
	char id[SPOOL_ID_LEN + 1];

	spool_new_id(id);
	ck_assert(spool_valid_id(id));
	ck_assert(spool_valid_id("0123456789ABCDEF0123"));
	ck_assert(!spool_valid_id(NULL));
	ck_assert(!spool_valid_id(""));
	ck_assert(!spool_valid_id("../x"));
	ck_assert(!spool_valid_id("../../../etc/passwd0"));
	ck_assert(!spool_valid_id("0123456789ABCDEF012"));	/* short */
	ck_assert(!spool_valid_id("0123456789ABCDEF01234"));	/* long */
	ck_assert(!spool_valid_id("0123456789abcdef0123"));	/* lower */
	ck_assert(!spool_valid_id("0123456789ABCDEF012G"));
	ck_assert(!spool_valid_id("0123456789ABCDEF012/"));
	ck_assert(!spool_valid_id("0123456789ABCDEF012\n"));
}
END_TEST

START_TEST(test_recover)
{
	struct spool_writer live, done;
	char *rcpts[] = { "setagaya@lists.example.org" };

	/* Two abandoned files, one live writer, one committed message. */
	put_file("tmp", "00000000000000000001", "MLSERVER 1\n", 11);
	put_file("tmp", "junk", "x", 1);
	ck_assert_int_eq(spool_begin(tdir, "", rcpts, 1, &done), 0);
	ck_assert_int_eq(spool_commit(&done), 0);
	ck_assert_int_eq(spool_begin(tdir, "", rcpts, 1, &live), 0);
	ck_assert_int_eq(count_files("tmp"), 3);

	ck_assert_int_eq(spool_recover(tdir), 2);
	ck_assert_int_eq(count_files("tmp"), 1);
	ck_assert_int_eq(count_files("new"), 1);
	ck_assert_int_eq(spool_write(&live, "Subject: x\n\n", 12), 0);
	ck_assert_int_eq(spool_commit(&live), 0);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("new"), 2);
	ck_assert_int_eq(spool_recover(tdir), 0);
}
END_TEST

/* A writer that died (its lock gone with it) is stale. */
START_TEST(test_recover_after_crash)
{
	char *rcpts[] = { "setagaya@lists.example.org" };
	int status;
	pid_t pid;

	if ((pid = fork()) == 0) {
		struct spool_writer w;

		if (spool_begin(tdir, "", rcpts, 1, &w) == -1)
			_exit(1);
		_exit(0);	/* "crash": no commit, no abort */
	}
	waitpid(pid, &status, 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(count_files("tmp"), 1);
	ck_assert_int_eq(spool_recover(tdir), 1);
	ck_assert_int_eq(count_files("tmp"), 0);
}
END_TEST

START_TEST(test_move)
{
	struct spool_writer w;
	char *rcpts[] = { "setagaya@lists.example.org" };

	ck_assert_int_eq(spool_begin(tdir, "", rcpts, 1, &w), 0);
	ck_assert_int_eq(spool_commit(&w), 0);
	ck_assert_int_eq(spool_move(tdir, w.id, "new", "held"), 0);
	ck_assert_int_eq(count_files("new"), 0);
	ck_assert_int_eq(count_files("held"), 1);
	/* Bad ids and folders are refused before they touch a path. */
	errno = 0;
	ck_assert_int_eq(spool_move(tdir, "../../x", "held", "new"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(spool_move(tdir, w.id, "held", "../new"), -1);
	ck_assert_int_eq(spool_move(tdir, w.id, "held", "nosuch"), -1);
	/* Missing file. */
	ck_assert_int_eq(spool_move(tdir, w.id, "new", "quarantine"), -1);
	ck_assert_int_eq(errno, ENOENT);
	/* Never replaces. */
	put_file("quarantine", w.id, "x", 1);
	ck_assert_int_eq(spool_move(tdir, w.id, "held", "quarantine"), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(count_files("held"), 1);
}
END_TEST

START_TEST(test_space)
{
	ck_assert_int_eq(spool_space_ok(tdir, 1000), 1);
	errno = 0;
	ck_assert_int_eq(spool_space_ok(tdir, (size_t)-1 / 2), 0);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(spool_space_ok(tdir, (size_t)-1), 0);
	ck_assert_int_eq(spool_space_ok("/nonexistent/dir", 10), 0);
}
END_TEST

START_TEST(test_path)
{
	char *p = spool_path("/var/lib/mls", "new", "0123456789ABCDEF0123");

	ck_assert_str_eq(p, "/var/lib/mls/spool/new/0123456789ABCDEF0123");
	free(p);
	p = spool_path("/var/lib/mls", "held", NULL);
	ck_assert_str_eq(p, "/var/lib/mls/spool/held");
	free(p);
}
END_TEST

static Suite *
spool_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_init_folders);
	tcase_add_test(tc, test_init_fails_under_file);
	tcase_add_test(tc, test_commit_one_file);
	tcase_add_test(tc, test_read_roundtrip);
	tcase_add_test(tc, test_read_sender);
	tcase_add_test(tc, test_read_malformed);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_begin_rejects_injection);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_commit_failure);
	tcase_add_test(tc, test_begin_fails_without_tmp);
	tcase_add_test(tc, test_ids_unique_ordered);
	tcase_add_test(tc, test_ids_two_processes);
	tcase_add_test(tc, test_valid_id);
	tcase_add_test(tc, test_recover);
	tcase_add_test(tc, test_recover_after_crash);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_space);
	tcase_add_test(tc, test_path);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(spool_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
