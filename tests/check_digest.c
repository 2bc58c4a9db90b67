/*
 * check_digest - digests: the MIME a member gets (parsed back with
 * libetpan), the table of contents with Japanese subjects and names
 * decoded, the configuration keys, and on a real SQLite file who gets
 * posts and who the digest, and that a digest is sent once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1		/* memmem */
#endif
#include <check.h>
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "config.h"
#include "digest.h"
#include "digest_compose.h"
#include "encword.h"
#include "members.h"
#include "message.h"
#include "outq.h"
#include "spool.h"
#include "store.h"
#include "testutil.h"

#define CONF_DIGEST							\
	TU_NETWORK							\
	"state_dir = \"%s/state\";\n"					\
	"digest = { time = \"06:30\"; max_size = 5000; };\n"		\
	"lists = (\n"							\
	"  { name = \"setagaya\"; scope = \"chapter:tokyo/setagaya\";\n" \
	"    subject_prefix = \"[世田谷]\"; },\n"			\
	"  { name = \"meguro\"; scope = \"chapter:tokyo/meguro\";\n"	\
	"    digest = { time = \"21:05\"; }; charset = \"iso-2022-jp\"; },\n" \
	"  { name = \"kita\"; scope = \"chapter:osaka/kita\";\n"	\
	"    language = \"en\"; },\n"					\
	"  { name = \"tokyo\"; scope = \"region:tokyo\"; } );\n"

/* Subject ①会場の変更 and 12月の定例会のお知らせ in ISO-2022-JP words. */
static const char post_jis[] =
    "From: =?ISO-2022-JP?B?GyRCQCRFREMrGyhCIBskQjJWO1IbKEI=?= "
    "<hanako@example.jp>\n"
    "To: setagaya@lists.example.org\n"
    "Subject: [世田谷] =?ISO-2022-JP?B?MTIbJEI3biRORGpOYzJxJE4kKkNOJGkkOxsoQg==?=\n"
    "Message-ID: <p1@example.jp>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=ISO-2022-JP\n"
    "\n"
    "\033$B$3$s$K$A$O\033(B\n";
static const char post_cp50220[] =
    "From: taro@example.jp\n"
    "Subject: =?ISO-2022-JP?B?GyRCLSEycT5sJE5KUTk5GyhC?=\n"
    "Message-ID: <p2@example.jp>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=Shift_JIS\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "\x96{\x95\xb6\x82\xc5\x82\xb7\x81\x42\n";
static const char post_plain[] =
    "From: Jiro <jiro@example.jp>\n"
    "Subject: Minutes\n"
    "Message-ID: <p3@example.jp>\n"
    "\n"
    "See you.\n--digest-lookalike\n";

static char		*dir;
static struct config	*cf;

static void
setup(void)
{
	struct buf conf = BUF_INIT, errors = BUF_INIT;
	char *path;

	dir = tu_tmpdir();
	ck_assert_ptr_nonnull(dir);
	buf_printf(&conf, CONF_DIGEST, dir);
	path = tu_write(dir, "c.conf", buf_cstr(&conf));
	if (config_load(path, &cf, &errors) != 0)
		ck_abort_msg("config: %s", buf_cstr(&errors));
	free(path);
	buf_free(&conf);
	buf_free(&errors);
}

static void
teardown(void)
{
	config_free(cf);
	tu_rmdir(dir);
	free(dir);
}

/* The body of a single part, transfer-decoded by libetpan. */
static char *
part_text(struct mailmime *m)
{
	struct mailmime_data *d = m->mm_data.mm_single;
	size_t idx = 0, len;
	char *out, *copy;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, d->dt_encoding, &out, &len),
	    MAILIMF_NO_ERROR);
	copy = strndup(out, len);
	mailmime_decoded_part_free(out);
	return copy;
}

static const char *
subtype(struct mailmime *m)
{
	return m->mm_content_type ? m->mm_content_type->ct_subtype : "";
}

static struct mailmime *
nth(struct mailmime *multi, int n)
{
	clistiter *it = clist_begin(multi->mm_data.mm_multipart.mm_mp_list);

	while (n-- > 0 && it)
		it = clist_next(it);
	ck_assert_ptr_nonnull(it);
	return clist_content(it);
}

