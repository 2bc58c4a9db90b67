/*
 * check_mailbox - the common take path of mailbox.c on a real spool and
 * SQLite file, without a server: which list a message is for, its
 * envelope, and how rows a crash left behind are settled (committed:
 * only removed; not committed: fetched again).  Also the "mailboxes"
 * configuration: defaults and every mistake with its line.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mailbox.h"
#include "mailbox_private.h"
#include "spool.h"
#include "store.h"
#include "testutil.h"

#define MSG(headers)							\
	headers								\
	"From: =?UTF-8?B?55Sw5Lit?= <Tanaka@Example.JP>\r\n"		\
	"To: lists@hosted.example.jp\r\n"				\
	"Subject: test\r\n"						\
	"\r\n"								\
	"本文です。\r\n"

static char		*dir;
static struct config	*cf;
static struct store	*st;
static struct mailbox_run run;

static void
setup_with(const char *mailboxes)
{
	struct buf errors = BUF_INIT;
	char *text, *path;

	ck_assert_ptr_nonnull(dir = tu_tmpdir());
	ck_assert_int_ge(asprintf(&text, "%sstate_dir = \"%s\";\n%s%s",
	    TU_NETWORK, dir, TU_LISTS, mailboxes), 0);
	path = tu_write(dir, "mlserver.conf", text);
	free(text);
	ck_assert_msg(config_load(path, &cf, &errors) == 0, "%s",
	    buf_cstr(&errors));
	buf_free(&errors);
	free(path);
	ck_assert_int_eq(spool_init(cf->state_dir), 0);
	ck_assert_int_eq(store_open_config(cf, &st), 0);
	memset(&run, 0, sizeof(run));
	run.cf = cf;
	run.mc = &cf->mailboxes[0];
	run.st = st;
	ck_assert_int_eq(pipe(run.wake), 0);
}

static void
setup_plain(void)
{
	setup_with("mailboxes = ( { type = \"maildir\"; path = \"/x\"; } );\n");
}

static void
setup_address(void)
{
	setup_with("mailboxes = ( { type = \"maildir\"; path = \"/x\"; "
	    "address = \"Meguro@lists.example.org\"; } );\n");
}

static void
teardown(void)
{
	close(run.wake[0]);
	close(run.wake[1]);
	store_close(st);
	config_free(cf);
	tu_rmdir(dir);
	free(dir);
}

/* The single file in spool/new: its envelope, or fails. */
static void
only_spooled(struct spool_envelope *env, char id[SPOOL_ID_LEN + 1])
{
	sqlite3_stmt *s = store_stmt(st, "SELECT spool_id FROM mailbox_seen "
	    "WHERE state = 1");
	char *path, *msg;
	size_t len;

	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	snprintf(id, SPOOL_ID_LEN + 1, "%s", sqlite3_column_text(s, 0));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
	sqlite3_reset(s);
	path = spool_path(cf->state_dir, "new", id);
	ck_assert_int_eq(spool_read(path, env, &msg, &len), 0);
	ck_assert_ptr_nonnull(strstr(msg, "本文です。"));
	free(msg);
	free(path);
}

START_TEST(delivered_to_routes_and_return_path_is_sender)
{
	const char *m = MSG("Delivered-To: meguro-request@Lists.Example.ORG\r\n"
	    "Return-Path: <Hanako@Example.JP>\r\n");
	struct spool_envelope env;
	char id[SPOOL_ID_LEN + 1];

	ck_assert_int_eq(mailbox_seen(&run, "u1"), MAILBOX_NEW);
	ck_assert_int_eq(mailbox_take(&run, "u1", m, strlen(m)), 0);
	ck_assert_int_eq(mailbox_seen(&run, "u1"), MAILBOX_TAKEN);
	only_spooled(&env, id);
	ck_assert_uint_eq(env.nrcpts, 1);
	ck_assert_str_eq(env.rcpts[0], "meguro-request@lists.example.org");
	ck_assert_str_eq(env.sender, "Hanako@example.jp");
	spool_envelope_free(&env);
	ck_assert_int_eq(mailbox_removed(&run, "u1"), 0);
	ck_assert_int_eq(mailbox_seen(&run, "u1"), MAILBOX_REMOVED);
}
END_TEST

