#!/usr/bin/python3
"""test_hostile - hostile mail and hostile LMTP clients.

The corpus: tests/corpus/hostile/ holds the messages (gen-*.eml written
by generate.py there, hand-*.eml written by hand; a first line
"X-Corpus-To: ADDR" names the recipient, else the open list meguro), and
generate.big_messages() makes the big ones at run time: a 1 MB header
line, a 1 MB Subject, 10,000 header fields, multipart nested 20,000
deep (quarantined at once: libetpan would take minutes over it), a 50 MB
attachment (max_message_size is raised to 64 MB here).  No From, 8-bit and NUL in
headers, multipart nested 200 deep, broken base64 and quoted-printable,
unknown charsets, encoded words inside addresses, From with several
addresses, mixed CRLF and LF, commands, bounces, loops.

For each message, sent over LMTP to the real daemon:
  - the daemon stays up (it answers the next connection);
  - LMTP answers it (250 "stored as ID" for all of these: the entry
    judges the envelope and the size, never the content);
  - the processor finishes with it: the log has a line for the ID after
    the entry's, and the file leaves new/; it is delivered, held,
    answered, recorded (bounces) or quarantined; a quarantined or held
    one is still in its folder: nothing accepted is lost;
  - everything queued for delivery reaches the relay (the queue empties).
A share of the corpus also goes through mlserver-receive: exit 0 or 65,
never a crash.

The LMTP server against hostile clients (a daemon of its own):
  - slow clients (a byte every 20 ms) do not hold up the others;
  - 1,000 connections at once: the server serves 256 at a time
    (LMTP_MAX_CONNECTIONS); each client past the cap is told "421 4.3.2"
    and closed, the 256 complete a transaction each, all at once, and
    after they leave new clients are served again;
  - over-long lines: a 10 MB command line, a 100 KB MAIL, a 5 MB line
    inside DATA (stored as received), without losing the connection;
  - commands out of order and unknown (BDAT, STARTTLS, AUTH, HELO),
    pipelined garbage, a second MAIL, LHLO inside a transaction.
"""

import collections
import os
import re
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "corpus", "hostile"))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)
import generate  # noqa: E402

CORPUS = os.path.join(os.environ.get("top_srcdir") or os.path.dirname(HERE),
    "tests", "corpus", "hostile")
M = MEMBER_DOMAIN
DEFAULT_RCPT = "meguro@" + LIST_DOMAIN
SENDER = "hostile@" + M
STORED_RE = re.compile(r"stored as ([0-9A-F]{20})")
TIMEOUT = 120


class Conn:
    """A raw LMTP client."""

    def __init__(self, port, timeout=TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port),
            timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self):
        code, lines = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return None, lines
            line = line.rstrip(b"\r\n").decode("utf-8", "replace")
            code = int(line[:3])
            lines.append(line[4:])
            if line[3:4] != "-":
                return code, lines

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n" if isinstance(line, str)
            else line + b"\r\n")
        return self.reply()

    def transaction(self, rcpts, data, sender=SENDER):
        """MAIL, RCPTs, DATA, the data; the replies after the data."""
        assert self.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        ok = [r for r in rcpts if self.cmd("RCPT TO:<%s>" % r)[0] == 250]
        if not ok:
            return []
        code, lines = self.cmd("DATA")
        if code != 354:
            return [(code, lines)] * len(ok)
        self.send(stuff(data))
        return [self.reply() for _ in ok]

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


def stuff(data):
    if not data.endswith(b"\n"):
        data += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", data) + b".\r\n"


def load_corpus():
    """[(name, rcpt, bytes)] of the committed corpus, in name order."""
    out = []
    for name in sorted(os.listdir(CORPUS)):
        if not name.endswith(".eml"):
            continue
        with open(os.path.join(CORPUS, name), "rb") as f:
            data = f.read()
        rcpt = DEFAULT_RCPT
        m = re.match(rb"X-Corpus-To: ([^\r\n]*)\r?\n", data)
        if m:
            rcpt = m.group(1).decode()
            data = data[m.end():]
        out.append((name, rcpt, data))
    return out


def split_rcpt(data):
    m = re.match(rb"X-Corpus-To: ([^\r\n]*)\r?\n", data)
    if m:
        return m.group(1).decode(), data[m.end():]
    return DEFAULT_RCPT, data


