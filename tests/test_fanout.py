#!/usr/bin/python3
"""test_fanout - posts: policy, rewriting and fan-out, counted at smtp-sink.

Every recipient count here is read from smtp-sink's dump (its RCPT
records), so "once" means the relay really saw one RCPT for the address.
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN
SEWANIN = "sewanin@" + M


class Fanout(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port)
        self.addCleanup(self.d.close)

    def add(self, lst, *addrs):
        for a in addrs:
            r = self.d.ctl("add", lst, a)
            self.assertEqual(r.returncode, 0, r.stderr)

    def post(self, rcpt, sender, subject, body="本文です。\n", **kw):
        msg = make_message(sender, rcpt, subject, body, **kw)
        r = self.d.lmtp_send([rcpt], msg, sender=sender)
        self.assertEqual(r[rcpt][0], 250, r)
        return msg

    def wait_rcpts(self, n, timeout=20):
        try:
            self.sink.wait_rcpts(n, timeout=timeout)
        except Exception:
            self.fail("expected %d recipients, sink has %d\n--- log ---\n%s"
                % (n, self.sink.rcpt_total(), self.d.log()))

    def test_members_post_reaches_each_member_once(self):
        members = ["m%d@%s" % (i, M) for i in range(5)]
        self.add("setagaya", *members)
        original = self.post("setagaya@" + LIST_DOMAIN, members[0],
            "Re: [世田谷] RE: 次回の会議について", "次回は12月5日です。\n①②㈱\n",
            charset="iso-2022-jp")
        self.wait_rcpts(5)
        counts = self.sink.rcpt_counts()
        self.assertEqual(sorted(counts), sorted(members))
        self.assertTrue(all(c == 1 for c in counts.values()), counts)
        m = self.sink.messages()[0]
        self.assertEqual(m.decoded_subject(),
            "[世田谷] Re: 次回の会議について")
        for line in m.header("Subject").split("\n"):
            for word in line.split():
                self.assertLessEqual(len(word), 75, word)
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, m.header("List-Id"))
        self.assertEqual(m.header("List-Post"),
            "<mailto:setagaya@%s>" % LIST_DOMAIN)
        self.assertEqual(m.header("List-Unsubscribe"),
            "<mailto:setagaya-leave@%s>" % LIST_DOMAIN)
        self.assertIn("setagaya-request@", m.header("List-Help"))
        self.assertIn("setagaya-join@", m.header("List-Subscribe"))
        self.assertEqual(m.header("Precedence"), "list")
        self.assertEqual(m.sender, "setagaya-bounces@" + LIST_DOMAIN)
        # The body and its charset pass through untouched.
        body = original.split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n")
        self.assertTrue(m.raw.replace(b"\r\n", b"\n").endswith(body))
        self.assertIn("①②㈱", m.body_text())
        self.assertIn("ISO-2022-JP", m.header("Content-Type").upper())

    def test_parallel_sessions_deliver_each_member_once(self):
        # relay.sessions = 4: a round's transactions go over four SMTP
        # sessions at once; each member still gets exactly one copy (that
        # the sessions overlap is test_relay_faults' to show).
        self.d.close()
        self.d = Daemon(self.sink.port, max_recipients=10,
            config={"relay": {"sessions": 4}})
        self.addCleanup(self.d.close)
        members = ["p%d@%s" % (i, M) for i in range(400)]
        csv = "address,name\r\n" + "".join("%s,\r\n" % a for a in members)
        r = self.d.ctl("import", "setagaya", input=csv.encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.post("setagaya@" + LIST_DOMAIN, members[0], "並行配信の試験")
        self.wait_rcpts(400)
        counts = self.sink.rcpt_counts()
        self.assertEqual(sorted(counts), sorted(members))
        self.assertTrue(all(c == 1 for c in counts.values()))
        self.assertEqual(len(self.sink.messages()), 40)

    def test_region_post_reaches_chapters_once(self):
        self.add("setagaya", "a@" + M, "both@" + M)
        self.add("meguro", "BOTH@" + M.upper(), "b@" + M)
        self.add("meguro", "both@" + M.upper())  # same mailbox, domain case
        self.add("tokyo", "t@" + M)
        self.add("kita", "k@" + M)  # another region
        self.post("tokyo@" + LIST_DOMAIN, SEWANIN, "東京からのお知らせ")
        self.wait_rcpts(5)
        counts = self.sink.rcpt_counts()
        self.assertEqual(sorted(counts), sorted(["a@" + M, "both@" + M,
            "BOTH@" + M, "b@" + M, "t@" + M]))
        self.assertEqual(self.sink.messages()[0].header("List-Post"), "NO")
        self.assertNotIn("k@" + M, counts)

    def test_network_post_and_nomail(self):
        self.add("setagaya", "a@" + M)
        self.add("kita", "k@" + M, "q@" + M)
        self.add("all", "q@" + M)
        r = subprocess.run([harness.MLSERVERCTL, "-c", self.d.conf, "--json",
            "members", "all"], capture_output=True, text=True)
        self.assertIn('"address": "q@%s"' % M, r.stdout)
        # q pauses the network list: no network mail, chapter mail still.
        import sqlite3
        db = sqlite3.connect(self.d.db_path)
        db.execute("UPDATE members SET mode = 'nomail' WHERE list = 'all'")
        db.commit()
        db.close()
        self.post("all@" + LIST_DOMAIN, "admin@" + M, "全国のお知らせ")
        self.wait_rcpts(2)
        self.assertEqual(sorted(self.sink.rcpt_counts()),
            ["a@" + M, "k@" + M])

    def test_announce_refuses_others_politely(self):
        self.add("setagaya", "a@" + M)
        self.post("tokyo@" + LIST_DOMAIN, "a@" + M, "宣伝です")
        self.wait_rcpts(1)
        m = self.sink.messages()[0]
        self.assertEqual(m.rcpts, ["a@" + M])
        self.assertIn("お知らせ専用", m.body_text())
        self.assertIn("auto-replied", m.header("Auto-Submitted"))

    def test_non_member_post_is_held_and_moderator_told(self):
        self.add("setagaya", "a@" + M)
        self.post("setagaya@" + LIST_DOMAIN, "stranger@" + M, "はじめまして")
        self.sink.wait_for(lambda ms: any(SEWANIN in m.rcpts for m in ms))
        notice = [m for m in self.sink.messages() if SEWANIN in m.rcpts][0]
        self.assertIn("承認待ち", notice.decoded_subject())
        self.assertIn("auto-generated", notice.header("Auto-Submitted"))
        types = [p.get_content_type() for p in notice.headers.walk()]
        self.assertIn("message/rfc822", types)
        held = self.d.ctl("held", "setagaya")
        self.assertIn("stranger@" + M, held.stdout)
        qid = held.stdout.split()[0]
        self.assertTrue(os.path.exists(os.path.join(self.d.dir, "spool",
            "held", qid)))
        self.assertNotIn("a@" + M, self.sink.rcpt_counts())

    def test_bounce_to_post_address_is_held(self):
        self.add("meguro", "a@" + M)
        msg = make_message("MAILER-DAEMON@" + M, "meguro@" + LIST_DOMAIN,
            "Undelivered Mail Returned to Sender", "This is a bounce.\n")
        r = self.d.lmtp_send(["meguro@" + LIST_DOMAIN], msg, sender="")
        self.assertEqual(r["meguro@" + LIST_DOMAIN][0], 250)
        wait_until(lambda: "Undelivered" in self.d.ctl("held").stdout, 10,
            what="held bounce")
        self.assertEqual(self.sink.rcpt_total(), 0)

    def test_loop_is_not_resent(self):
        self.add("meguro", "a@" + M)
        self.post("meguro@" + LIST_DOMAIN, "a@" + M, "loop",
            extra_headers={"X-Loop": "meguro@" + LIST_DOMAIN})
        wait_until(lambda: "loop detected" in self.d.log(), 10,
            what="loop log line")
        self.assertEqual(self.sink.rcpt_total(), 0)

    def test_batches_of_max_recipients(self):
        import sqlite3
        db = sqlite3.connect(self.d.db_path)
        db.executemany("INSERT INTO members (list, addr, created) "
            "VALUES ('meguro', ?, 0)", [("u%03d@%s" % (i, M),)
            for i in range(120)])
        db.commit()
        db.close()
        self.post("meguro@" + LIST_DOMAIN, "u000@" + M, "batch")
        self.wait_rcpts(120)
        sizes = sorted(len(m.rcpts) for m in self.sink.messages())
        self.assertEqual(sizes, [20, 50, 50])
        self.assertEqual(len(self.sink.rcpt_counts()), 120)
        q = self.d.ctl("queue")
        wait_until(lambda: "empty" in self.d.ctl("queue").stdout, 10,
            what="empty queue")
        self.assertEqual(q.returncode, 0)

    def test_pipe_entry(self):
        self.add("meguro", "a@" + M)
        msg = make_message("a@" + M, "meguro@" + LIST_DOMAIN, "パイプ", "x\n")
        r = subprocess.run([harness.MLSERVER_RECEIVE, "-c", self.d.conf,
            "-f", "a@" + M, "meguro@" + LIST_DOMAIN], input=msg.replace(b"\r\n", b"\n"),
            capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_rcpts(1)
        self.assertEqual(self.sink.messages()[0].decoded_subject(), "パイプ")


if __name__ == "__main__":
    unittest.main(verbosity=2)
