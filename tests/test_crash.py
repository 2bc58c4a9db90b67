#!/usr/bin/python3
"""test_crash - kill -9 and restart: nothing accepted is lost.

smtp-sink answers each DATA a second late, so a kill lands while a
fan-out is in flight; after the restart every member must have the post,
and no more than the transactions in flight at the kill came twice.
Also: mail stored while the daemon is down is processed at start, stale
spool/tmp files are cleared, and an unparseable message is quarantined
with a log line, never dropped.
"""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN
BATCH = 25


def fill_members(db_path, lst, n):
    import sqlite3
    db = sqlite3.connect(db_path)
    db.executemany("INSERT INTO members (list, addr, created) "
        "VALUES (?, ?, 0)", [(lst, "u%04d@%s" % (i, M)) for i in range(n)])
    db.commit()
    db.close()


class Crash(unittest.TestCase):

    def test_kill_during_delivery_then_restart(self):
        sink = Sink(extra_args=("-w", "1"))
        self.addCleanup(sink.close)
        d = Daemon(sink.port, max_recipients=BATCH)
        self.addCleanup(d.close)
        n = 200
        fill_members(d.db_path, "meguro", n)
        msg = make_message("u0000@" + M, "meguro@" + LIST_DOMAIN,
            "クラッシュ試験", "本文\n")
        r = d.lmtp_send(["meguro@" + LIST_DOMAIN], msg, sender="u0000@" + M)
        self.assertEqual(r["meguro@" + LIST_DOMAIN][0], 250)
        kills = 0
        while sink.rcpt_total() < n and kills < 3:
            # Let a few transactions through, then crash.
            target = sink.rcpt_total() + 2 * BATCH
            wait_until(lambda: sink.rcpt_total() >= min(target, n), 30,
                what="progress")
            if sink.rcpt_total() >= n:
                break
            d.kill9()
            kills += 1
            d.restart()
        sink.wait_rcpts(n, timeout=60)
        time.sleep(1.5)
        counts = sink.rcpt_counts()
        missing = [a for a in ("u%04d@%s" % (i, M) for i in range(n))
            if a not in counts]
        self.assertEqual(missing, [], d.log())
        dups = sum(c - 1 for c in counts.values())
        # At most the transaction in flight at each kill is sent again.
        self.assertLessEqual(dups, kills * BATCH, counts)
        self.assertGreaterEqual(kills, 1)

    def test_stored_while_down_is_processed_at_start(self):
        sink = Sink()
        self.addCleanup(sink.close)
        d = Daemon(sink.port)
        self.addCleanup(d.close)
        d.ctl("add", "meguro", "a@" + M)
        self.assertEqual(d.stop(), 0)
        msg = make_message("a@" + M, "meguro@" + LIST_DOMAIN, "停止中", "x\n")
        r = subprocess.run([harness.MLSERVER_RECEIVE, "-c", d.conf,
            "-f", "a@" + M, "meguro@" + LIST_DOMAIN], input=msg, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        # A half-written file, as a crash mid-LMTP-DATA leaves it.
        stale = os.path.join(d.dir, "spool", "tmp", "half-written")
        with open(stale, "w") as f:
            f.write("MLSERVER 1\nF <x@y>\n")
        # A stored message that is not mail at all.
        junk = subprocess.run([harness.MLSERVERCTL, "-c", d.conf, "inject",
            "meguro@" + LIST_DOMAIN], input=b"\x00\x01\x02 not mail\n",
            capture_output=True)
        self.assertEqual(junk.returncode, 0, junk.stderr)
        junk_id = junk.stdout.decode().split()[-1]
        d.start()
        sink.wait_rcpts(1, timeout=20)
        self.assertEqual(sink.messages()[0].decoded_subject(), "停止中")
        self.assertFalse(os.path.exists(stale))
        quarantined = os.path.join(d.dir, "spool", "quarantine", junk_id)
        wait_until(lambda: os.path.exists(quarantined), 10,
            what="quarantined file")
        self.assertIn("%s: quarantined" % junk_id, d.log())

    def test_relay_down_then_up(self):
        port = harness.free_port()
        d = Daemon(port)
        self.addCleanup(d.close)
        d.ctl("add", "meguro", "a@" + M)
        d.ctl("add", "meguro", "b@" + M)
        msg = make_message("a@" + M, "meguro@" + LIST_DOMAIN, "待機", "x\n")
        d.lmtp_send(["meguro@" + LIST_DOMAIN], msg, sender="a@" + M)
        wait_until(lambda: "status=deferred" in d.log(), 20,
            what="a deferral")
        self.assertIn("deferred", d.ctl("queue").stdout)
        sink = Sink(port=port)
        self.addCleanup(sink.close)
        d.ctl("flush")
        sink.wait_rcpts(2, timeout=30)
        self.assertEqual(sorted(sink.rcpt_counts()), ["a@" + M, "b@" + M])


if __name__ == "__main__":
    unittest.main(verbosity=2)