class HostileMail(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sink = Sink()
        cls.d = Daemon(cls.sink.port, config={
            "max_message_size": 64 * 1024 * 1024}, start=False)
        cls.d.start()
        for lst, addr in (("meguro", "m1@" + M), ("meguro", "m2@" + M),
                ("setagaya", "s1@" + M), ("meguro", "a@" + M)):
            cls.d.ctl("add", lst, addr, check=True)

    @classmethod
    def tearDownClass(cls):
        cls.d.close()
        cls.sink.close()

    def spool(self, folder):
        return os.listdir(os.path.join(self.d.dir, "spool", folder))

    def send_all(self, items, per_conn=20):
        """Send [(name, rcpt, data)]; return {id: name} of those stored."""
        ids = {}
        for i in range(0, len(items), per_conn):
            c = Conn(self.d.port)
            self.assertEqual(c.greeting[0], 220, c.greeting)
            self.assertEqual(c.cmd("LHLO client.example.jp")[0], 250)
            for name, rcpt, data in items[i:i + per_conn]:
                replies = c.transaction([rcpt], data)
                self.assertEqual(len(replies), 1, (name, replies))
                code, lines = replies[0]
                self.assertEqual(code, 250, (name, rcpt, lines))
                ids[STORED_RE.search(lines[0]).group(1)] = name
            self.assertEqual(c.cmd("QUIT")[0], 221)
            c.close()
            self.assertTrue(self.d.running(), self.d.log()[-3000:])
        return ids

    def outcomes(self, ids, timeout=TIMEOUT):
        """Wait until each stored id is finished with; return
        {id: [log lines about it after the entry's]}."""
        def done():
            return not (set(self.spool("new")) & set(ids))
        try:
            wait_until(done, timeout, 0.2, "new/ to empty")
        except TimeoutError:
            left = set(self.spool("new")) & set(ids)
            self.fail("still in new/: %s\n--- log ---\n%s" % (
                [ids[i] for i in left], self.d.log()[-5000:]))
        log = self.d.log().splitlines()
        lines = collections.defaultdict(list)
        for line in log:
            m = re.search(r"mlserverd: ([0-9A-F]{20}): (.*)", line)
            if m and m.group(1) in ids and not m.group(2).endswith(
                    "(lmtp)"):
                lines[m.group(1)].append(m.group(2))
        return lines

    def classify(self, ids, lines):
        kinds = collections.Counter()
        held = set(self.spool("held"))
        quarantine = set(self.spool("quarantine"))
        for qid, name in ids.items():
            ls = lines.get(qid, [])
            self.assertTrue(ls, "%s (%s): no log line after the entry"
                % (name, qid))
            text = " | ".join(ls)
            if "quarantined" in text:
                kind = "quarantined"
                self.assertIn(qid, quarantine, name)
            elif qid in held:
                kind = "held"
            elif "queued as" in text:
                kind = "queued"
            elif "loop" in text:
                kind = "loop"
            else:
                kind = "handled"	# a reply, a bounce record, dropped
            kinds[kind] += 1
        return kinds

    def test_corpus_over_lmtp(self):
        items = load_corpus()
        self.assertGreaterEqual(len(items), 200, "the corpus shrank")
        ids = self.send_all(items)
        self.assertEqual(len(ids), len(items))
        lines = self.outcomes(ids)
        kinds = self.classify(ids, lines)
        print("corpus: %d messages: %s" % (len(items), dict(kinds)),
            file=sys.stderr)
        self.assertTrue(self.d.running())
        # Whatever was queued reaches the relay.
        wait_until(lambda: self.d.ctl("queue").stdout.strip() ==
            "the queue is empty", 60, 0.5, "the queue to empty")
        self.assertEqual(self.spool("tmp"), [])
        # A plain post still goes through afterwards.
        msg = make_message("a@" + M, DEFAULT_RCPT, "後の投稿", "普通\n")
        r = self.d.lmtp_send([DEFAULT_RCPT], msg, sender="a@" + M)
        self.assertEqual(r[DEFAULT_RCPT][0], 250)
        self.sink.wait_for(lambda ms: any(m.decoded_subject() == "後の投稿"
            for m in ms), 30)

    def test_big_messages(self):
        items = []
        for name, data in sorted(generate.big_messages().items()):
            rcpt, data = split_rcpt(data)
            items.append((name, rcpt, data))
        start = time.monotonic()
        ids = self.send_all(items, per_conn=1)
        sent = time.monotonic() - start
        # Seconds, not minutes: nothing here may hold the processor.
        lines = self.outcomes(ids, timeout=60)
        kinds = self.classify(ids, lines)
        print("big: %s in %.1fs (sent in %.1fs)" % (dict(kinds),
            time.monotonic() - start, sent), file=sys.stderr)
        deep = [q for q, n in ids.items() if n == "big-nested-20000"][0]
        self.assertIn("quarantined", " ".join(lines[deep]))
        big = [q for q, n in ids.items() if n == "big-attachment-50mb"][0]
        self.assertIn("queued as", " ".join(lines[big]))
        # The 50 MB post reaches both members in full.
        ms = self.sink.wait_for(lambda ms: any(len(m.raw) > 50 * 10**6
            for m in ms), 120, 1)
        self.assertTrue(any(len(m.raw) > 50 * 10**6 for m in ms))
        self.assertTrue(self.d.running())

    def test_corpus_through_receive(self):
        items = load_corpus()[::7]
        for name, rcpt, data in items:
            r = subprocess.run([harness.MLSERVER_RECEIVE, "-c", self.d.conf,
                "-f", SENDER, rcpt], input=data, capture_output=True,
                timeout=60)
            self.assertIn(r.returncode, (0, 65), (name, r.stderr))
        self.assertTrue(self.d.running())


class HostileClients(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, config={
            "max_message_size": 16 * 1024 * 1024})
        self.addCleanup(self.d.close)
        self.rcpt = DEFAULT_RCPT

    def conn(self):
        c = Conn(self.d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting[0], 220, c.greeting)
        return c

    def assert_serving(self):
        c = self.conn()
        c.cmd("LHLO client.example.jp")
        r = c.transaction([self.rcpt], make_message(SENDER, self.rcpt,
            "まだ動いている", "x\n"))
        self.assertEqual(r[0][0], 250, r)
        self.assertEqual(c.cmd("QUIT")[0], 221)

    def test_slow_clients_do_not_hold_others(self):
        msg = make_message(SENDER, self.rcpt, "ゆっくり", "遅い送信\n" * 3)
        results = []

        def slow():
            try:
                c = Conn(self.d.port)
                for b in (b"LHLO slow\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n"
                        b"DATA\r\n" % (SENDER.encode(), self.rcpt.encode())):
                    c.send(bytes((b,)))
                    time.sleep(0.02)
                for _ in range(4):
                    c.reply()
                for i in range(0, len(stuff(msg)), 4):
                    c.send(stuff(msg)[i:i + 4])
                    time.sleep(0.02)
                results.append(c.reply()[0])
                c.close()
            except OSError as e:
                results.append(repr(e))
        threads = [threading.Thread(target=slow) for _ in range(20)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        start = time.monotonic()
        for _ in range(5):
            self.assert_serving()
        fast = time.monotonic() - start
        self.assertLess(fast, 3, "slow clients held up the fast one")
        self.assertTrue(any(t.is_alive() for t in threads),
            "the slow clients were not slow")
        for t in threads:
            t.join(120)
        self.assertEqual(results, [250] * 20)

    def test_thousand_connections(self):
        n, cap = 1000, 256
        conns, refused = [], []
        lock = threading.Lock()

        def connect():
            # 50 clients open 20 connections each, one after the other,
            # and keep them all: 1,000 open at once, without a burst of
            # 1,000 SYNs overflowing the listen backlog (128), which only
            # makes the kernel retry them seconds later.
            for _ in range(n // 50):
                try:
                    c = Conn(self.d.port, timeout=120)
                except OSError as e:
                    with lock:
                        refused.append(repr(e))
                    continue
                with lock:
                    conns.append(c)
        threads = [threading.Thread(target=connect) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        try:
            self.assertEqual(refused, [])
            codes = collections.Counter(c.greeting[0] for c in conns)
            self.assertEqual(codes, {220: cap, 421: n - cap}, codes)
            for c in conns:
                if c.greeting[0] == 421:
                    self.assertTrue(c.greeting[1][0].startswith("4.3.2"),
                        c.greeting)
                    self.assertEqual(c.reply(), (None, []))	# closed
            served = [c for c in conns if c.greeting[0] == 220]
            replies = []

            def transact(c):
                try:
                    c.cmd("LHLO many.example.jp")
                    r = c.transaction([self.rcpt], make_message(SENDER,
                        self.rcpt, "千の接続", "x\n"))
                    c.cmd("QUIT")
                    with lock:
                        replies.append(r[0][0])
                except OSError as e:
                    with lock:
                        replies.append(repr(e))
            threads = [threading.Thread(target=transact, args=(c,))
                for c in served]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(collections.Counter(replies), {250: cap})
        finally:
            for c in conns:
                c.close()
        def room():
            c = Conn(self.d.port)
            c.close()
            return c.greeting[0] == 220
        wait_until(room, 10, what="room again")
        self.assertTrue(self.d.running())
        self.assert_serving()

    def test_overlong_lines(self):
        c = self.conn()
        c.cmd("LHLO client.example.jp")
        # 10 MB without a line end, then one: a single 500.
        c.send(b"NOOP " + b"x" * (10 * 1024 * 1024) + b"\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        self.assertIn("too long", lines[0])
        self.assertEqual(c.cmd("NOOP")[0], 250)
        code, _ = c.cmd("MAIL FROM:<" + "a" * 100000 + "@" + M + ">")
        self.assertEqual(code, 500)
        # A 5 MB line inside DATA is the sender's business: stored as
        # received (the limit here is 16 MB).
        data = (b"From: " + SENDER.encode() + b"\r\nSubject: long line\r\n"
            b"\r\n" + b"L" * (5 * 1024 * 1024) + b"\r\nend\r\n")
        r = c.transaction([self.rcpt], data)
        self.assertEqual(r[0][0], 250, r)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assert_serving()

    def test_commands_out_of_order(self):
        c = self.conn()
        for line, want in (
                ("MAIL FROM:<%s>" % SENDER, 503),	# before LHLO
                ("HELO client", 500), ("EHLO client", 500),
                ("LHLO client.example.jp", 250),
                ("RCPT TO:<%s>" % self.rcpt, 503),
                ("DATA", 503),
                ("BDAT 10 LAST", 500),
                ("STARTTLS", 500),
                ("AUTH PLAIN AGFhAGI=", 500),
                ("MAIL FROM:<%s>" % SENDER, 250),
                ("MAIL FROM:<%s>" % SENDER, 503),
                ("DATA", 503),
                ("RCPT TO:<%s>" % self.rcpt, 250),
                ("LHLO again.example.jp", 250),	# resets the transaction
                ("DATA", 503),
                ("RSET", 250),
                ("\x01\x02\x03", 500),
                ("MAIL FROM:<%s> BODY=BINARYMIME" % SENDER, 555),
                ("MAIL FROM:<%s> SIZE=-1" % SENDER, 501),
                ("MAIL FROM:<%s> SIZE=99999999999999999999999" % SENDER,
                    501),
                ("RCPT TO:<%s> NOTIFY=NEVER" % self.rcpt, 503),
                ("QUIT now", 221)):
            code, lines = c.cmd(line)
            self.assertEqual(code, want, "%r -> %s %s" % (line, code, lines))
        # Pipelined garbage, with a transaction in the middle of it.
        c = self.conn()
        msg = make_message(SENDER, self.rcpt, "混在", "x\n")
        c.send(b"LHLO p\r\nXYZZY\r\nRCPT TO:<x@y>\r\nMAIL FROM:<" +
            SENDER.encode() + b">\r\nRCPT TO:<" + self.rcpt.encode() +
            b">\r\nDATA\r\n" + stuff(msg) + b"DATA\r\nQUIT\r\n")
        got = [c.reply()[0] for _ in range(9)]
        self.assertEqual(got, [250, 500, 503, 250, 250, 354, 250, 503, 221])
        self.assert_serving()
        self.assertTrue(self.d.running())


if __name__ == "__main__":
    unittest.main(verbosity=2)
