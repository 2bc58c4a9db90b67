#!/usr/bin/python3
"""test_bounces - dead addresses: delivery reports, VERP and relay 5xx.

A real daemon and smtp-sink.  A report (RFC 3464) at LIST-bounces@D, a
bounce at a VERP address, or a 5xx from the relay counts against the
member; at the threshold delivery stops, the member is told how to start
it again, and replying does.  Nothing is ever sent back to a bounce.
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN
LIST = "setagaya@" + LIST_DOMAIN
BOUNCES = "setagaya-bounces@" + LIST_DOMAIN
DAEMON = "mailer-daemon@relay.example.net"
CONFIRM_RE = re.compile(r"setagaya-confirm\+[A-Za-z0-9]+@" +
    re.escape(LIST_DOMAIN))


def dsn(rcpt, action="failed", status="5.1.1"):
    """A delivery report as Postfix writes one, about rcpt."""
    return (
        "From: Mail Delivery System <%s>\r\n"
        "To: %s\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        "\tboundary=\"B1\"\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; relay.example.net\r\n"
        "\r\n"
        "Final-Recipient: rfc822; %s\r\n"
        "Original-Recipient: rfc822;%s\r\n"
        "Action: %s\r\n"
        "Status: %s\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <%s>: User unknown\r\n"
        "\r\n"
        "--B1--\r\n" % (DAEMON, BOUNCES, rcpt, rcpt, action, status, rcpt)
    ).encode()


class Base(unittest.TestCase):

    config = {}
    sink_args = ()

    def setUp(self):
        self.sink = Sink(extra_args=self.sink_args)
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, config=self.config)
        self.addCleanup(self.d.close)

    def add(self, *addrs):
        for a in addrs:
            r = self.d.ctl("add", "setagaya", a)
            self.assertEqual(r.returncode, 0, r.stderr)

    def lmtp(self, rcpt, data, sender):
        r = self.d.lmtp_send([rcpt], data, sender=sender)
        self.assertEqual(r[rcpt][0], 250, r)

    def post(self, sender, subject):
        self.lmtp(LIST, make_message(sender, LIST, subject, "本文です。\n"),
            sender)

    def bounces(self):
        r = self.d.ctl("--json", "bounces", "setagaya")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {b["address"]: b for b in json.loads(r.stdout)}

    def got(self, subject):
        """The recipients of the mails with this subject at the sink."""
        return sorted(r for m in self.sink.messages()
            if subject in m.decoded_subject() for r in m.rcpts)

    def wait_got(self, subject, n):
        wait_until(lambda: len(self.got(subject)) >= n, 20,
            what="%d recipients of %r" % (n, subject))
        return self.got(subject)

    def notice_to(self, addr):
        wait_until(lambda: any(addr in m.rcpts for m in self.sink.messages()
            if m.header("Auto-Submitted")), 20, what="notice to " + addr)
        return [m for m in self.sink.messages()
            if addr in m.rcpts and m.header("Auto-Submitted")][0]


class Reports(Base):

    config = {"bounce": {"threshold": 1.0}}

    def test_report_disables_and_reply_reenables(self):
        ok, dead = "ok@" + M, "dead@" + M
        self.add(ok, dead)
        self.lmtp(BOUNCES, dsn(dead), "")
        wait_until(lambda: self.bounces().get(dead, {}).get("disabled"),
            20, what="delivery to the dead address disabled")
        b = self.bounces()[dead]
        self.assertEqual(b["score"], 1.0)
        self.assertIn("delivery report", b["reason"])
        self.assertNotIn(ok, self.bounces())

        # The member is told, and told how to start again.
        n = self.notice_to(dead)
        self.assertEqual(n.header("Auto-Submitted"), "auto-generated")
        self.assertIn("配信を一時停止しました", n.decoded_subject())
        confirm = CONFIRM_RE.search(n.header("Reply-To") or "")
        self.assertIsNotNone(confirm, n.header("Reply-To"))
        self.assertIn(confirm.group(0), n.body_text())

        # The next post leaves the disabled member out.
        self.post(ok, "停止後の投稿")
        self.assertEqual(self.wait_got("停止後の投稿", 1), [ok])

        # A reply to the notice starts delivery again.
        reply = make_message(dead, confirm.group(0), "Re: 配信を再開",
            "再開をお願いします。\n")
        self.lmtp(confirm.group(0), reply, dead)
        wait_until(lambda: dead not in self.bounces(), 20,
            what="score forgotten after re-enabling")
        self.post(ok, "再開後の投稿")
        self.assertEqual(self.wait_got("再開後の投稿", 2), [dead, ok])

        # Nothing ever went back to the bounce's sender.
        self.assertFalse([m for m in self.sink.messages()
            if DAEMON in m.rcpts])

    def test_delayed_report_is_soft_and_unreadable_is_not_counted(self):
        slow, other = "slow@" + M, "other@" + M
        self.add(slow, other)
        self.lmtp(BOUNCES, dsn(slow, "delayed", "4.4.1"), "")
        wait_until(lambda: slow in self.bounces(), 20, what="soft bounce")
        b = self.bounces()[slow]
        self.assertEqual((b["score"], b["disabled"]), (0.5, False))
        # A second report the same day does not count again.
        self.lmtp(BOUNCES, dsn(slow, "delayed", "4.4.1"), "")
        wait_until(lambda: self.d.log().count(
            "report: <%s> delayed" % slow) >= 2, 20,
            what="second report processed")
        self.assertEqual(self.bounces()[slow]["score"], 0.5)
        # A bounce with no report names nobody: logged, nothing counted.
        plain = make_message(DAEMON, BOUNCES, "failure notice",
            "Sorry, your mail to %s failed.\n" % other)
        self.lmtp(BOUNCES, plain, "")
        wait_until(lambda: "no readable report" in self.d.log(), 20,
            what="log of an unreadable bounce")
        self.assertNotIn(other, self.bounces())
        self.assertFalse([m for m in self.sink.messages()
            if DAEMON in m.rcpts])


class Verp(Base):

    config = {"bounce": {"threshold": 1.0, "verp": "always"}}

    def test_verp_sender_per_member_and_bounce_counted(self):
        a, b = "taro@" + M, "hanako+list@" + M
        self.add(a, b)
        self.post(a, "VERP の投稿")
        self.wait_got("VERP の投稿", 2)
        senders = {r: m.sender for m in self.sink.messages()
            if "VERP の投稿" in m.decoded_subject() for r in m.rcpts}
        self.assertEqual(senders[a],
            "setagaya-bounces+taro=%s@%s" % (M, LIST_DOMAIN))
        # '+' in the local part is escaped, so the address survives.
        self.assertEqual(senders[b],
            "setagaya-bounces+hanako_2Blist=%s@%s" % (M, LIST_DOMAIN))

        # A bounce at the VERP address counts for that member, report
        # or not.
        verp = senders[b]
        self.lmtp(verp, make_message(DAEMON, verp, "failure notice",
            "Your message could not be delivered.\n"), "")
        wait_until(lambda: self.bounces().get(b, {}).get("disabled"), 20,
            what="VERP bounce disables " + b)
        self.assertNotIn(a, self.bounces())


class RelayRefusal(Base):

    # smtp-sink answers every RCPT TO with 5xx: a hard failure at delivery.
    sink_args = ("-f", "rcpt")

    def test_5xx_at_delivery_counts(self):
        gone = "gone@" + M
        self.add(gone)
        self.post("sewanin@" + M, "届かない投稿")
        wait_until(lambda: gone in self.bounces(), 30,
            what="5xx at delivery counted")
        b = self.bounces()[gone]
        self.assertEqual((b["score"], b["disabled"]), (1.0, False))
        self.assertRegex(b["reason"], r"^5\d\d ")  # the relay's reply


if __name__ == "__main__":
    unittest.main(verbosity=2)
