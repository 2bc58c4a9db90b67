#!/usr/bin/python3
"""test_relay_faults - the deliverer against a relay that misbehaves.

A scripted SMTP server (ScriptedRelay, below: Python on 127.0.0.1, one
thread per connection) stands in for the relay MTA and answers as told:
421 at the greeting, 451 to some RCPTs, 550 or 552 to others, the
connection dropped in the middle of DATA, replies 5 seconds late, or no
listener at all.  It records every RCPT it answered (with the time) and
every transaction whose data it took in full, so "delivered once" means
the relay accepted the recipient in exactly one complete transaction.

With the real daemon relaying to it (queue.retry_first small):
  - 421 on connect: everything deferred, then delivered once the relay
    greets normally;
  - 451 to some RCPTs: those retried with exponential backoff
    (retry_first doubling up to retry_max) and delivered once; the others
    delivered once, never resent;
  - 550 and 552: failed, counted as failed in `mlserverctl --json queue`
    and `--json stats`, never tried again (not even after `flush`);
  - connection lost mid-DATA: that transaction retried and delivered
    once, the transaction committed before it never resent;
  - a relay answering 5 s late: tolerated, delivered once, no deferral;
  - the relay down entirely: every post waits (nothing lost, queued as
    deferred), then everything goes out once it is back, without flush;
  - the queue survives a restart (SIGTERM and kill -9) while deferred;
  - past queue.lifetime (default 5 days) a deferred recipient is failed.
"""

import collections
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon,  # noqa: E402
    free_port, make_message, wait_until)

M = MEMBER_DOMAIN
LIST = "meguro"
LIST_ADDR = LIST + "@" + LIST_DOMAIN
POSTER = "poster@" + M


def kept_texts(d):
    """Ids of outgoing messages whose text is kept: rows of outbody and
    files in spool/out."""
    db = sqlite3.connect(d.db_path)
    try:
        ids = [r[0] for r in db.execute("SELECT id FROM outbody")]
    finally:
        db.close()
    return ids + os.listdir(os.path.join(d.dir, "spool", "out"))


class Txn:
    """One transaction as the relay saw it."""

    def __init__(self, conn, sender):
        self.conn = conn
        self.sender = sender
        self.rcpts = []		# accepted (2xx) recipients
        self.data = None	# bytes, once the final "." arrived
        self.completed = False	# 250 sent after the data
        self.dropped = False	# we cut the connection in DATA

    def __repr__(self):
        return "<Txn conn=%d rcpts=%d completed=%s dropped=%s>" % (
            self.conn, len(self.rcpts), self.completed, self.dropped)


