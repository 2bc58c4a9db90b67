/*
 * Unit tests: scope expansion and dedup on a real SQLite file
 * (members.c, outq_fanout, store.c).
 */
#include <check.h>

#include "buf.h"
#include "config.h"
#include "members.h"
#include "outq.h"
#include "store.h"
#include "testutil.h"

static char *dir;
static struct config *cf;
static struct store *st;

static void
setup(void)
{
	struct buf errors = BUF_INIT, text = BUF_INIT;
	char *path;

	dir = tu_tmpdir();
	buf_printf(&text, "state_dir = \"%s\";\n%s%s", dir, TU_NETWORK,
	    TU_LISTS);
	path = tu_write(dir, "t.conf", buf_cstr(&text));
	ck_assert_int_eq(config_load(path, &cf, &errors), 0);
	ck_assert_int_eq(store_open_config(cf, &st), 0);
	ck_assert_int_eq(store_sync_lists(st, cf), 0);
	free(path);
	buf_free(&text);
	buf_free(&errors);
}

static void
teardown(void)
{
	store_close(st);
	config_free(cf);
	tu_rmdir(dir);
	free(dir);
}

struct collect {
	struct buf	b;
	int		n;
};

static int
collect(const char *addr, void *arg)
{
	struct collect *c = arg;

	buf_printf(&c->b, "%s\n", addr);
	c->n++;
	return 0;
}

static char *
audience(const char *list, int *n)
{
	struct collect c = { BUF_INIT, 0 };

	ck_assert_int_eq(members_audience_foreach(st, list, collect, &c), 0);
	*n = c.n;
	return buf_release(&c.b);
}

START_TEST(chapter_list_reaches_its_members)
{
	char *a;
	int n;

	ck_assert_int_eq(members_add(st, "setagaya", "a@example.jp", "A"), 1);
	ck_assert_int_eq(members_add(st, "setagaya", "a@example.jp", ""), 0);
	ck_assert_int_eq(members_add(st, "meguro", "b@example.jp", "B"), 1);
	a = audience("setagaya", &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(a, "a@example.jp\n");
	free(a);
}
END_TEST

START_TEST(region_reaches_its_chapters_once)
{
	char *a;
	int n;

	members_add(st, "setagaya", "a@example.jp", "");
	members_add(st, "setagaya", "both@example.jp", "");
	members_add(st, "meguro", "both@example.jp", "");
	members_add(st, "meguro", "m@example.jp", "");
	members_add(st, "tokyo", "both@example.jp", "");
	members_add(st, "tokyo", "t@example.jp", "");
	members_add(st, "kita", "k@example.jp", "");	/* another region */
	a = audience("tokyo", &n);
	ck_assert_int_eq(n, 4);
	ck_assert_str_eq(a, "a@example.jp\nboth@example.jp\nm@example.jp\n"
	    "t@example.jp\n");
	free(a);
	a = audience("all-members", &n);
	ck_assert_int_eq(n, 5);
	free(a);
	ck_assert_int_eq(members_in_audience(st, "tokyo", "m@example.jp"), 1);
	ck_assert_int_eq(members_in_audience(st, "tokyo", "k@example.jp"), 0);
	ck_assert_int_eq(members_in_audience(st, "all-members",
	    "k@example.jp"), 1);
}
END_TEST

/* nomail on the wider list opts a person out of it altogether. */
START_TEST(nomail_on_wider_list)
{
	char *a;
	int n;

	members_add(st, "setagaya", "quiet@example.jp", "");
	members_add(st, "tokyo", "quiet@example.jp", "");
	members_add(st, "setagaya", "paused@example.jp", "");
	ck_assert_int_eq(members_set_mode(st, "tokyo", "quiet@example.jp",
	    MEMBER_NOMAIL), 1);
	ck_assert_int_eq(members_set_mode(st, "setagaya",
	    "paused@example.jp", MEMBER_NOMAIL), 1);
	a = audience("tokyo", &n);
	ck_assert_int_eq(n, 0);
	free(a);
	a = audience("setagaya", &n);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(a, "quiet@example.jp\n");
	free(a);
	ck_assert_int_eq(members_set_mode(st, "kita", "nobody@example.jp",
	    MEMBER_NOMAIL), 0);
}
END_TEST

/* The fan-out queues each address once, whatever lists it is on. */
START_TEST(fanout_dedups)
{
	char addr[64];
	int i;

	ck_assert_int_eq(store_begin(st), 0);
	for (i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "user%d@example.jp", i);
		members_add(st, i % 2 ? "setagaya" : "meguro", addr, "");
		if (i % 10 == 0)
			members_add(st, "tokyo", addr, "");
	}
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(outq_message_add(st, "00000000000000000001", "tokyo",
	    "post", "tokyo-bounces@lists.example.org"), 0);
	ck_assert_int_eq(outq_fanout(st, NULL, "00000000000000000001",
	    "tokyo"), 1000);
	ck_assert_int_eq(outq_message_ready(st, "00000000000000000001"), 0);
	ck_assert_int_eq(outq_fanout(st, NULL, "00000000000000000001",
	    "tokyo"), 0);
}
END_TEST

/* An inner transaction is a savepoint: its rollback undoes it alone. */
START_TEST(nested_rollback_is_its_own)
{
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(members_add(st, "meguro", "kept@example.jp", ""), 1);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(members_add(st, "meguro", "undone@example.jp", ""),
	    1);
	store_rollback(st);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(members_add(st, "meguro", "inner@example.jp", ""), 1);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(store_commit(st), 0);
	ck_assert_int_eq(st->depth, 0);
	ck_assert_int_eq(members_count(st, "meguro"), 2);
	{
		struct member m;

		ck_assert_int_eq(members_get(st, "meguro",
		    "undone@example.jp", &m), 0);
	}

	/* The outer rollback takes a released inner part with it. */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(members_add(st, "meguro", "gone@example.jp", ""), 1);
	ck_assert_int_eq(store_commit(st), 0);
	store_rollback(st);
	ck_assert_int_eq(st->depth, 0);
	ck_assert_int_eq(members_count(st, "meguro"), 2);
}
END_TEST

/* Reopening migrates nothing; tables newer than the program are refused. */
START_TEST(schema_versions)
{
	struct store *again;
	char *path = config_state_path(cf, "state.db");

	ck_assert_int_eq(store_open(path, &again), 0);
	store_close(again);
	ck_assert_int_eq(store_exec(st, "UPDATE schema_versions SET version "
	    "= 99 WHERE module = 'core'"), 0);
	ck_assert_int_ne(store_open(path, &again), 0);
	ck_assert_ptr_null(again);
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("scope");
	TCase *tc = tcase_create("scope");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, chapter_list_reaches_its_members);
	tcase_add_test(tc, region_reaches_its_chapters_once);
	tcase_add_test(tc, nomail_on_wider_list);
	tcase_add_test(tc, fanout_dedups);
	tcase_add_test(tc, nested_rollback_is_its_own);
	tcase_add_test(tc, schema_versions);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
