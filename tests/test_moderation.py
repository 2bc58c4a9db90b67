#!/usr/bin/python3
"""test_moderation - held posts and filters, by mail and by mlserverctl.

Everything goes through the real daemon: posts and the moderators'
replies arrive over LMTP, and what the members, the moderator and the
poster receive is read from smtp-sink's dump.  Checked as a list owner
who knows Mailman would: a held post reaches the moderator with the post
attached and three addresses to act with; replying approves; rejecting
tells the poster; "approve and allow" lets the sender through from then
on; a post nobody handles expires and its poster is told; filters hold,
reject, discard and clean up as configured.
"""

import collections
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    default_lists, make_message, wait_until)

M = MEMBER_DOMAIN
MOD = "sewanin@" + M
STRANGER = "stranger@" + M
MEMBER = "member@" + M
CONFIRM = re.compile(r"([a-z0-9._-]+-confirm\+[a-z2-7]+@%s)"
    % re.escape(LIST_DOMAIN))


def lists_with(**changes):
    """default_lists() with some lists' settings replaced or added."""
    out = []
    for lst in default_lists():
        lst = dict(lst)
        lst.update(changes.get(lst["name"], {}))
        out.append(lst)
    return tuple(out)


class Moderation(unittest.TestCase):

    config = {}

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, config=dict(self.config))
        self.addCleanup(self.d.close)
        r = self.d.ctl("add", "setagaya", MEMBER)
        self.assertEqual(r.returncode, 0, r.stderr)

    def fail_log(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def post(self, rcpt, sender, subject, body="本文です。\n", **kw):
        msg = make_message(sender, rcpt, subject, body, **kw)
        r = self.d.lmtp_send([rcpt], msg, sender=sender)
        self.assertEqual(r[rcpt][0], 250, r)
        return msg

    def mails_to(self, addr, n=1, timeout=20, what=None):
        """Wait until addr got n messages (matching what); return them."""
        def pick(ms):
            return [m for m in ms if addr in m.rcpts and
                (what is None or what(m))]
        try:
            self.sink.wait_for(lambda ms: len(pick(ms)) >= n,
                timeout=timeout)
        except TimeoutError:
            self.fail_log("expected %d message(s) to %s, have %r"
                % (n, addr, pick(self.sink.messages())))
        return pick(self.sink.messages())

    def notice(self, n=1):
        """The n-th held notice to the moderator, and its addresses."""
        m = self.mails_to(MOD, n, what=lambda m: "承認待ち" in
            (m.decoded_subject() or ""))[n - 1]
        addrs = CONFIRM.findall(m.body_text())
        self.assertEqual(len(addrs), 3, m.body_text())
        return m, addrs

    def held(self, listname=None):
        r = self.d.ctl("held", *([listname] if listname else []))
        self.assertEqual(r.returncode, 0, r.stderr)
        return [line.split()[0] for line in r.stdout.splitlines()]

    def reply(self, to, body="よろしくお願いします。\n", sender=MOD):
        self.post(to, sender, "Re: 承認待ちの投稿があります", body)

    # ------------------------------------------------------------ by mail

    def test_hold_notice_approve_by_reply(self):
        original = self.post("setagaya@" + LIST_DOMAIN, STRANGER,
            "はじめまして", "初めて投稿します。①㈱\n", charset="iso-2022-jp")
        m, (approve, reject, allow) = self.notice()
        # The notice: reason, the post attached, three addresses of
        # their own, and replying approves.
        self.assertIn("メンバー以外", m.body_text())
        self.assertIn(STRANGER, m.body_text())
        self.assertEqual(m.header("Reply-To"), "<%s>" % approve)
        self.assertEqual(len({approve, reject, allow}), 3)
        self.assertIn("auto-generated", m.header("Auto-Submitted"))
        attached = [p for p in m.headers.walk()
            if p.get_content_type() == "message/rfc822"]
        self.assertEqual(len(attached), 1)
        self.assertIn(b"Subject: =?ISO-2022-JP?B?", m.raw)
        # The poster is told it waits; the members get nothing yet.
        told = self.mails_to(STRANGER)[0]
        self.assertIn("承認をお待ち", told.body_text())
        # A non-member is told how joining lets the next post through.
        self.assertIn("メンバーになると", told.body_text())
        self.assertIn("setagaya-join@" + LIST_DOMAIN, told.body_text())
        self.assertNotIn(MEMBER, self.sink.rcpt_counts())
        self.assertEqual(len(self.held("setagaya")), 1)

        self.reply(approve)
        post = self.mails_to(MEMBER)[0]
        self.assertEqual(post.decoded_subject(), "[世田谷] はじめまして")
        self.assertIn("①㈱", post.body_text())
        body = original.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")
        self.assertTrue(post.raw.endswith(body))
        done = self.mails_to(MOD, what=lambda m: "承認し、配信しました"
            in m.body_text())
        self.assertEqual(len(done), 1)
        self.assertEqual(self.held(), [])
        # The other addresses now do nothing but say so.
        self.reply(reject)
        self.mails_to(MOD, what=lambda m: "すでに処理" in m.body_text())
        self.assertEqual(self.sink.rcpt_counts()[MEMBER], 1)
        self.assertEqual(len([m for m in self.sink.messages()
            if STRANGER in m.rcpts]), 1)

    def test_reply_saying_reject_rejects(self):
        # A reply goes to the approve address, but its first line says
        # no (above the quoted notice, as phones write): rejected.
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "宣伝です")
        m, (approve, reject, allow) = self.notice()
        self.reply(approve, "\u3000却下でお願いします。\n\n"
            "> setagaya への投稿を保留しました。\n")
        self.mails_to(MOD, what=lambda m: "却下しました" in m.body_text())
        told = self.mails_to(STRANGER, 2)[1]
        self.assertIn("配信されませんでした", told.decoded_subject())
        self.assertEqual(self.held(), [])
        self.assertNotIn(MEMBER, self.sink.rcpt_counts())

    def test_reject_tells_poster(self):
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "宣伝です")
        _, (approve, reject, allow) = self.notice()
        self.reply(reject)
        told = self.mails_to(STRANGER, 2)[1]
        self.assertIn("配信されませんでした", told.decoded_subject())
        self.assertIn("宣伝です", told.body_text())
        self.assertIn("理由: モデレーター", told.body_text())
        self.assertIn("message/rfc822", [p.get_content_type()
            for p in told.headers.walk()])
        self.mails_to(MOD, what=lambda m: "却下しました" in m.body_text())
        self.assertEqual(self.held(), [])
        self.assertNotIn(MEMBER, self.sink.rcpt_counts())

    def test_allow_sender(self):
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "一通目")
        _, (approve, reject, allow) = self.notice()
        self.reply(allow)
        self.mails_to(MEMBER)
        self.mails_to(MOD, what=lambda m: "承認なしで配信" in m.body_text())
        # From now on straight through: no new notice, no hold.
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "二通目")
        posts = self.mails_to(MEMBER, 2)
        self.assertEqual(posts[1].decoded_subject(), "[世田谷] 二通目")
        self.assertEqual(self.held(), [])
        self.assertEqual(len([m for m in self.sink.messages() if MOD in
            m.rcpts and "承認待ち" in m.decoded_subject()]), 1)
        # Only on that list.
        db = self.d.db()
        rows = db.execute("SELECT list, addr FROM mod_allowed").fetchall()
        db.close()
        self.assertEqual(rows, [("setagaya", STRANGER)])

    def test_token_is_the_moderators_only(self):
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "自分で承認")
        _, (approve, reject, allow) = self.notice()
        # The poster found the address: it is not theirs to use.
        self.reply(approve, sender=STRANGER)
        bad = self.mails_to(STRANGER, 2)[1]
        self.assertIn("無効", bad.body_text())
        self.assertEqual(len(self.held()), 1)
        self.assertNotIn(MEMBER, self.sink.rcpt_counts())
        # ...and the moderator's is still good.
        self.reply(approve)
        self.mails_to(MEMBER)

    def test_poster_told_once_a_day(self):
        for i in range(3):
            self.post("setagaya@" + LIST_DOMAIN, STRANGER, "投稿%d" % i)
        self.notice(3)
        wait_until(lambda: len(self.held()) == 3, 10, what="3 held")
        told = [m for m in self.sink.messages() if STRANGER in m.rcpts]
        self.assertEqual(len(told), 1, told)

    # ------------------------------------------------------------ mlserverctl

    def test_ctl_approve_and_reject(self):
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "一つ目")
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "二つ目")
        self.notice(2)
        held = self.held("setagaya")
        self.assertEqual(len(held), 2)
        r = self.d.ctl("approve", held[0])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("approved", r.stdout)
        post = self.mails_to(MEMBER)[0]
        self.assertEqual(post.decoded_subject(), "[世田谷] 一つ目")
        r = self.d.ctl("approve", held[0])
        self.assertEqual(r.returncode, 67)
        self.assertIn("no such held post", r.stderr)
        r = self.d.ctl("reject", held[1], "宣伝のため", "お断りします")
        self.assertEqual(r.returncode, 0, r.stderr)
        told = self.mails_to(STRANGER, 2)[1]
        self.assertIn("理由: 宣伝のため お断りします", told.body_text())
        self.assertEqual(self.held(), [])
        self.assertFalse(os.path.exists(os.path.join(self.d.dir, "spool",
            "held", held[1])))
        self.assertEqual(self.d.ctl("approve", "../../etc").returncode, 65)
        self.assertEqual(self.sink.rcpt_counts()[MEMBER], 1)