START_TEST(test_mime_structure)
{
	struct digest_post p[3] = {
		{ post_jis, sizeof(post_jis) - 1, 1764900000 },
		{ post_cp50220, sizeof(post_cp50220) - 1, 1764903600 },
		{ post_plain, sizeof(post_plain) - 1, 1764907200 },
	};
	const struct list *l = config_list(cf, "setagaya");
	struct mailmime *root, *mime, *toc, *dg;
	struct buf out = BUF_INIT;
	size_t idx = 0;
	char *text, *subj;

	ck_assert_int_eq(digest_compose(&out, cf, l, "00000000000000000042",
	    7, 1764910800, p, 3), 0);
	ck_assert_int_eq(mailmime_parse(out.data, out.len, &idx, &root),
	    MAILIMF_NO_ERROR);
	/* The whole mail: list fields, prefix once, multipart/mixed. */
	ck_assert_ptr_nonnull(strstr(out.data, "List-Id: "));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "List-Unsubscribe: <mailto:setagaya-leave@lists.example.org>"));
	ck_assert_ptr_nonnull(strstr(out.data,
	    "Message-ID: <00000000000000000042.mlserver@lists.example.org>"));
	subj = message_header_get(out.data, out.len, "Subject");
	ck_assert_ptr_nonnull(subj);
	{
		struct buf dec = BUF_INIT;

		ck_assert_int_eq(encword_decode(subj, &dec), 0);
		ck_assert_str_eq(buf_cstr(&dec),
		    "[世田谷] まとめ読み 2025-12-05 第7号（3件）");
		buf_free(&dec);
	}
	free(subj);
	mime = root->mm_data.mm_message.mm_msg_mime;
	ck_assert_int_eq(mime->mm_type, MAILMIME_MULTIPLE);
	ck_assert_str_eq(subtype(mime), "mixed");
	ck_assert_int_eq(clist_count(mime->mm_data.mm_multipart.mm_mp_list),
	    2);
	toc = nth(mime, 0);
	dg = nth(mime, 1);
	ck_assert_int_eq(toc->mm_type, MAILMIME_SINGLE);
	ck_assert_str_eq(subtype(toc), "plain");
	ck_assert_int_eq(dg->mm_type, MAILMIME_MULTIPLE);
	ck_assert_str_eq(subtype(dg), "digest");
	ck_assert_int_eq(clist_count(dg->mm_data.mm_multipart.mm_mp_list), 3);
	/* Each part a whole message: its own fields and its body intact. */
	for (int i = 0; i < 3; i++) {
		struct mailmime *m = nth(dg, i);
		struct mailimf_fields *f;
		clistiter *it;
		int found = 0;

		ck_assert_int_eq(m->mm_type, MAILMIME_MESSAGE);
		f = m->mm_data.mm_message.mm_fields;
		ck_assert_ptr_nonnull(f);
		for (it = clist_begin(f->fld_list); it; it = clist_next(it)) {
			struct mailimf_field *fl = clist_content(it);

			if (fl->fld_type == MAILIMF_FIELD_MESSAGE_ID) {
				char want[32];

				snprintf(want, sizeof(want), "p%d@example.jp",
				    i + 1);
				ck_assert_str_eq(fl->fld_data.fld_message_id->
				    mid_value, want);
				found = 1;
			}
		}
		ck_assert(found);
	}
	ck_assert_ptr_nonnull(memmem(out.data, out.len, "\x96{\x95\xb6", 4));
	ck_assert_ptr_nonnull(strstr(out.data, "\n--digest-lookalike\n"));
	/* The contents: decoded subjects and senders, in order. */
	text = part_text(toc);
	ck_assert_ptr_nonnull(strstr(text, "世田谷パートナーズの会のまとめ読み"));
	ck_assert_ptr_nonnull(strstr(text, "■ 目次"));
	ck_assert_ptr_nonnull(strstr(text,
	    "1. [世田谷] 12月の定例会のお知らせ\n"
	    "    世田谷 花子 <hanako@example.jp>（2025-12-05 11:00）\n"));
	ck_assert_ptr_nonnull(strstr(text, "2. ①会場の変更\n"
	    "    <taro@example.jp>（2025-12-05 12:00）\n"));
	ck_assert_ptr_nonnull(strstr(text, "3. Minutes\n"
	    "    Jiro <jiro@example.jp>（2025-12-05 13:00）\n"));
	ck_assert_ptr_nonnull(strstr(text, "setagaya-request@lists.example.org"));
	free(text);
	mailmime_free(root);
	buf_free(&out);
}
END_TEST

