/*
 * Unit tests: configuration checking (config.c) and address routing
 * (route.c) on a loaded configuration.
 */
#include <check.h>

#include "buf.h"
#include "config.h"
#include "route.h"
#include "testutil.h"

static char *dir;

static void
setup(void)
{
	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
}

static void
teardown(void)
{
	tu_rmdir(dir);
	free(dir);
}

/* Load text as a config; returns the error text ("" when it loaded). */
static char *
load(const char *text, struct config **cf)
{
	struct buf errors = BUF_INIT;
	char *path = tu_write(dir, "test.conf", text);

	*cf = NULL;
	config_load(path, cf, &errors);
	free(path);
	return buf_release(&errors);
}

START_TEST(good_config_loads_with_defaults)
{
	struct config *cf;
	char *err = load(TU_NETWORK TU_LISTS, &cf);
	const struct list *l;

	ck_assert_str_eq(err, "");
	ck_assert_ptr_nonnull(cf);
	ck_assert_str_eq(cf->domain, "lists.example.org");
	ck_assert_int_eq(cf->nlists, 5);
	ck_assert_int_eq(cf->relay.port, 25);
	ck_assert_int_eq(cf->relay.max_recipients, 50);
	ck_assert_int_eq(cf->queue.retry_first, 300);
	ck_assert_int_eq(cf->token_ttl, 7 * 86400);
	ck_assert_str_eq(cf->listen.v[0], "127.0.0.1:2424");
	ck_assert_str_eq(cf->language, "ja");
	ck_assert(cf->state_dir[0] == '/');
	l = config_list(cf, "setagaya");
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->scope, SCOPE_CHAPTER);
	ck_assert_str_eq(l->region, "tokyo");
	ck_assert_str_eq(l->description, "世田谷パートナーズの会");
	ck_assert_int_eq(l->policy, POLICY_MEMBERS);
	ck_assert(config_is_organizer(cf, l, "sewanin@EXAMPLE.jp"));
	ck_assert(config_is_moderator(l, "mod@example.jp"));
	ck_assert(!config_is_moderator(l, "sewanin@example.jp"));
	ck_assert_int_eq(config_list(cf, "tokyo")->scope, SCOPE_REGION);
	ck_assert_int_eq(config_list(cf, "all-members")->scope,
	    SCOPE_NETWORK);
	config_free(cf);
	free(err);
}
END_TEST

/* Each mistake is reported with its file and line. */
START_TEST(errors_name_file_and_line)
{
	struct config *cf;
	char *err = load(TU_NETWORK
	    "lists = (\n"						/* 9 */
	    "  { name = \"a\"; scope = \"chapter:tokyo/nowhere\"; },\n" /* 10 */
	    "  { name = \"b\"; scope = \"galaxy\"; },\n"		/* 11 */
	    "  { name = \"c\"; scope = \"network\";\n"		/* 12 */
	    "    moderators = [ \"not an address\" ]; },\n"		/* 13 */
	    "  { name = \"c\"; scope = \"network\"; },\n"		/* 14 */
	    "  { name = \"x-request\"; scope = \"network\"; },\n"	/* 15 */
	    "  { name = \"d\"; scope = \"region:kyushu\"; policy = \"anarchy\"; }\n"
	    ");\n"
	    "colour = \"blue\";\n", &cf);			/* 18 */

	ck_assert_ptr_null(cf);
	ck_assert_msg(strstr(err, "test.conf:10: scope \"chapter:tokyo/nowhere\"")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:11: unknown scope \"galaxy\"")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "\"not an address\" is not a mail address")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:14: duplicate list name \"c\" "
	    "(first at line 12)") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:15: list name \"x-request\" "
	    "collides") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:16: scope \"region:kyushu\"")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:16: unknown policy \"anarchy\"")
	    != NULL, "%s", err);
	ck_assert_msg(strstr(err, "test.conf:18: unknown setting \"colour\"")
	    != NULL, "%s", err);
	free(err);
}
END_TEST

START_TEST(syntax_error_has_line)
{
	struct config *cf;
	char *err = load("domain = \"x.org\";\n\nlists = ( { name = ; } );\n",
	    &cf);

	ck_assert_ptr_null(cf);
	ck_assert_msg(strstr(err, "test.conf:3:") != NULL, "%s", err);
	free(err);
	err = load("lists = ();\n", &cf);
	ck_assert_msg(strstr(err, "\"domain\" is required") != NULL, "%s",
	    err);
	free(err);
}
END_TEST

START_TEST(routes)
{
	struct config *cf;
	struct route r;
	char *err = load(TU_NETWORK TU_LISTS, &cf);

	ck_assert_str_eq(err, "");
	ck_assert_int_eq(route_lookup(cf, "setagaya@lists.example.org", &r), 0);
	ck_assert_int_eq(r.action, ROUTE_POST);
	ck_assert_str_eq(r.list->name, "setagaya");
	ck_assert_int_eq(route_lookup(cf, "<Setagaya@LISTS.example.org>",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_POST);
	ck_assert_int_eq(route_lookup(cf, "setagaya-request@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_REQUEST);
	/* A list name with a dash, and its own suffixes. */
	ck_assert_int_eq(route_lookup(cf, "all-members@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_POST);
	ck_assert_int_eq(route_lookup(cf,
	    "all-members-leave@lists.example.org", &r), 0);
	ck_assert_int_eq(r.action, ROUTE_LEAVE);
	ck_assert_str_eq(r.list->name, "all-members");
	ck_assert_int_eq(route_lookup(cf,
	    "setagaya-confirm+abcdefghijklmnopqrstuvwxyz@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_CONFIRM);
	ck_assert_str_eq(r.arg, "abcdefghijklmnopqrstuvwxyz");
	ck_assert_int_eq(route_lookup(cf, "tokyo-bounces@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_BOUNCES);
	ck_assert_int_eq(route_lookup(cf,
	    "tokyo-bounces+user=example.jp@lists.example.org", &r), 0);

	/* Not ours. */
	ck_assert_int_ne(route_lookup(cf, "nosuch@lists.example.org", &r), 0);
	ck_assert_int_ne(route_lookup(cf, "setagaya@example.org", &r), 0);
	ck_assert_int_ne(route_lookup(cf, "setagaya-confirm@lists.example.org",
	    &r), 0);
	ck_assert_int_ne(route_lookup(cf,
	    "setagaya-confirm+../x@lists.example.org", &r), 0);
	ck_assert_int_ne(route_lookup(cf,
	    "setagaya-request+x@lists.example.org", &r), 0);
	ck_assert_int_ne(route_lookup(cf, "nosuch-request@lists.example.org",
	    &r), 0);
	/* Events: LIST-events, and LIST-rsvp with an event only. */
	ck_assert_int_eq(route_lookup(cf, "setagaya-events@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_EVENTS);
	ck_assert_int_eq(route_lookup(cf, "setagaya-rsvp+E12@lists.example.org",
	    &r), 0);
	ck_assert_int_eq(r.action, ROUTE_RSVP);
	ck_assert_str_eq(r.arg, "E12");
	ck_assert_int_ne(route_lookup(cf, "setagaya-rsvp@lists.example.org",
	    &r), 0);
	ck_assert_int_ne(route_lookup(cf,
	    "setagaya-events+E1@lists.example.org", &r), 0);
	config_free(cf);
	free(err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_config_loads_with_defaults);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, syntax_error_has_line);
	tcase_add_test(tc, routes);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
