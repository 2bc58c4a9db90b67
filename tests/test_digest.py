#!/usr/bin/python3
"""test_digest - digests through the real daemon, counted at smtp-sink.

A member who chose digest delivery gets no copy of each post, and then
one MIME digest (multipart/digest of message/rfc822 parts after a
text/plain table of contents) at the configured time, or at once when
the waiting posts reach max_size; nothing on a day without posts;
never twice across a restart; and on a region list by the mode of the
membership through which the list reaches them.
"""

import datetime
import email
import email.policy
import os
import sys
import time
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    decode_header_value, make_message, wait_until)

M = MEMBER_DOMAIN
SEWANIN = "sewanin@" + M
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


def hhmm(delta_minutes):
    """The local time in Tokyo, delta_minutes from now, as HH:MM."""
    t = datetime.datetime.now(TOKYO) + datetime.timedelta(
        minutes=delta_minutes)
    return t.strftime("%H:%M")


def is_digest(m):
    return "multipart/mixed" in (m.header("Content-Type") or "") and \
        any(p.get_content_type() == "multipart/digest"
            for p in m.headers.walk())


def digest_parts(m):
    """(table of contents text, [embedded messages]) of a digest."""
    top = email.message_from_bytes(m.raw, policy=email.policy.compat32)
    parts = top.get_payload()
    toc = parts[0].get_payload(decode=True).decode("utf-8")
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0].get_content_charset() == "utf-8"
    dg = parts[1]
    assert dg.get_content_type() == "multipart/digest"
    msgs = []
    for p in dg.get_payload():
        assert p.get_content_type() == "message/rfc822", p
        msgs.append(p.get_payload()[0])
    return toc, msgs