START_TEST(foreign_delivered_to_falls_back_to_address_and_from)
{
	/* The provider's own address is not ours; X-Original-To is. */
	const char *m = MSG("Delivered-To: lists@hosted.example.jp\r\n");
	struct spool_envelope env;
	char id[SPOOL_ID_LEN + 1];

	ck_assert_int_eq(mailbox_take(&run, "u2", m, strlen(m)), 0);
	only_spooled(&env, id);
	/* Canonical as over LMTP: the local part keeps its case. */
	ck_assert_str_eq(env.rcpts[0], "Meguro@lists.example.org");
	ck_assert_str_eq(env.sender, "Tanaka@example.jp");
	spool_envelope_free(&env);
}
END_TEST

START_TEST(x_original_to_routes)
{
	const char *m = MSG("Delivered-To: lists@hosted.example.jp\r\n"
	    "X-Original-To: kita-join@lists.example.org\r\n");
	struct spool_envelope env;
	char id[SPOOL_ID_LEN + 1];

	ck_assert_int_eq(mailbox_take(&run, "u3", m, strlen(m)), 0);
	only_spooled(&env, id);
	ck_assert_str_eq(env.rcpts[0], "kita-join@lists.example.org");
	spool_envelope_free(&env);
}
END_TEST

START_TEST(unroutable_is_skipped_and_stays_skipped)
{
	const char *m = MSG("Delivered-To: lists@hosted.example.jp\r\n");
	DIR *d;
	struct dirent *e;
	char *new;
	int files = 0;

	ck_assert_int_eq(mailbox_take(&run, "u4", m, strlen(m)), 1);
	ck_assert_int_eq(mailbox_seen(&run, "u4"), MAILBOX_SKIPPED);
	ck_assert_int_ge(asprintf(&new, "%s/spool/new", cf->state_dir), 0);
	ck_assert_ptr_nonnull(d = opendir(new));
	free(new);
	while ((e = readdir(d)) != NULL)
		files += e->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(files, 0);
}
END_TEST

/* A crash after the commit, before TAKEN: the message is ours. */
START_TEST(storing_row_with_committed_file_counts_as_taken)
{
	const char *m = MSG("Delivered-To: meguro@lists.example.org\r\n");
	sqlite3_stmt *s;

	ck_assert_int_eq(mailbox_take(&run, "u5", m, strlen(m)), 0);
	s = store_stmt(st, "UPDATE mailbox_seen SET state = 0");
	ck_assert_int_eq(store_step_done(st, s), 0);
	ck_assert_int_eq(mailbox_seen(&run, "u5"), MAILBOX_TAKEN);
}
END_TEST

/* A crash before the commit: nothing was accepted, fetch it again. */
START_TEST(storing_row_without_file_is_fetched_again)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO mailbox_seen (mailbox, "
	    "uid, spool_id, state, updated) VALUES (?1, 'u6', "
	    "'0123456789ABCDEF0123', 0, 0)");

	sqlite3_bind_text(s, 1, run.mc->name, -1, SQLITE_STATIC);
	ck_assert_int_eq(store_step_done(st, s), 0);
	ck_assert_int_eq(mailbox_seen(&run, "u6"), MAILBOX_NEW);
	ck_assert_int_eq(mailbox_seen(&run, "u6"), MAILBOX_NEW);
}
END_TEST

