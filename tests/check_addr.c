/*
 * Unit tests: envelope addresses (addr.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "testutil.h"

START_TEST(canon_lowercases_domain_only)
{
	char out[ADDR_MAX + 1];

	ck_assert_int_eq(addr_canon(" <Taro.Yamada@Example.JP> ", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "Taro.Yamada@example.jp");
	ck_assert_int_eq(addr_canon("user+tag@sub.example.org", out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, "user+tag@sub.example.org");
	ck_assert_int_eq(addr_canon("\"quoted local\"@example.jp", out,
	    sizeof(out)), 0);
	ck_assert_int_eq(addr_canon("user@[192.0.2.1]", out, sizeof(out)), 0);
}
END_TEST

START_TEST(canon_rejects_bad_addresses)
{
	static const char *const bad[] = {
		"", "<>", "no-at-sign", "@example.jp", "user@", "user@@x.jp",
		"us er@example.jp", ".user@example.jp", "user.@example.jp",
		"a..b@example.jp", "user@-bad.jp", "user@bad-.jp",
		"user@exa mple.jp", "user@example..jp", "user@example.jp\r\n",
		"ユーザー@example.jp", "user@例え.jp", "user\n@example.jp",
		"\"unterminated@example.jp", NULL
	};
	char out[ADDR_MAX + 1];

	for (int i = 0; bad[i]; i++)
		ck_assert_msg(addr_canon(bad[i], out, sizeof(out)) != 0,
		    "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(canon_respects_length_limits)
{
	char local[70], longaddr[300], out[ADDR_MAX + 1];

	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(longaddr, sizeof(longaddr), "%s@example.jp", local);
	ck_assert_int_ne(addr_canon(longaddr, out, sizeof(out)), 0);
	local[64] = '\0';
	snprintf(longaddr, sizeof(longaddr), "%s@example.jp", local);
	ck_assert_int_eq(addr_canon(longaddr, out, sizeof(out)), 0);
	/* Never past the caller's buffer. */
	ck_assert_int_ne(addr_canon(longaddr, out, 10), 0);
}
END_TEST

START_TEST(same_mailbox)
{
	ck_assert(addr_same("Taro@Example.JP", "Taro@example.jp"));
	ck_assert(!addr_same("taro@example.jp", "Taro@example.jp"));
	ck_assert(!addr_same("taro@example.jp", "taro@example.org"));
}
END_TEST

START_TEST(mentioned_as_a_whole)
{
	ck_assert(addr_mentioned("ya@lists.example.org", "ya@lists.example.org"));
	ck_assert(addr_mentioned("<YA@Lists.Example.org>, b@c.jp",
	    "ya@lists.example.org"));
	ck_assert(!addr_mentioned("setagaya@lists.example.org",
	    "ya@lists.example.org"));
	ck_assert(!addr_mentioned("ya@lists.example.org.evil.jp",
	    "ya@lists.example.org"));
	ck_assert(!addr_mentioned("", "ya@lists.example.org"));
	ck_assert(!addr_mentioned("ya@lists.example.org", ""));
	ck_assert_str_eq(addr_domain("a@b.jp"), "b.jp");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, canon_lowercases_domain_only);
	tcase_add_test(tc, canon_rejects_bad_addresses);
	tcase_add_test(tc, canon_respects_length_limits);
	tcase_add_test(tc, same_mailbox);
	tcase_add_test(tc, mentioned_as_a_whole);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