class Digest(unittest.TestCase):

    def start(self, digest=None, lists_digest=None):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        cfg = {}
        if digest is not None:
            cfg["digest"] = digest
        self.cfg = cfg
        self.d = Daemon(self.sink.port, config=cfg)
        self.addCleanup(self.d.close)

    def members(self, lst, rows):
        csv = "address,name,mode\r\n" + "".join("%s,,%s\r\n" % r
            for r in rows)
        r = self.d.ctl("import", lst, input=csv.encode())
        self.assertEqual(r.returncode, 0, r.stderr)

    def post(self, rcpt, sender, subject, body="本文です。\n", **kw):
        msg = make_message(sender, rcpt, subject, body, **kw)
        r = self.d.lmtp_send([rcpt], msg, sender=sender)
        self.assertEqual(r[rcpt][0], 250, r)
        return msg

    def digests(self):
        return [m for m in self.sink.messages() if is_digest(m)]

    def posts_to(self, addr):
        return [m for m in self.sink.messages()
            if addr in m.rcpts and not is_digest(m)]

    def wait_digests(self, n, timeout=30):
        try:
            self.sink.wait_for(lambda ms: len([m for m in ms
                if is_digest(m)]) >= n, timeout)
        except TimeoutError:
            self.fail("expected %d digests, got %d\n--- log ---\n%s" % (n,
                len(self.digests()), self.d.log()))
        return self.digests()

    def settle(self, seconds=3):
        """Give the daemon time to do what it should not."""
        time.sleep(seconds)

    def test_digest_at_the_set_time_instead_of_each_post(self):
        # A time a minute or two ahead: the latest one passed is
        # yesterday's, which finds nothing waiting at start.
        now = datetime.datetime.now(TOKYO)
        target = (now + datetime.timedelta(minutes=1 if now.second < 40
            else 2)).replace(second=0, microsecond=0)
        at = target.strftime("%H:%M")
        self.start(digest={"time": at, "max_size": 1000000})
        normal, dig = "n1@" + M, "d1@" + M
        self.members("setagaya", [(normal, "normal"), (dig, "digest")])
        subjects = ["12月の定例会のお知らせ", "①会場の変更について"]
        self.post("setagaya@" + LIST_DOMAIN, normal, subjects[0],
            "12月5日14時からです。\n", charset="iso-2022-jp")
        self.post("setagaya@" + LIST_DOMAIN, SEWANIN, subjects[1],
            "第2会議室に変わります。\n", charset="iso-2022-jp")
        self.sink.wait_for(lambda ms: len(self.posts_to(normal)) >= 2)
        self.settle(2)
        self.assertEqual(self.posts_to(dig), [])
        self.assertEqual(self.digests(), [], "digest before %s" % at)

        got = self.wait_digests(1, timeout=200)
        self.assertGreaterEqual(datetime.datetime.now(TOKYO), target)
        d = got[0]
        self.assertEqual(d.rcpts, [dig])
        self.assertEqual(d.sender, "setagaya-bounces@" + LIST_DOMAIN)
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, d.header("List-Id"))
        self.assertEqual(d.header("List-Unsubscribe"),
            "<mailto:setagaya-leave@%s>" % LIST_DOMAIN)
        self.assertTrue(d.decoded_subject().startswith("[世田谷] まとめ読み "),
            d.decoded_subject())
        self.assertIn("（2件）", d.decoded_subject())
        toc, msgs = digest_parts(d)
        # Every post inside, exactly as the normal member got it.
        per_post = self.posts_to(normal)
        self.assertEqual(len(msgs), 2)
        for inner, copy in zip(msgs, per_post):
            self.assertEqual(inner["Message-ID"], copy.header("Message-ID"))
            self.assertEqual(decode_header_value(inner["Subject"]),
                copy.decoded_subject())
            self.assertEqual(inner.get_payload(decode=True),
                copy.headers.get_payload(decode=True))
        self.assertIn("■ 目次", toc)
        self.assertIn("1. [世田谷] " + subjects[0], toc)
        self.assertIn("2. [世田谷] " + subjects[1], toc)
        self.assertIn("<%s>" % normal, toc)
        self.assertIn("<%s>" % SEWANIN, toc)
        self.assertIn("setagaya-request@" + LIST_DOMAIN, toc)

        # A restart neither resends it nor sends an empty one.
        self.d.stop()
        self.d.restart()
        self.settle(3)
        self.assertEqual(len(self.digests()), 1)
        self.assertEqual(self.d.ctl("digest", "setagaya").stdout,
            "setagaya: no posts waiting\n")

    def test_size_sends_early(self):
        self.start(digest={"time": hhmm(-120), "max_size": 1000})
        dig = "d1@" + M
        self.members("meguro", [(dig, "digest")])
        self.post("meguro@" + LIST_DOMAIN, "a@" + M, "one", "short\n")
        self.settle(3)
        self.assertEqual(self.digests(), [])
        self.post("meguro@" + LIST_DOMAIN, "a@" + M, "two",
            "x" * 300 + "\n")
        d = self.wait_digests(1, timeout=20)[0]
        toc, msgs = digest_parts(d)
        self.assertEqual([m["Subject"] for m in msgs], ["one", "two"])
        self.assertEqual(d.rcpts, [dig])
        self.assertIn("meguro: digest No. 1 (size)", self.d.log())
        # Below the size again: nothing more until the time.
        self.post("meguro@" + LIST_DOMAIN, "a@" + M, "three", "short\n")
        self.settle(3)
        self.assertEqual(len(self.digests()), 1)
        self.assertEqual(self.posts_to(dig), [])

    def test_no_digest_without_posts(self):
        self.start(digest={"time": hhmm(-2)})
        self.members("setagaya", [("d1@" + M, "digest")])
        # The time passed today with nothing waiting; a later time
        # (a reload) passes too.
        wait_until(lambda: "setagaya: digest time" in self.d.log(), 10,
            what="the day's digest time")
        self.d.reload(dict(self.cfg, digest={"time": hhmm(-1)}))
        wait_until(lambda: self.d.log().count("setagaya: digest time")
            >= 2, 10, what="the new digest time")
        self.assertIn("no posts, no digest", self.d.log())
        r = self.d.ctl("digest")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "no posts waiting for a digest\n")
        self.assertEqual(self.d.ctl("digest", "nosuch").returncode, 67)
        self.settle(2)
        self.assertEqual(self.sink.messages(), [])

    def test_time_passed_while_down_sends_once(self):
        self.start(digest={"time": hhmm(-2)})
        self.members("kita", [("d1@" + M, "digest")])
        wait_until(lambda: "kita: digest time" in self.d.log(), 10,
            what="the day's digest time")
        self.post("kita@" + LIST_DOMAIN, "a@" + M, "ひとつめ")
        self.post("kita@" + LIST_DOMAIN, "a@" + M, "ふたつめ")
        wait_until(lambda: self.d.log().count("kept for the digest") >= 2,
            10, what="posts kept")
        # Down over the new time (a reload stands in for the clock), then
        # up: one digest; down and up again, and kill -9: still one.
        self.d.stop()
        self.d.write_config(dict(self.cfg, digest={"time": hhmm(-1)}))
        self.d.restart()
        d = self.wait_digests(1)[0]
        self.assertEqual(len(digest_parts(d)[1]), 2)
        self.d.stop()
        self.d.restart()
        self.settle(2)
        self.d.kill9()
        self.d.restart()
        self.settle(3)
        self.assertEqual(len(self.digests()), 1)
        db = self.d.db()
        try:
            rows = db.execute("SELECT seq, posts, cause FROM digests "
                "WHERE list = 'kita'").fetchall()
            waiting = db.execute("SELECT count(*) FROM digest_posts"
                ).fetchone()[0]
        finally:
            db.close()
        self.assertEqual(rows, [(1, 2, "time")])
        self.assertEqual(waiting, 0)

    def test_region_list_by_each_membership(self):
        self.start(digest={"time": hhmm(-120)})
        both, mixed, own, far = ("both@" + M, "mixed@" + M, "own@" + M,
            "far@" + M)
        # both: digest on two chapters of tokyo; mixed: normal on one;
        # own: digest on tokyo itself, normal on its chapter; far: digest
        # in another region.
        self.members("setagaya", [(both, "digest"), (mixed, "digest"),
            (own, "normal")])
        self.members("meguro", [(both, "digest"), (mixed, "normal")])
        self.members("tokyo", [(own, "digest")])
        self.members("kita", [(far, "digest")])
        self.post("tokyo@" + LIST_DOMAIN, SEWANIN, "東京からのお知らせ")
        self.post("setagaya@" + LIST_DOMAIN, own, "世田谷の連絡")
        self.sink.wait_for(lambda ms: len(ms) >= 2)
        self.settle(2)
        got = {a: sorted(m.decoded_subject() for m in self.posts_to(a))
            for a in (both, mixed, own, far)}
        self.assertEqual(got, {both: [], mixed: ["東京からのお知らせ"],
            own: ["[世田谷] 世田谷の連絡"], far: []})
        r = self.d.ctl("digest")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tokyo: digest of 1 post queued for 2 recipients",
            r.stdout)
        self.assertIn("setagaya: digest of 1 post queued for 2 recipients",
            r.stdout)
        ds = self.wait_digests(2)
        by_list = {}
        for d in ds:
            lid = d.header("List-Id")
            name = "tokyo" if "<tokyo." in lid else "setagaya"
            by_list.setdefault(name, []).append(d)
        self.assertEqual(sorted(sum((d.rcpts for d in by_list["tokyo"]),
            [])), sorted([both, own]))
        self.assertEqual(sorted(sum((d.rcpts for d in by_list["setagaya"]),
            [])), sorted([both, mixed]))
        toc, msgs = digest_parts(by_list["tokyo"][0])
        self.assertEqual(decode_header_value(msgs[0]["Subject"]),
            "東京からのお知らせ")
        self.settle(2)
        self.assertEqual(len(self.digests()), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