/* Processed and unlinked already: the processed table tells. */
START_TEST(storing_row_already_processed_counts_as_taken)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO mailbox_seen (mailbox, "
	    "uid, spool_id, state, updated) VALUES (?1, 'u7', "
	    "'0123456789ABCDEF0124', 0, 0)");

	sqlite3_bind_text(s, 1, run.mc->name, -1, SQLITE_STATIC);
	ck_assert_int_eq(store_step_done(st, s), 0);
	ck_assert_int_eq(store_exec(st, "INSERT INTO processed (id, done, "
	    "updated) VALUES ('0123456789ABCDEF0124', 1, 0)"), 0);
	ck_assert_int_eq(mailbox_seen(&run, "u7"), MAILBOX_TAKEN);
}
END_TEST

START_TEST(conf_defaults_and_mistakes)
{
	struct buf errors = BUF_INIT;
	struct config *c;
	char *d = tu_tmpdir(), *text, *path;

	ck_assert_int_ge(asprintf(&text, "%sstate_dir = \"%s\";\n%s"
	    "mailboxes = (\n"
	    "  { type = \"imap\"; host = \"h\"; tls = true; user = \"u\";\n"
	    "    password_file = \"/pw\"; },\n"
	    "  { type = \"pop3\"; host = \"h\"; user = \"u\";\n"
	    "    password_file = \"/pw\"; } );\n", TU_NETWORK, d, TU_LISTS), 0);
	path = tu_write(d, "ok.conf", text);
	free(text);
	ck_assert_msg(config_load(path, &c, &errors) == 0, "%s",
	    buf_cstr(&errors));
	free(path);
	ck_assert_uint_eq(c->nmailboxes, 2);
	ck_assert_int_eq(c->mailboxes[0].port, 993);
	ck_assert_str_eq(c->mailboxes[0].folder, "INBOX");
	ck_assert_int_eq(c->mailboxes[0].idle, 1);
	ck_assert_int_eq(c->mailboxes[0].after, MAILBOX_DELETE);
	ck_assert_str_eq(c->mailboxes[0].name, "imaps://u@h:993/INBOX");
	ck_assert_int_eq(c->mailboxes[1].port, 110);
	ck_assert_int_eq(c->mailboxes[1].interval, 60);
	config_free(c);

	ck_assert_int_ge(asprintf(&text, "%sstate_dir = \"%s\";\n%s"
	    "mailboxes = (\n"
	    "  { type = \"imap\"; host = \"h\"; user = \"u\";\n"
	    "    password_file = \"/pw\"; after = \"move\"; },\n"
	    "  { type = \"maildir\"; path = \"/m\";\n"
	    "    address = \"someone@example.jp\"; } );\n", TU_NETWORK, d,
	    TU_LISTS), 0);
	path = tu_write(d, "bad.conf", text);
	free(text);
	ck_assert_int_eq(config_load(path, &c, &errors), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&errors), "bad.conf:"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&errors), "needs \"move_to\""));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&errors),
	    "\"someone@example.jp\" is not one of the lists' addresses"));
	free(path);
	buf_free(&errors);
	tu_rmdir(d);
	free(d);
}
END_TEST

static Suite *
mailbox_suite(void)
{
	Suite *s = suite_create("mailbox");
	TCase *plain = tcase_create("take"), *addr = tcase_create("address");
	TCase *conf = tcase_create("conf");

	tcase_add_checked_fixture(plain, setup_plain, teardown);
	tcase_add_test(plain, delivered_to_routes_and_return_path_is_sender);
	tcase_add_test(plain, x_original_to_routes);
	tcase_add_test(plain, unroutable_is_skipped_and_stays_skipped);
	tcase_add_test(plain, storing_row_with_committed_file_counts_as_taken);
	tcase_add_test(plain, storing_row_without_file_is_fetched_again);
	tcase_add_test(plain, storing_row_already_processed_counts_as_taken);
	tcase_add_checked_fixture(addr, setup_address, teardown);
	tcase_add_test(addr,
	    foreign_delivered_to_falls_back_to_address_and_from);
	tcase_add_test(conf, conf_defaults_and_mistakes);
	suite_add_tcase(s, plain);
	suite_add_tcase(s, addr);
	suite_add_tcase(s, conf);
	return s;
}

int
main(void)
{
	return tu_run(mailbox_suite());
}