/* A list for phones that want ISO-2022-JP gets its digest's contents and
 * header in it; the posts inside stay as they were sent. */
START_TEST(test_toc_list_charset)
{
	struct digest_post p[1] = {
		{ post_jis, sizeof(post_jis) - 1, 1764900000 },
	};
	struct mailmime *root, *toc;
	struct mailmime_parameter *param = NULL;
	struct buf out = BUF_INIT, utf8 = BUF_INIT;
	size_t idx = 0;
	char *text, *subj;
	clistiter *it;

	ck_assert_int_eq(digest_compose(&out, cf, config_list(cf, "meguro"),
	    "00000000000000000043", 1, 1764910800, p, 1), 0);
	subj = message_header_get(out.data, out.len, "Subject");
	ck_assert_ptr_nonnull(strstr(subj, "=?ISO-2022-JP?"));
	free(subj);
	ck_assert_int_eq(mailmime_parse(out.data, out.len, &idx, &root),
	    MAILIMF_NO_ERROR);
	toc = nth(root->mm_data.mm_message.mm_msg_mime, 0);
	for (it = clist_begin(toc->mm_content_type->ct_parameters); it;
	    it = clist_next(it)) {
		param = clist_content(it);
		if (strcasecmp(param->pa_name, "charset") == 0)
			break;
	}
	ck_assert_ptr_nonnull(it);
	ck_assert_int_eq(strcasecmp(param->pa_value, "iso-2022-jp"), 0);
	text = part_text(toc);
	ck_assert_ptr_nonnull(strchr(text, 0x1b));	/* JIS escapes */
	ck_assert_int_eq(charset_to_utf8("ISO-2022-JP", text, strlen(text),
	    &utf8), 0);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&utf8), "■ 目次"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&utf8), "1. [世田谷] 12月の定例会のお知らせ"));
	free(text);
	buf_free(&utf8);
	mailmime_free(root);
	buf_free(&out);
}
END_TEST

START_TEST(test_toc_english)
{
	struct digest_post p[1] = {
		{ post_jis, sizeof(post_jis) - 1, 1764900000 },
	};
	struct buf toc = BUF_INIT;

	digest_toc(&toc, cf, config_list(cf, "kita"), p, 1);
	ck_assert_str_eq(buf_cstr(&toc),
	    "1. [世田谷] 12月の定例会のお知らせ\n"
	    "    世田谷 花子 <hanako@example.jp> (2025-12-05 11:00)\n");
	buf_free(&toc);
}
END_TEST

START_TEST(test_config_keys)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "digest = { time = \"25:00\"; };\n", "c.conf:2: \"time\"" },
		{ "digest = { time = \"7\"; };\n", "c.conf:2: \"time\"" },
		{ "digest = { max_size = 10; };\n", "c.conf:2: \"max_size\"" },
		{ "digest = { when = \"07:00\"; };\n", "c.conf:2: \"digest\"" },
		{ "digest = \"07:00\";\n", "c.conf:2: \"digest\"" },
	};
	const struct list *l;

	/* Inherited, and overridden key by key. */
	ck_assert_int_eq(cf->digest.minute, 6 * 60 + 30);
	ck_assert_int_eq(cf->digest.max_size, 5000);
	l = config_list(cf, "meguro");
	ck_assert_int_eq(l->digest.minute, 21 * 60 + 5);
	ck_assert_int_eq(l->digest.max_size, 5000);
	ck_assert_int_eq(config_list(cf, "kita")->digest.minute, 390);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf conf = BUF_INIT, errors = BUF_INIT;
		struct config *c2 = NULL;
		char *path;

		buf_printf(&conf, "domain = \"example.org\";\n%s",
		    bad[i].text);
		path = tu_write(dir, "c.conf", buf_cstr(&conf));
		ck_assert_int_ne(config_load(path, &c2, &errors), 0);
		ck_assert_msg(strstr(buf_cstr(&errors), bad[i].want) != NULL,
		    "%s: %s", bad[i].text, buf_cstr(&errors));
		free(path);
		buf_free(&conf);
		buf_free(&errors);
	}
}
END_TEST

struct rcpts {
	char	 v[16][64];
	int	 n;
};

static void
queued(struct store *st, const char *id, struct rcpts *r)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT rcpt FROM outq WHERE "
	    "msg = ?1 ORDER BY rcpt");

	r->n = 0;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW && r->n < 16)
		snprintf(r->v[r->n++], 64, "%s", sqlite3_column_text(s, 0));
	sqlite3_reset(s);
}