class Expiry(Moderation):
    """A short expiry, so that it happens within the test."""

    config = {"moderation": {"expire": 2}}

    def test_expiry_tells_poster(self):
        self.post("setagaya@" + LIST_DOMAIN, STRANGER, "期限切れ予定")
        self.notice()
        told = self.mails_to(STRANGER, 2, timeout=30)[1]
        self.assertIn("配信されませんでした", told.decoded_subject())
        self.assertIn("承認が得られなかった", told.body_text())
        self.assertIn("期限切れ予定", told.body_text())
        wait_until(lambda: self.held() == [], 10, what="no held post")
        self.assertEqual(os.listdir(os.path.join(self.d.dir, "spool",
            "held")), [])
        self.assertNotIn(MEMBER, self.sink.rcpt_counts())
        db = self.d.db()
        n = db.execute("SELECT value FROM counters WHERE key = "
            "'held_expired'").fetchone()
        db.close()
        self.assertEqual(n, (1,))

    # The inherited tests run with a 2-second expiry too, except those
    # that need the post to wait.
    test_hold_notice_approve_by_reply = None
    test_allow_sender = None
    test_token_is_the_moderators_only = None
    test_ctl_approve_and_reject = None
    test_reject_tells_poster = None
    test_poster_told_once_a_day = None


