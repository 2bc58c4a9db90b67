/*
 * replay - run every fuzz target over its kept corpus, without libFuzzer.
 *
 *	tests/fuzz_replay [CORPUS_ROOT]
 *
 * Each target of tests/fuzz/ is compiled in here (FUZZ_REPLAY, see
 * fuzz.h) and fed every file of CORPUS_ROOT/NAME/ (default:
 * $top_srcdir/tests/fuzz/corpus): the seeds, and every input that once
 * crashed a target and was fixed.  So a fixed crash stays fixed under
 * `make check`, and CI replays the corpus under ASan, UBSan and
 * valgrind.  Exits 0 when every input ran (a crash aborts the program),
 * 77 (skip) when there is no corpus to read.
 */
#define FUZZ_REPLAY 1

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_addr.c"
#include "fuzz_command.c"
#include "fuzz_config.c"
#include "fuzz_encword.c"
#include "fuzz_ical.c"
#include "fuzz_message.c"

struct target {
	const char	*name;
	int		(*init)(void);
	int		(*one)(const uint8_t *, size_t);
};

static const struct target targets[] = {
	{ "addr",	fuzz_addr_init,		fuzz_addr_one },
	{ "command",	fuzz_command_init,	fuzz_command_one },
	{ "config",	fuzz_config_init,	fuzz_config_one },
	{ "encword",	fuzz_encword_init,	fuzz_encword_one },
	{ "ical",	fuzz_ical_init,		fuzz_ical_one },
	{ "message",	fuzz_message_init,	fuzz_message_one },
};

static int	replay_file(const struct target *, const char *);
static long	replay_dir(const struct target *, const char *);

static int
replay_file(const struct target *t, const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size &&
	    (r = read(fd, data + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	t->one(data, n);
	free(data);
	return 0;
}

/* Files in name order, so a failure names the same input every run. */
static long
replay_dir(const struct target *t, const char *dir)
{
	struct dirent **names;
	char path[4096 + 512];
	long count = 0;
	int n, i;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (replay_file(t, path) == 0)
				count++;
			else
				count = -1000000;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char *argv[])
{
	char root[4096], dir[4096 + 64];
	const char *top = getenv("top_srcdir");
	long n, total = 0;
	int failed = 0;

	if (argc > 1)
		snprintf(root, sizeof(root), "%s", argv[1]);
	else
		snprintf(root, sizeof(root), "%s/tests/fuzz/corpus",
		    top ? top : ".");
	if (access(root, R_OK | X_OK) == -1) {
		fprintf(stderr, "replay: no corpus at %s\n", root);
		return 77;
	}
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, targets[i].name);
		targets[i].init();
		n = replay_dir(&targets[i], dir);
		printf("%-8s %ld inputs\n", targets[i].name, n);
		if (n <= 0)
			failed = 1;
		else
			total += n;
	}
	printf("%ld inputs replayed, %s\n", total, failed ? "FAILED" : "ok");
	return failed;
}