class ScriptedRelay:
    """An SMTP server on 127.0.0.1:port that answers as its script says.

    Script hooks (attributes; replace them in a test):
        greeting(conn_no) -> (code, text)      per connection, from 1
        close_after_refusal                    True: close the socket
                                               right after a non-220
                                               greeting; False: wait for
                                               the client's QUIT first
        rcpt(addr, attempt) -> (code, text)    attempt: 1 for the first
                                               RCPT of addr ever seen
        drop_in_data(txn) -> bool              close the socket after a
                                               few lines of this data
        data_delay, greeting_delay             seconds before the reply
                                               after "." / the greeting
    Records (under .lock): .txns (every Txn), .rcpt_log {addr: [(time,
    code), ...]}, .connections (count).
    """

    def __init__(self, port=None, start=True):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self.txns = []
        self.rcpt_log = collections.defaultdict(list)
        self.connections = 0
        self.active = 0		# sessions open now
        self.max_active = 0	# the most open at once
        self.greeting = lambda n: (220, "relay.example.net ESMTP scripted")
        self.rcpt = lambda addr, attempt: (250, "2.1.5 Ok")
        self.drop_in_data = lambda txn: False
        self.data_delay = 0
        self.greeting_delay = 0
        self.close_after_refusal = True
        self.sock = None
        self.threads = []
        self.stopping = False
        if start:
            self.start()

    # -- server

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.sock = s
        self.stopping = False
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping = True
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def _accept(self):
        sock = self.sock
        while not self.stopping:
            try:
                c, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                n = self.connections
            t = threading.Thread(target=self._serve, args=(c, n),
                daemon=True)
            t.start()

    def _serve(self, c, n):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self._session(c, n)
        except OSError:
            pass
        finally:
            with self.lock:
                self.active -= 1
            try:
                c.close()
            except OSError:
                pass

    def _session(self, c, n):
        c.settimeout(120)
        f = c.makefile("rb")

        def reply(code, text):
            c.sendall(("%d %s\r\n" % (code, text)).encode())

        if self.greeting_delay:
            time.sleep(self.greeting_delay)
        code, text = self.greeting(n)
        reply(code, text)
        if code != 220:
            if not self.close_after_refusal:
                # RFC 5321 3.1 lets a server wait for QUIT instead.
                f.readline()
                reply(221, "2.0.0 Bye")
            return
        txn = None
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd[:4].upper()
            if verb == "EHLO":
                c.sendall(b"250-relay.example.net\r\n250-PIPELINING\r\n"
                    b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n"
                    b"250 SIZE 104857600\r\n")
            elif verb == "HELO":
                reply(250, "relay.example.net")
            elif verb == "MAIL":
                sender = cmd[cmd.find("<") + 1:cmd.rfind(">")]
                txn = Txn(n, sender)
                reply(250, "2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[cmd.find("<") + 1:cmd.rfind(">")]
                with self.lock:
                    attempt = len(self.rcpt_log[addr]) + 1
                code, text = self.rcpt(addr, attempt)
                with self.lock:
                    self.rcpt_log[addr].append((time.monotonic(), code))
                if txn is not None and 200 <= code < 300:
                    txn.rcpts.append(addr)
                reply(code, text)
            elif verb == "DATA":
                if txn is None or not txn.rcpts:
                    reply(554, "5.5.1 Error: no valid recipients")
                    continue
                reply(354, "End data with <CR><LF>.<CR><LF>")
                with self.lock:
                    self.txns.append(txn)
                drop = self.drop_in_data(txn)
                data = bytearray()
                lines = 0
                while True:
                    dl = f.readline()
                    if not dl:
                        return
                    lines += 1
                    if drop and lines >= 5:
                        txn.dropped = True
                        c.shutdown(socket.SHUT_RDWR)
                        return
                    if dl in (b".\r\n", b".\n"):
                        break
                    if dl.startswith(b"."):
                        dl = dl[1:]
                    data += dl
                if self.data_delay:
                    time.sleep(self.data_delay)
                txn.data = bytes(data)
                txn.completed = True
                reply(250, "2.0.0 Ok: queued")
                txn = None
            elif verb == "RSET":
                txn = None
                reply(250, "2.0.0 Ok")
            elif verb == "NOOP":
                reply(250, "2.0.0 Ok")
            elif verb == "QUIT":
                reply(221, "2.0.0 Bye")
                return
            else:
                reply(502, "5.5.2 Error: command not recognized")

    # -- what it saw

    def delivered(self):
        """Counter: recipient -> complete transactions that carried it."""
        c = collections.Counter()
        with self.lock:
            for t in self.txns:
                if t.completed:
                    c.update(t.rcpts)
        return c

    def attempts(self, addr):
        with self.lock:
            return list(self.rcpt_log.get(addr, []))

    def wait_delivered(self, addrs, timeout=30):
        want = set(addrs)
        return wait_until(lambda: want <= set(self.delivered()), timeout,
            0.1, "relay to accept %d recipients" % len(want))


class RelayFaults(unittest.TestCase):

    def start(self, relay_port, queue=None, members=(), max_recipients=50,
        relay=None):
        cfg = {}
        if queue is not None:
            cfg["queue"] = queue
        if relay is not None:
            cfg["relay"] = relay
        d = Daemon(relay_port, config=cfg, max_recipients=max_recipients)
        self.addCleanup(self.dump_log, d)
        self.addCleanup(d.close)
        if members:
            db = sqlite3.connect(d.db_path)
            db.executemany("INSERT INTO members (list, addr, created) "
                "VALUES (?, ?, 0)", [(LIST, a) for a in members])
            db.commit()
            db.close()
        return d

    def dump_log(self, d):
        if hasattr(self, "_outcome") and any(
                e for _, e in getattr(self._outcome, "errors", [])):
            print("--- mlserverd log ---\n" + d.log(), file=sys.stderr)

    def relay(self, **kw):
        r = ScriptedRelay(**kw)
        self.addCleanup(r.stop)
        return r

    def post(self, d, subject, lst=LIST):
        addr = lst + "@" + LIST_DOMAIN
        msg = make_message(POSTER, addr, subject, "本文です。\n")
        r = d.lmtp_send([addr], msg, sender=POSTER)
        self.assertEqual(r[addr][0], 250, r)

    def queue(self, d):
        r = d.ctl("--json", "queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def stats(self, d):
        r = d.ctl("--json", "stats")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def assert_once(self, relay, addrs):
        got = relay.delivered()
        self.assertEqual({a: got[a] for a in addrs},
            {a: 1 for a in addrs})

    # ------------------------------------------------------------ tests

    def test_421_greeting_defers_then_delivers(self):
        relay = self.relay()
        relay.greeting = lambda n: ((421, "4.3.2 relay.example.net busy")
            if n <= 2 else (220, "relay.example.net ESMTP"))
        members = ["g%d@%s" % (i, M) for i in range(3)]
        d = self.start(relay.port, members=members)
        self.post(d, "421 の試験")
        relay.wait_delivered(members, 30)
        self.assertGreaterEqual(relay.connections, 3)
        self.assertIn("said: 421 4.3.2 relay.example.net busy", d.log())
        self.assertIn("status=deferred", d.log())
        time.sleep(1.5)
        self.assert_once(relay, members)
        s = self.stats(d)
        self.assertEqual((s["sent_recipients"], s["failed_recipients"]),
            (3, 0))
        wait_until(lambda: self.queue(d) == [], 10, what="empty queue")

    def test_421_then_quit_reason_logged(self):
        """The relay greets 421 and waits for our QUIT: the deferral names
        the relay's 421 line, not the 221 that answered the QUIT."""
        relay = self.relay()
        relay.close_after_refusal = False
        relay.greeting = lambda n: ((421, "4.3.2 relay.example.net busy")
            if n == 1 else (220, "relay.example.net ESMTP"))
        members = ["q%d@%s" % (i, M) for i in range(2)]
        d = self.start(relay.port, members=members)
        self.post(d, "421 と QUIT の試験")
        relay.wait_delivered(members, 30)
        time.sleep(1)
        self.assert_once(relay, members)
        self.assertIn("status=deferred", d.log())
        self.assertIn("said: 421 4.3.2 relay.example.net busy", d.log())

    def test_451_rcpt_retried_with_backoff(self):
        relay = self.relay()
        soft = "soft@" + M
        # Refused four times, then accepted: gaps 1, 2, 4, 4 seconds.
        relay.rcpt = lambda addr, n: ((451, "4.7.1 try again later")
            if addr == soft and n <= 4 else (250, "2.1.5 Ok"))
        others = ["ok%d@%s" % (i, M) for i in range(4)]
        d = self.start(relay.port, members=others + [soft],
            queue={"retry_first": 1, "retry_max": 4, "lifetime": 600})
        self.post(d, "451 の試験")
        relay.wait_delivered(others + [soft], 40)
        time.sleep(1.5)
        self.assert_once(relay, others + [soft])
        for a in others:
            self.assertEqual(len(relay.attempts(a)), 1, a)
        times = [t for t, code in relay.attempts(soft)]
        self.assertEqual([code for t, code in relay.attempts(soft)],
            [451, 451, 451, 451, 250])
        gaps = [b - a for a, b in zip(times, times[1:])]
        # The deliverer sleeps in whole seconds: allow a second late.
        for gap, want in zip(gaps, (1, 2, 4, 4)):
            self.assertGreaterEqual(gap, want - 0.5, gaps)
            self.assertLessEqual(gap, want + 1.8, gaps)
        self.assertIn("451 4.7.1 try again later", d.log())

    def test_5xx_failed_counted_and_not_retried(self):
        relay = self.relay()
        hard550, hard552, soft = "nouser@" + M, "full@" + M, "later@" + M
        ok = ["ok%d@%s" % (i, M) for i in range(2)]

        def rcpt(addr, n):
            if addr == hard550:
                return 550, "5.1.1 <%s>: user unknown" % addr
            if addr == hard552:
                return 552, "5.2.2 mailbox full"
            if addr == soft and n == 1:
                return 451, "4.3.0 later"
            return 250, "2.1.5 Ok"
        relay.rcpt = rcpt
        d = self.start(relay.port, members=ok + [hard550, hard552, soft],
            queue={"retry_first": 4, "retry_max": 8, "lifetime": 600})
        self.post(d, "550/552 の試験")
        relay.wait_delivered(ok, 20)
        # While "later" waits for its retry, the queue shows the rest.
        q = wait_until(lambda: [m for m in self.queue(d)
            if m["sent"] + m["failed"] == 4], 5, what="first round")
        self.assertEqual(len(q), 1, q)
        self.assertEqual((q[0]["total"], q[0]["sent"], q[0]["failed"],
            q[0]["deferred"], q[0]["pending"]), (5, 2, 2, 1, 0), q)
        s = self.stats(d)
        self.assertEqual(s["failed_recipients"], 2, s)
        self.assertEqual(s["queue_deferred"], 1, s)
        relay.wait_delivered([soft], 20)
        # flush makes deferred mail due; failed mail is not retried.
        d.ctl("flush")
        time.sleep(2.5)
        for a in (hard550, hard552):
            self.assertEqual([c for t, c in relay.attempts(a)],
                [550 if a == hard550 else 552], a)
        self.assert_once(relay, ok + [soft])
        self.assertNotIn(hard550, relay.delivered())
        s = self.stats(d)
        self.assertEqual((s["sent_recipients"], s["failed_recipients"],
            s["queue_deferred"], s["queue_pending"]), (3, 2, 0, 0), s)
        wait_until(lambda: self.queue(d) == [], 10, what="empty queue")
        # One log line per transaction; each refusal is logged.
        self.assertIn("2 bounced (", d.log())
        self.assertIn("550 5.1.1 <%s>: user unknown" % hard550, d.log())
        self.assertIn("552 5.2.2 mailbox full", d.log())

    def test_lost_in_data_retries_that_transaction(self):
        relay = self.relay()
        state = {"n": 0}

        def drop(txn):
            # The second transaction of the first session is cut.
            state["n"] += 1
            return state["n"] == 2
        relay.drop_in_data = drop
        members = ["u%03d@%s" % (i, M) for i in range(30)]
        d = self.start(relay.port, members=members, max_recipients=10,
            queue={"retry_first": 1, "retry_max": 2, "lifetime": 600})
        self.post(d, "DATA 途中切断の試験")
        relay.wait_delivered(members, 30)
        time.sleep(1.5)
        with relay.lock:
            txns = list(relay.txns)
        dropped = [t for t in txns if t.dropped]
        self.assertEqual(len(dropped), 1, txns)
        first = [t for t in txns if t.conn == dropped[0].conn]
        self.assertTrue(first[0].completed, txns)
        # The transaction that was cut is sent again; the one the relay
        # accepted before it is not.
        self.assert_once(relay, members)
        again = [t for t in txns if t.completed and
            set(t.rcpts) & set(dropped[0].rcpts)]
        self.assertEqual(len(again), 1, txns)
        self.assertGreater(again[0].conn, dropped[0].conn)
        self.assertIn("lost connection", d.log())
        # What arrived is the whole message.
        self.assertIn(b"\r\n\r\n", again[0].data)
        self.assertTrue(again[0].data.endswith(b"\r\n"))
        self.assertEqual(again[0].data, first[0].data)

    def test_parallel_sessions_overlap_and_deliver_once(self):
        # relay.sessions = 4 with a relay that takes a second over each
        # DATA: the round's 8 transactions run in 4 sessions at once.
        relay = self.relay()
        relay.data_delay = 1
        members = ["par%d@%s" % (i, M) for i in range(80)]
        d = self.start(relay.port, members=members, max_recipients=10,
            relay={"sessions": 4})
        self.post(d, "並行セッションの試験")
        relay.wait_delivered(members, 40)
        time.sleep(1)
        self.assert_once(relay, members)
        self.assertEqual(relay.connections, 4)
        self.assertEqual(relay.max_active, 4)
        self.assertEqual(d.log().count("status=sent"), 8)

    def test_late_relay_tolerated(self):
        relay = self.relay()
        relay.greeting_delay = 5
        relay.data_delay = 5
        members = ["late%d@%s" % (i, M) for i in range(3)]
        d = self.start(relay.port, members=members)
        start = time.monotonic()
        self.post(d, "遅い中継の試験")
        relay.wait_delivered(members, 40)
        self.assertGreaterEqual(time.monotonic() - start, 10)
        time.sleep(1)
        self.assert_once(relay, members)
        self.assertEqual(relay.connections, 1)
        self.assertNotIn("status=deferred", d.log())
        self.assertIn("status=sent", d.log())

    def test_relay_down_then_up_resumes_without_flush(self):
        port = free_port()
        members = ["d%d@%s" % (i, M) for i in range(5)]
        kita = ["k%d@%s" % (i, M) for i in range(3)]
        d = self.start(port, members=members,
            queue={"retry_first": 1, "retry_max": 2, "lifetime": 600})
        for a in kita:
            d.ctl("add", "kita", a)
        for i in range(3):
            self.post(d, "停止中の投稿 %d" % i)
        self.post(d, "北区への投稿", lst="kita")
        wait_until(lambda: len(self.queue(d)) == 4 and all(m["deferred"]
            == m["total"] for m in self.queue(d)), 20,
            what="four messages, every recipient deferred")
        self.assertIn("connect to 127.0.0.1:%d" % port, d.log())
        # Nothing lost while it waits: each text is kept (outq_body.h:
        # small ones in the database, large ones in out/).
        self.assertEqual(sorted(kept_texts(d)), sorted(m["id"] for m in
            self.queue(d)))
        relay = self.relay(port=port)
        relay.wait_delivered(members + kita, 20)
        time.sleep(1.5)
        got = relay.delivered()
        self.assertEqual({a: got[a] for a in members},
            {a: 3 for a in members})
        self.assert_once(relay, kita)
        wait_until(lambda: self.queue(d) == [], 10, what="empty queue")
        self.assertEqual(kept_texts(d), [])

    def test_large_text_waits_as_a_file(self):
        """A post larger than OUTQ_BODY_INLINE_MAX (256 KiB) is kept in
        spool/out while the relay is down, a small one in the database;
        both arrive whole, and nothing is left of either afterwards."""
        port = free_port()
        members = ["w%d@%s" % (i, M) for i in range(3)]
        d = self.start(port, members=members,
            queue={"retry_first": 1, "retry_max": 2, "lifetime": 600})
        addr = LIST + "@" + LIST_DOMAIN
        line = "大きな添付の代わりに、長い本文を送ります。" * 4 + "\n"
        big = make_message(POSTER, addr, "大きな投稿", line * 1200)
        self.assertGreater(len(big), 256 * 1024)
        for msg in (big, make_message(POSTER, addr, "小さな投稿", "短い\n")):
            r = d.lmtp_send([addr], msg, sender=POSTER)
            self.assertEqual(r[addr][0], 250, r)
        wait_until(lambda: len(self.queue(d)) == 2 and all(m["deferred"]
            == m["total"] for m in self.queue(d)), 20,
            what="two messages, every recipient deferred")
        files = os.listdir(os.path.join(d.dir, "spool", "out"))
        self.assertEqual(len(files), 1, files)
        self.assertEqual(sorted(kept_texts(d)), sorted(m["id"] for m in
            self.queue(d)))
        relay = self.relay(port=port)
        relay.wait_delivered(members, 20)
        wait_until(lambda: self.queue(d) == [], 10, what="empty queue")
        sizes = sorted(len(t.data) for t in relay.txns if t.completed)
        self.assertEqual(len(sizes), 2, sizes)
        self.assertGreater(sizes[1], 256 * 1024)
        self.assertIn("長い本文".encode(), max((t.data for t in relay.txns
            if t.completed), key=len) or b"")
        self.assertEqual(kept_texts(d), [])

    def test_queue_survives_restarts(self):
        port = free_port()
        members = ["r%d@%s" % (i, M) for i in range(4)]
        d = self.start(port, members=members,
            queue={"retry_first": 1, "retry_max": 2, "lifetime": 600})
        self.post(d, "再起動をまたぐ投稿")
        wait_until(lambda: any(m["deferred"] == 4 for m in self.queue(d)),
            20, what="deferred recipients")
        self.assertEqual(d.stop(), 0)
        self.assertEqual(self.queue(d)[0]["deferred"], 4)
        d.restart()
        time.sleep(1)
        d.kill9()
        self.assertEqual(self.queue(d)[0]["deferred"], 4)
        d.restart()
        relay = self.relay(port=port)
        relay.wait_delivered(members, 20)
        time.sleep(1.5)
        self.assert_once(relay, members)
        wait_until(lambda: self.queue(d) == [], 10, what="empty queue")

    def test_deferred_past_lifetime_fails(self):
        relay = self.relay()
        never = "never@" + M
        relay.rcpt = lambda addr, n: ((451, "4.2.0 not now")
            if addr == never else (250, "2.1.5 Ok"))
        # The default lifetime: five days.
        d = self.start(relay.port, members=[never, "fine@" + M],
            queue={"retry_first": 1, "retry_max": 1})
        self.post(d, "期限切れの試験")
        relay.wait_delivered(["fine@" + M], 20)
        wait_until(lambda: len(relay.attempts(never)) >= 2, 10,
            what="a retry")
        # Four days and 23 hours old: still retried.
        db = sqlite3.connect(d.db_path, timeout=10)
        db.execute("UPDATE outmsg SET created = created - ?",
            (5 * 86400 - 3600,))
        db.commit()
        n = len(relay.attempts(never))
        wait_until(lambda: len(relay.attempts(never)) > n + 1, 10,
            what="retries at 4 days 23 hours")
        self.assertEqual(self.stats(d)["failed_recipients"], 0)
        # Past five days: the next answer settles it as failed.
        db.execute("UPDATE outmsg SET created = created - 7200")
        db.commit()
        db.close()
        wait_until(lambda: self.stats(d)["failed_recipients"] == 1, 10,
            what="the recipient failed after the lifetime")
        self.assertIn("status=expired", d.log())
        n = len(relay.attempts(never))
        d.ctl("flush")
        time.sleep(2.5)
        self.assertEqual(len(relay.attempts(never)), n)
        self.assertEqual(self.queue(d), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