SPAM_FILTER = "/bin/sh"
FILTERS = (
    {"type": "headers", "drop": ["X-Mailer"]},
    {"type": "loop"},
    {"type": "size", "max": 3000},
    {"type": "mime", "strip": ["application/x-msdownload"],
     "refuse": ["application/x-dosexec"]},
    {"type": "recipients", "max": 3, "action": "reject"},
    {"type": "command", "command": [SPAM_FILTER, "-c",
        "grep -q 'X-Spam: yes' && { echo spam; exit 1; }; exit 0"],
     "discard": [1], "timeout": 5},
)


class Filters(unittest.TestCase):
    """A list with a filter chain, through the daemon."""

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        lists = lists_with(meguro={"moderators": [MOD],
            "filters": FILTERS, "subject_prefix": "[目黒]"},
            kita={"policy": "moderated", "moderators": [MOD],
            "filters": ({"type": "headers"},)})
        self.d = Daemon(self.sink.port, config={"lists": lists})
        self.addCleanup(self.d.close)
        for lst in ("meguro", "kita"):
            self.assertEqual(self.d.ctl("add", lst, MEMBER).returncode, 0)

    fail_log = Moderation.fail_log
    post = Moderation.post
    mails_to = Moderation.mails_to
    held = Moderation.held

    def test_clean_post_passes_cleaned(self):
        self.post("meguro@" + LIST_DOMAIN, MEMBER, "普通の投稿",
            extra_headers={"Disposition-Notification-To": MEMBER,
            "X-Mailer": "Foo", "Return-Receipt-To": MEMBER})
        m = self.mails_to(MEMBER)[0]
        self.assertEqual(m.decoded_subject(), "[目黒] 普通の投稿")
        for h in ("Disposition-Notification-To", "X-Mailer",
                "Return-Receipt-To"):
            self.assertIsNone(m.headers.get(h), h)

    def test_size_holds_and_approval_cleans(self):
        self.post("meguro@" + LIST_DOMAIN, MEMBER, "大きい投稿",
            "大きな本文\n" * 300, extra_headers={"X-Mailer": "Foo"})
        notice = self.mails_to(MOD)[0]
        self.assertIn("大きすぎます", notice.body_text())
        held = self.held("meguro")
        self.assertEqual(len(held), 1)
        self.assertNotIn(MEMBER, [r for m in self.sink.messages()
            for r in m.rcpts if "大きい" in (m.decoded_subject() or "")])
        self.assertEqual(self.d.ctl("approve", held[0]).returncode, 0)
        m = self.mails_to(MEMBER, what=lambda m: "大きい投稿" in
            m.decoded_subject())[0]
        self.assertIsNone(m.headers.get("X-Mailer"))
        self.assertEqual(m.body_text().count("大きな本文"), 300)

    def test_too_many_recipients_rejected(self):
        self.post("meguro@" + LIST_DOMAIN, MEMBER, "宛先多数",
            extra_headers={"Cc": "a@%s, b@%s, c@%s" % (M, M, M)})
        told = self.mails_to(MEMBER, what=lambda m: "お受けできません"
            in m.decoded_subject())[0]
        self.assertIn("宛先（To/Cc）のアドレスが多すぎます", told.body_text())
        self.assertEqual(self.held(), [])
        self.assertEqual(len(self.sink.messages()), 1)

    def test_external_command_discards(self):
        self.post("meguro@" + LIST_DOMAIN, MEMBER, "怪しい",
            extra_headers={"X-Spam": "yes"})
        wait_until(lambda: "discarded: spam" in self.d.log(), 15,
            what="the discard log line")
        self.post("meguro@" + LIST_DOMAIN, MEMBER, "まとも")
        m = self.mails_to(MEMBER)[0]
        self.assertEqual(m.decoded_subject(), "[目黒] まとも")
        self.assertEqual(len(self.sink.messages()), 1)

    def test_mime_strip_and_refuse(self):
        boundary = "XYZ"
        body = ("--XYZ\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
            "添付します\r\n--XYZ\r\nContent-Type: application/x-msdownload; "
            "name=\"a.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "TVqQAAMAAAAEAAAA\r\n--XYZ--\r\n")
        msg = make_message(MEMBER, "meguro@" + LIST_DOMAIN, "添付", "x")
        head = msg.split(b"\r\n\r\n", 1)[0].decode()
        head = re.sub(r"Content-Type: [^\r]*", "Content-Type: "
            "multipart/mixed; boundary=\"%s\"" % boundary, head)
        head = head.replace("Content-Transfer-Encoding: 7bit\r\n", "")
        data = (head + "\r\n\r\n" + body).encode()
        r = self.d.lmtp_send(["meguro@" + LIST_DOMAIN], data, sender=MEMBER)
        self.assertEqual(r["meguro@" + LIST_DOMAIN][0], 250)
        m = self.mails_to(MEMBER)[0]
        types = [p.get_content_type() for p in m.headers.walk()]
        self.assertEqual(types, ["multipart/mixed", "text/plain"])
        self.assertIn("添付します", m.body_text())
        refused = data.replace(b"x-msdownload", b"x-dosexec")
        self.d.lmtp_send(["meguro@" + LIST_DOMAIN], refused, sender=MEMBER)
        told = self.mails_to(MEMBER, 2)[1]
        self.assertIn("application/x-dosexec", told.body_text())

    def test_moderated_list_holds_all(self):
        self.post("kita@" + LIST_DOMAIN, MEMBER, "承認制",
            extra_headers={"Return-Receipt-To": MEMBER})
        notice = self.mails_to(MOD)[0]
        self.assertIn("承認制のリスト", notice.body_text())
        # The member is told it waits, and not told to join.
        told = self.mails_to(MEMBER, what=lambda m: "承認をお待ち" in
            m.body_text())[0]
        self.assertNotIn("メンバーになると", told.body_text())
        approve = notice.header("Reply-To").strip("<>")
        self.post(approve, MOD, "Re: " + notice.decoded_subject(), "OK\n")
        m = self.mails_to(MEMBER, what=lambda m: "承認制" ==
            m.decoded_subject())[0]
        self.assertIsNone(m.headers.get("Return-Receipt-To"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