static void
set_mode(struct store *st, const char *list, const char *addr,
    enum member_mode mode)
{
	ck_assert_int_ge(members_add(st, list, addr, ""), 0);
	ck_assert_int_ge(members_set_mode(st, list, addr, mode), 0);
}

START_TEST(test_modes_and_once)
{
	const struct list *tokyo = config_list(cf, "tokyo");
	struct store *st;
	struct rcpts r;
	long long n;
	char id[SPOOL_ID_LEN + 1];

	ck_assert_int_eq(spool_init(cf->state_dir), 0);
	ck_assert_int_eq(store_open_config(cf, &st), 0);
	ck_assert_int_eq(store_sync_lists(st, cf), 0);
	set_mode(st, "setagaya", "normal@example.jp", MEMBER_NORMAL);
	set_mode(st, "setagaya", "d1@example.jp", MEMBER_DIGEST);
	set_mode(st, "meguro", "d1@example.jp", MEMBER_DIGEST);
	set_mode(st, "meguro", "mixed@example.jp", MEMBER_NORMAL);
	set_mode(st, "setagaya", "mixed@example.jp", MEMBER_DIGEST);
	set_mode(st, "tokyo", "own@example.jp", MEMBER_DIGEST);
	set_mode(st, "setagaya", "own@example.jp", MEMBER_NORMAL);
	set_mode(st, "kita", "far@example.jp", MEMBER_DIGEST);
	set_mode(st, "tokyo", "off@example.jp", MEMBER_NOMAIL);
	set_mode(st, "setagaya", "off@example.jp", MEMBER_DIGEST);

	/* Per post: normal on some reaching membership, not digest here. */
	ck_assert_int_eq(outq_message_add(st, "00000000000000000001",
	    "tokyo", "post", "b@x"), 0);
	n = outq_fanout_mode(st, "00000000000000000001", "tokyo", "normal");
	ck_assert_int_eq(n, 2);
	queued(st, "00000000000000000001", &r);
	ck_assert_str_eq(r.v[0], "mixed@example.jp");
	ck_assert_str_eq(r.v[1], "normal@example.jp");
	/* The chapter list itself: mixed reads setagaya as a digest. */
	ck_assert_int_eq(outq_message_add(st, "00000000000000000002",
	    "setagaya", "post", "b@x"), 0);
	ck_assert_int_eq(outq_fanout_mode(st, "00000000000000000002",
	    "setagaya", "normal"), 2);
	queued(st, "00000000000000000002", &r);
	ck_assert_str_eq(r.v[0], "normal@example.jp");
	ck_assert_str_eq(r.v[1], "own@example.jp");

	/* Posts kept only for a list with digest readers; sent once. */
	ck_assert_int_eq(store_begin(st), 0);
	ck_assert_int_eq(digest_record(st, cf, tokyo, "00000000000000000001",
	    post_plain, sizeof(post_plain) - 1), 0);
	ck_assert_int_eq(digest_record(st, cf, tokyo, "00000000000000000003",
	    post_jis, sizeof(post_jis) - 1), 0);
	ck_assert_int_eq(digest_send_list(st, cf, tokyo, "now", 1764910800,
	    &n), 2);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(digest_send_list(st, cf, tokyo, "now", 1764910800,
	    &n), 0);
	ck_assert_int_eq(store_commit(st), 0);
	{
		sqlite3_stmt *s = store_stmt(st, "SELECT id, seq, posts "
		    "FROM digests WHERE list = 'tokyo'");

		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		snprintf(id, sizeof(id), "%s", sqlite3_column_text(s, 0));
		ck_assert_int_eq(sqlite3_column_int(s, 1), 1);
		ck_assert_int_eq(sqlite3_column_int(s, 2), 2);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_DONE);
		sqlite3_reset(s);
	}
	/* d1 once though digest on two chapters; own by its own mode. */
	queued(st, id, &r);
	ck_assert_int_eq(r.n, 2);
	ck_assert_str_eq(r.v[0], "d1@example.jp");
	ck_assert_str_eq(r.v[1], "own@example.jp");
	store_close(st);
}
END_TEST

static Suite *
digest_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("digest");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mime_structure);
	tcase_add_test(tc, test_toc_english);
	tcase_add_test(tc, test_toc_list_charset);
	tcase_add_test(tc, test_config_keys);
	tcase_add_test(tc, test_modes_and_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_run(digest_suite());
}
