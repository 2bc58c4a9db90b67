/*
 * testutil - small helpers shared by the Check unit tests: temporary
 * directories and config files.
 */
#ifndef MLS_TESTUTIL_H
#define MLS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh directory under /tmp; the caller removes it with tu_rmdir. */
static inline char *
tu_tmpdir(void)
{
	char tmpl[] = "/tmp/mls-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static inline char *
tu_write(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *fp;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	fputs(text, fp);
	fclose(fp);
	return path;
}

static inline void
tu_rmdir(const char *dir)
{
	char *cmd;

	/* The test's own mkdtemp path: no user input reaches the shell. */
	if (asprintf(&cmd, "rm -rf '%s'", dir) >= 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
		free(cmd);
	}
}

/* Run a suite; the exit status for main(). */
static inline int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define TU_NETWORK							\
	"domain = \"Lists.Example.ORG\";\n"				\
	"network = { name = \"テストネットワーク\"; regions = (\n"	\
	"  { id = \"tokyo\"; name = \"東京\"; chapters = (\n"		\
	"    { id = \"setagaya\"; name = \"世田谷パートナーズの会\";\n"	\
	"      organizers = [ \"sewanin@example.jp\" ]; },\n"		\
	"    { id = \"meguro\"; name = \"目黒\"; } ); },\n"		\
	"  { id = \"osaka\"; name = \"大阪\"; chapters = (\n"		\
	"    { id = \"kita\"; name = \"北\"; } ); } ); };\n"

#define TU_LISTS							\
	"lists = (\n"							\
	"  { name = \"setagaya\"; scope = \"chapter:tokyo/setagaya\";\n" \
	"    policy = \"members\"; moderators = [ \"mod@example.jp\" ]; },\n" \
	"  { name = \"meguro\"; scope = \"chapter:tokyo/meguro\"; },\n"	\
	"  { name = \"kita\"; scope = \"chapter:osaka/kita\"; },\n"	\
	"  { name = \"tokyo\"; scope = \"region:tokyo\"; policy = \"announce\"; },\n" \
	"  { name = \"all-members\"; scope = \"network\"; }\n"		\
	");\n"

#endif
