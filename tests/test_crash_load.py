#!/usr/bin/python3
"""test_crash_load - kill -9 under load: nothing lost, duplicates bounded.

A list of 10,000 members and a small one of 20; an LMTP client posts to
both (3 posts to the big list, 9 to the small one) while the daemon is
killed with SIGKILL at least ten times, at random moments, and started
again each time.  smtp-sink (-w 1: each DATA answered a second late, so
that delivery of the 39 transactions takes long enough for the kills to
land in the middle of it) is the relay.  Then, from smtp-sink's dump:

  - every recipient got every post at least once;
  - duplicates are no more than one transaction's batch per kill.

Why that bound: the deliverer runs one SMTP session at a time, of up to
relay.max_transactions transactions, and commits each transaction's
result as soon as the relay has answered it (outq.c), before the next
transaction's data is sent.  So at any moment at most one transaction is
"in flight" (the relay may have it, the database does not yet say so),
and a kill can make at most that one be sent again: at most
relay.max_recipients copies per kill, whatever max_transactions is.

The LMTP client behaves as an MTA does: a post whose transaction was cut
by a kill before its 250 is sent again, unless the daemon had stored it
(its "from=<...> (lmtp)" log line names the post's unique sender).  A
post stored twice that way would be a duplicate made at the entry, not
by the deliverer: the test counts it apart (expected copies per post =
times stored) and reports it.

Also checked after the run: the queue is empty, nothing is left in
spool/new, tmp or quarantine, and nothing was quarantined.  The random
seed is printed (set MLS_CRASH_SEED to replay one).  Run time about a
minute.
"""

import os
import random
import re
import socket
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN
BIG, SMALL = "meguro", "kita"
NBIG, NSMALL = 10000, 20
BATCH = 1000		# relay.max_recipients: 10 transactions per big post
BIG_POSTS, SMALL_POSTS = 3, 9
MIN_KILLS = 10


def fill(db_path, lst, addrs):
    db = sqlite3.connect(db_path, timeout=30)
    db.executemany("INSERT INTO members (list, addr, created) "
        "VALUES (?, ?, 0)", [(lst, a) for a in addrs])
    db.commit()
    db.close()


class Poster(threading.Thread):
    """Posts each message by LMTP, as an MTA would, through the kills."""

    def __init__(self, d, posts):
        super().__init__(daemon=True)
        self.d = d
        self.posts = posts	# [(list, subject, sender)]
        self.errors = []
        self.resent = 0

    def stored(self, sender):
        return "from=<%s> size=" % sender in self.d.log()

    def run(self):
        rng = random.Random(len(self.posts))
        for lst, subject, sender in self.posts:
            rcpt = lst + "@" + LIST_DOMAIN
            msg = make_message(sender, rcpt, subject, "負荷試験の本文\n")
            deadline = time.monotonic() + 90
            while True:
                try:
                    r = self.d.lmtp_send([rcpt], msg, sender=sender,
                        timeout=20)
                    code = r[rcpt][0]
                except (OSError, EOFError, Exception) as e:  # a kill
                    code = repr(e)
                if code == 250 or self.stored(sender):
                    break
                if time.monotonic() > deadline:
                    self.errors.append("%s: never stored (%s)"
                        % (subject, code))
                    break
                self.resent += 1
                time.sleep(0.2)
            time.sleep(rng.uniform(0.5, 2.0))


class CrashLoad(unittest.TestCase):

    def test_kills_under_load(self):
        seed = int(os.environ.get("MLS_CRASH_SEED") or time.time())
        print("seed", seed, file=sys.stderr)
        rng = random.Random(seed)
        sink = Sink(extra_args=("-w", "1"))
        self.addCleanup(sink.close)
        d = Daemon(sink.port, max_recipients=BATCH)
        self.addCleanup(d.close)
        big = ["u%05d@%s" % (i, M) for i in range(NBIG)]
        small = ["s%02d@%s" % (i, M) for i in range(NSMALL)]
        fill(d.db_path, BIG, big)
        fill(d.db_path, SMALL, small)

        posts = [(BIG, "大きな投稿 %d" % i, "big%d@%s" % (i, M))
            for i in range(BIG_POSTS)]
        posts += [(SMALL, "小さな投稿 %d" % i, "small%d@%s" % (i, M))
            for i in range(SMALL_POSTS)]
        rng.shuffle(posts)
        # A big post first, so that delivery is under way from the start.
        posts.sort(key=lambda p: p[0] != BIG or p[1] != "大きな投稿 0")
        poster = Poster(d, posts)
        poster.start()

        kills = 0
        start = time.monotonic()
        while kills < MIN_KILLS:
            time.sleep(rng.uniform(0.8, 3.5))
            d.kill9()
            kills += 1
            d.restart()
        kill_phase = time.monotonic() - start
        poster.join(120)
        self.assertFalse(poster.is_alive(), "poster stuck")
        self.assertEqual(poster.errors, [])

        expected = {subj: (big if lst == BIG else small)
            for lst, subj, _ in posts}

        def complete(msgs):
            got = {}
            for m in msgs:
                got.setdefault(m.decoded_subject(), set()).update(m.rcpts)
            return all(set(want) <= {r.lower() for r in got.get(s, ())}
                for s, want in expected.items())
        try:
            sink.wait_for(complete, timeout=120, interval=1)
        except TimeoutError:
            self.fail("not every recipient got every post\n--- log ---\n"
                + d.log()[-5000:])
        # Let anything in flight land, then read the dump once.
        time.sleep(2)
        msgs = sink.messages()

        # Times each post was stored (normally 1; 2 only if a kill fell
        # between the commit and the 250 and the client sent it again).
        log = d.log()
        stored = {subj: len(re.findall(r"from=<%s> size=\d+ nrcpt=1 "
            r"\(lmtp\)" % re.escape(sender), log))
            for _, subj, sender in posts}
        self.assertTrue(all(n >= 1 for n in stored.values()), stored)

        copies = {}
        for m in msgs:
            s = m.decoded_subject()
            for r in m.rcpts:
                copies[(s, r.lower())] = copies.get((s, r.lower()), 0) + 1
        missing = [(s, r) for s, want in expected.items() for r in want
            if copies.get((s, r), 0) < 1]
        self.assertEqual(missing[:10], [], "%d copies missing"
            % len(missing))
        dups = sum(max(0, n - stored[s]) for (s, r), n in copies.items())
        entry_dups = sum(n - 1 for n in stored.values())
        print("kills %d in %.1fs, posts resent by the client %d, posts "
            "stored twice %d, duplicate copies %d (bound %d), "
            "transactions %d" % (kills, kill_phase, poster.resent,
            entry_dups, dups, kills * BATCH, len(msgs)), file=sys.stderr)
        self.assertLessEqual(dups, kills * BATCH)

        wait_until(lambda: d.ctl("queue").stdout.strip()
            == "the queue is empty", 30, what="an empty queue")
        for folder in ("new", "tmp", "quarantine"):
            self.assertEqual(os.listdir(os.path.join(d.dir, "spool",
                folder)), [], folder)
        self.assertNotIn("quarantined", log)
        self.assertGreaterEqual(kills, MIN_KILLS)


if __name__ == "__main__":
    unittest.main(verbosity=2)
