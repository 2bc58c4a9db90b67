#!/usr/bin/python3
"""test_lmtp - the entry of mail: the LMTP server and mlserver-receive.

Over real sockets against the real daemon (mlserverd -c CONF -f), with a
minimal configuration: domain lists.example.org, one region with one
chapter, one open list "setagaya", max_message_size 64 KiB, the relay on
a port where nothing listens (deliveries just defer).

LMTP (RFC 2033): the greeting and LHLO extensions; HELO/EHLO refused;
RCPT to an unknown address refused with 550 5.1.1 while a known one in
the same transaction is accepted; one reply per accepted recipient after
DATA; pipelining (MAIL, RCPTs and DATA in one write); dot-stuffing and
line ends kept as received; the size limit (552 5.3.4 per recipient,
exactly at the limit accepted); a client cut off in the middle of DATA
leaves nothing behind; 20 concurrent connections sending 5 messages each
while an idle connection sits open; bad command sequences; a UNIX socket
(stale file replaced, mode 0666, removed at stop); SIGTERM in the middle
of a transaction.

A message answered "stored as ID" must not be lost: the daemon's
processor may already have consumed it, so it must be in one of the
spool's folders (new/, held/, quarantine/, out/) or the daemon's log
must name the ID.  Where the file is still in the spool, its envelope and
its octets are compared with what was sent.

mlserver-receive: exit 0 for a good message (file checked), 67 for an
address that is not ours, 65 for empty input, for input without a header
and for a message over the limit, 75 when the state directory cannot be
made or the config cannot be read, 64 for bad arguments; never 1.  The
envelope sender from -f, $SENDER or a leading mbox "From " line.

Needs mlserverd and mlserver-receive built in $top_builddir/mlserver;
tests for a program that is not built yet are skipped (and say so).
"""

import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon,  # noqa: E402
    free_port, make_message, wait_until)

HAVE_DAEMON = os.access(harness.MLSERVERD, os.X_OK)
HAVE_RECEIVE = os.access(harness.MLSERVER_RECEIVE, os.X_OK)

if not HAVE_DAEMON and not HAVE_RECEIVE:
    print("SKIP: neither %s nor %s is built" % (harness.MLSERVERD,
        harness.MLSERVER_RECEIVE))
    sys.exit(77)

MAX_SIZE = 65536
LIST_ADDR = "setagaya@" + LIST_DOMAIN
REQUEST_ADDR = "setagaya-request@" + LIST_DOMAIN
UNKNOWN_ADDR = "nosuch@" + LIST_DOMAIN
SENDER = "hanako@" + MEMBER_DOMAIN
TIMEOUT = 60

FOLDERS = ("new", "held", "quarantine", "out")
STORED_RE = re.compile(r"^2\.0\.0 <([^>]*)> stored as ([0-9A-F]{20})$")


def minimal_settings():
    """The settings this test needs, over the harness defaults."""
    return {
        "network": {
            "name": "テストネットワーク",
            "regions": (
                {"id": "tokyo", "name": "東京", "chapters": (
                    {"id": "setagaya", "name": "世田谷パートナーズの会"},
                )},
            ),
        },
        "lists": (
            {"name": "setagaya", "scope": "chapter:tokyo/setagaya",
             "policy": "open"},
        ),
        "max_message_size": MAX_SIZE,
    }


def unique_sender(tag):
    """A sender address no other test uses, to find its traces."""
    return "%s-%s@%s" % (tag, uuid.uuid4().hex[:12], MEMBER_DOMAIN)


# ---------------------------------------------------------------- spool

def read_spool(path):
    """Parse a spool file (spool.h): (sender, [rcpts], message bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise ValueError("%s: no end of envelope" % path)
    lines = head.split(b"\n")
    if lines[0] != b"MLSERVER 1":
        raise ValueError("%s: bad magic %r" % (path, lines[0]))
    if not lines[1].startswith(b"F"):
        raise ValueError("%s: no F line" % path)
    sender = lines[1][2:].decode("utf-8")
    rcpts = []
    for line in lines[2:]:
        if not line.startswith(b"R "):
            raise ValueError("%s: bad envelope line %r" % (path, line))
        rcpts.append(line[2:].decode("utf-8"))
    return sender, rcpts, body


def spool_dir(state_dir, folder):
    return os.path.join(state_dir, "spool", folder)


def spool_files(state_dir, folder):
    try:
        return sorted(os.listdir(spool_dir(state_dir, folder)))
    except FileNotFoundError:
        return []


def find_spooled(state_dir, qid):
    """The path of message qid in a spool folder, or None."""
    for folder in FOLDERS:
        p = os.path.join(spool_dir(state_dir, folder), qid)
        if os.path.exists(p):
            return p
    return None


def spooled_copy(state_dir, qid):
    """Where message qid is kept: ("file", (sender, rcpts, message)) when
    it is in new/, held/ or quarantine/ as it was received; ("out", None)
    when out/ holds a file of that name (the queue's format is its own);
    None when it is in none of them."""
    p = find_spooled(state_dir, qid)
    if p is None:
        return None
    if os.path.basename(os.path.dirname(p)) == "out":
        return ("out", None)
    try:
        return ("file", read_spool(p))
    except FileNotFoundError:
        return None	# moved on between two looks


def spooled_senders(state_dir):
    """Envelope senders of every readable spool file."""
    out = []
    for folder in FOLDERS + ("tmp",):
        for name in spool_files(state_dir, folder):
            try:
                out.append(read_spool(os.path.join(
                    spool_dir(state_dir, folder), name))[0])
            except (OSError, ValueError, UnicodeDecodeError):
                pass
    return out


# ---------------------------------------------------------------- client

class Conn:
    """A raw LMTP client: exact control of what is written when."""

    def __init__(self, port=None, path=None, timeout=TIMEOUT):
        if path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port),
                timeout=timeout)
        self.rfile = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self):
        """One reply: (code, [text of each line]); (None, []) at EOF."""
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
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def lhlo(self):
        code, lines = self.cmd("LHLO client.example.jp")
        assert code == 250, (code, lines)
        return lines

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


def stuff(message):
    """Dot-stuff a message (bytes with CRLF lines) and add the end."""
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return re.sub(rb"(?m)^\.", b"..", message) + b".\r\n"


def sized_message(total):
    """A message of exactly total octets (CRLF lines)."""
    head = b"Subject: size test\r\nFrom: " + SENDER.encode() + \
        b"\r\n\r\n"
    out = bytearray(head)
    while len(out) < total:
        left = total - len(out)
        if left <= 2:
            out += b"y" * left
            break
        n = min(76, left - 2)
        out += b"x" * n + b"\r\n"
    assert len(out) == total
    return bytes(out)


# ---------------------------------------------------------------- LMTP

class DaemonCase(unittest.TestCase):
    """One daemon for the whole class; its log printed at the end."""

    daemon = None

    @classmethod
    def setUpClass(cls):
        if not HAVE_DAEMON:
            raise unittest.SkipTest("mlserverd is not built: %s"
                % harness.MLSERVERD)
        # Made first and started after, so that tearDownClass removes
        # the directory even when the start fails.
        cls.daemon = Daemon(free_port(), config=minimal_settings(),
            start=False)
        try:
            cls.daemon.start()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.daemon is not None:
            daemon, cls.daemon = cls.daemon, None
            status = daemon.stop()
            log = daemon.log().splitlines()
            log.append("--- exit status %s" % status)
            print("--- mlserverd log (last 100 lines) ---\n"
                + "\n".join(log[-100:]), file=sys.stderr)
            daemon.close()

    def conn(self):
        c = Conn(self.daemon.port)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting[0], 220, c.greeting)
        return c

    def assert_stored(self, reply, rcpt):
        """reply is "250 2.0.0 <rcpt> stored as ID"; return ID."""
        code, lines = reply
        self.assertEqual(code, 250, lines)
        m = STORED_RE.match(lines[0])
        self.assertIsNotNone(m, lines)
        self.assertEqual(m.group(1), rcpt)
        return m.group(2)

    def assert_kept(self, qid, sender=None, rcpts=None, message=None):
        """Message qid is in the spool (then compare it) or in the log."""
        state = self.daemon.dir

        def where():
            return spooled_copy(state, qid) or (
                ("log", None) if qid in self.daemon.log() else None)
        kind, parsed = wait_until(where, timeout=10,
            what="message %s in the spool or the log" % qid)
        if kind == "file":
            s, r, body = parsed
            if sender is not None:
                self.assertEqual(s, sender)
            if rcpts is not None:
                self.assertEqual(r, rcpts)
            if message is not None:
                self.assertEqual(body, message)

    def transaction(self, c, rcpts, message, sender=SENDER):
        """MAIL, RCPTs, DATA and the message, one step at a time;
        returns the replies after DATA (one per accepted recipient)."""
        code, lines = c.cmd("MAIL FROM:<%s> BODY=8BITMIME" % sender)
        self.assertEqual(code, 250, lines)
        accepted = []
        for r in rcpts:
            code, lines = c.cmd("RCPT TO:<%s>" % r)
            if code == 250:
                accepted.append(r)
        code, lines = c.cmd("DATA")
        self.assertEqual(code, 354, lines)
        c.send(stuff(message))
        return [c.reply() for _ in accepted]

    def assert_in_sync(self, c):
        """No stray reply is pending: NOOP's own reply comes next."""
        code, lines = c.cmd("NOOP")
        self.assertEqual((code, lines), (250, ["2.0.0 ok"]))


class LmtpTest(DaemonCase):

    def test_greeting_and_lhlo_extensions(self):
        c = self.conn()
        self.assertRegex(c.greeting[1][0],
            r"^%s LMTP" % re.escape(LIST_DOMAIN))
        lines = c.lhlo()
        self.assertEqual(lines[0], LIST_DOMAIN)
        ext = [l.upper() for l in lines[1:]]
        for e in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"):
            self.assertIn(e, ext)
        self.assertIn("SIZE %d" % MAX_SIZE, ext)

    def test_lhlo_with_smtplib(self):
        c = smtplib.LMTP("127.0.0.1", self.daemon.port, timeout=TIMEOUT)
        try:
            code, _ = c.ehlo("client.example.jp")	# sends LHLO
            self.assertEqual(code, 250)
            for e in ("pipelining", "8bitmime", "enhancedstatuscodes"):
                self.assertTrue(c.has_extn(e), e)
            self.assertEqual(c.esmtp_features.get("size"), str(MAX_SIZE))
        finally:
            c.quit()

    def test_helo_and_ehlo_refused(self):
        c = self.conn()
        for verb in ("HELO", "EHLO"):
            code, lines = c.cmd("%s client.example.jp" % verb)
            self.assertEqual(code, 500)
            self.assertTrue(lines[0].startswith("5.5.1"), lines)
        code, lines = c.cmd("MAIL FROM:<%s>" % SENDER)
        self.assertEqual(code, 503, "MAIL before LHLO: %s" % lines)

    def test_rcpt_unknown_refused_known_accepted(self):
        c = self.conn()
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)
        code, lines = c.cmd("RCPT TO:<%s>" % UNKNOWN_ADDR)
        self.assertEqual(code, 550)
        self.assertEqual(lines[0],
            "5.1.1 <%s>: no such list address" % UNKNOWN_ADDR)
        code, lines = c.cmd("RCPT TO:<%s>" % LIST_ADDR)
        self.assertEqual(code, 250)
        self.assertTrue(lines[0].startswith("2.1.5"), lines)
        for other in ("setagaya@elsewhere.example.org",
                "setagaya-nosuch@" + LIST_DOMAIN):
            code, lines = c.cmd("RCPT TO:<%s>" % other)
            self.assertEqual(code, 550, (other, lines))
            self.assertTrue(lines[0].startswith("5.1.1"), lines)
        self.assertEqual(c.cmd("DATA")[0], 354)
        msg = make_message(SENDER, LIST_ADDR, "one recipient", "本文\n")
        c.send(stuff(msg))
        qid = self.assert_stored(c.reply(), LIST_ADDR)
        self.assert_in_sync(c)
        self.assert_kept(qid, SENDER, [LIST_ADDR], msg)

    def test_two_recipients_two_replies(self):
        c = self.conn()
        c.lhlo()
        msg = make_message(SENDER, LIST_ADDR, "世田谷の集まり",
            "来週の集まりについて。\n")
        replies = self.transaction(c, [LIST_ADDR, REQUEST_ADDR], msg)
        self.assertEqual(len(replies), 2)
        id1 = self.assert_stored(replies[0], LIST_ADDR)
        id2 = self.assert_stored(replies[1], REQUEST_ADDR)
        self.assertEqual(id1, id2)
        self.assert_in_sync(c)
        self.assert_kept(id1, SENDER, [LIST_ADDR, REQUEST_ADDR], msg)
        self.assertRegex(self.daemon.log(),
            r"%s: from=<%s> size=%d nrcpt=2 \(lmtp\)"
            % (id1, re.escape(SENDER), len(msg)))

    def test_pipelining_in_one_write(self):
        c = self.conn()
        c.lhlo()
        sender = unique_sender("pipe")
        c.send("MAIL FROM:<%s> BODY=8BITMIME\r\n"
            "RCPT TO:<%s>\r\n"
            "RCPT TO:<%s>\r\n"
            "RCPT TO:<%s>\r\n"
            "DATA\r\n" % (sender, LIST_ADDR, UNKNOWN_ADDR, REQUEST_ADDR))
        codes = [c.reply()[0] for _ in range(5)]
        self.assertEqual(codes, [250, 250, 550, 250, 354])
        msg = make_message(sender, LIST_ADDR, "pipelined", "一度に送る\n")
        c.send(stuff(msg) + b"RSET\r\nNOOP\r\nQUIT\r\n")
        qid = self.assert_stored(c.reply(), LIST_ADDR)
        self.assertEqual(self.assert_stored(c.reply(), REQUEST_ADDR), qid)
        self.assertEqual(c.reply()[0], 250)	# RSET
        self.assertEqual(c.reply()[0], 250)	# NOOP
        self.assertEqual(c.reply()[0], 221)	# QUIT
        self.assertEqual(c.reply(), (None, []))	# and closed
        self.assert_kept(qid, sender, [LIST_ADDR, REQUEST_ADDR], msg)

    def test_whole_session_pipelined(self):
        """Two transactions, LHLO to QUIT, in a single write."""
        c = self.conn()
        m1 = make_message(SENDER, LIST_ADDR, "first", "1\n")
        m2 = make_message(SENDER, LIST_ADDR, "second", "2\n")
        # RFC 2920: the client waits for 354 before the message; a server
        # that has the message already must cope all the same.
        c.send(b"LHLO client.example.jp\r\n"
            + b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
            % (SENDER.encode(), LIST_ADDR.encode()) + stuff(m1)
            + b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
            % (SENDER.encode(), LIST_ADDR.encode()) + stuff(m2)
            + b"QUIT\r\n")
        self.assertEqual(c.reply()[0], 250)	# LHLO
        ids = []
        for m in (m1, m2):
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 354)
            ids.append(self.assert_stored(c.reply(), LIST_ADDR))
        self.assertEqual(c.reply()[0], 221)
        self.assertNotEqual(ids[0], ids[1])
        self.assertLess(ids[0], ids[1])	# names sort in arrival order
        self.assert_kept(ids[0], SENDER, [LIST_ADDR], m1)
        self.assert_kept(ids[1], SENDER, [LIST_ADDR], m2)

    def test_dot_stuffing_and_line_ends_kept(self):
        c = self.conn()
        c.lhlo()
        # Lines starting with dots, a lone dot in the text, a bare LF
        # line, 8-bit UTF-8 and Shift_JIS octets: all stored as sent.
        msg = (b"Subject: dots\r\nFrom: " + SENDER.encode() + b"\r\n\r\n"
            b".\r\n..two\r\n.leading\r\nbare lf\nback to crlf\r\n"
            b"\xe4\xb8\x96\xe7\x94\xb0\xe8\xb0\xb7\r\n"
            b"\x90\xa2\x93\x63\x92\x4a\r\n"
            b"last\r\n")
        replies = self.transaction(c, [LIST_ADDR], msg)
        qid = self.assert_stored(replies[0], LIST_ADDR)
        self.assert_kept(qid, SENDER, [LIST_ADDR], msg)

    def test_null_sender(self):
        c = self.conn()
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        msg = make_message("MAILER-DAEMON@example.jp", LIST_ADDR,
            "Undelivered", "bounce\n")
        c.send(stuff(msg))
        qid = self.assert_stored(c.reply(), LIST_ADDR)
        self.assert_kept(qid, "", [LIST_ADDR], msg)

    def test_size_limit(self):
        c = self.conn()
        c.lhlo()
        # Declared too big: refused at MAIL.
        code, lines = c.cmd("MAIL FROM:<%s> SIZE=%d" % (SENDER,
            MAX_SIZE + 1))
        self.assertEqual(code, 552)
        self.assertTrue(lines[0].startswith("5.3.4"), lines)
        # Declared small, sent big: read to the end, then 552 for each
        # recipient, and the connection stays usable.
        sender = unique_sender("big")
        big = sized_message(MAX_SIZE + 1)
        replies = self.transaction(c, [LIST_ADDR, REQUEST_ADDR], big,
            sender=sender)
        self.assertEqual(len(replies), 2)
        for (code, lines), rcpt in zip(replies, [LIST_ADDR, REQUEST_ADDR]):
            self.assertEqual(code, 552, lines)
            self.assertTrue(lines[0].startswith("5.3.4 <%s>" % rcpt),
                lines)
        self.assert_in_sync(c)
        self.assertNotIn("from=<%s>" % sender, self.daemon.log())
        self.assertNotIn(sender, spooled_senders(self.daemon.dir))
        # Exactly at the limit: accepted.
        ok = sized_message(MAX_SIZE)
        replies = self.transaction(c, [LIST_ADDR], ok)
        qid = self.assert_stored(replies[0], LIST_ADDR)
        self.assert_kept(qid, SENDER, [LIST_ADDR], ok)

    def test_disconnect_in_data_leaves_nothing(self):
        sender = unique_sender("cutoff")
        c = Conn(self.daemon.port)
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(b"Subject: cut off\r\n\r\n" + b"x" * 70 + b"\r\n" * 1)
        c.send((b"y" * 70 + b"\r\n") * 400)
        time.sleep(0.2)
        c.close()
        tmp = spool_dir(self.daemon.dir, "tmp")
        wait_until(lambda: not os.listdir(tmp), timeout=10,
            what="tmp/ to be empty after the client left")
        time.sleep(0.5)
        self.assertNotIn(sender, spooled_senders(self.daemon.dir))
        self.assertNotIn("from=<%s>" % sender, self.daemon.log())
        # The daemon is still serving.
        c2 = self.conn()
        c2.lhlo()
        self.assert_in_sync(c2)

    def test_concurrent_connections_and_an_idle_one(self):
        idle = self.conn()
        idle.lhlo()
        # Idle in the middle of a transaction, too.
        idle2 = self.conn()
        idle2.lhlo()
        self.assertEqual(idle2.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)

        nconn, nmsg = 20, 5
        results = [[] for _ in range(nconn)]
        errors = []

        def client(i):
            try:
                c = Conn(self.daemon.port)
                c.lhlo()
                for j in range(nmsg):
                    msg = make_message(SENDER, LIST_ADDR,
                        "並行 %d/%d" % (i, j), "本文 %d %d\n" % (i, j))
                    code, lines = c.cmd("MAIL FROM:<%s>" % SENDER)
                    assert code == 250, lines
                    code, lines = c.cmd("RCPT TO:<%s>" % LIST_ADDR)
                    assert code == 250, lines
                    code, lines = c.cmd("DATA")
                    assert code == 354, lines
                    c.send(stuff(msg))
                    results[i].append(c.reply())
                c.cmd("QUIT")
                c.close()
            except Exception as e:	# reported below
                errors.append("client %d: %r" % (i, e))

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,))
            for i in range(nconn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 2)
        elapsed = time.monotonic() - start
        self.assertEqual(errors, [])
        ids = []
        for r in results:
            self.assertEqual(len(r), nmsg)
            for reply in r:
                ids.append(self.assert_stored(reply, LIST_ADDR))
        self.assertEqual(len(set(ids)), nconn * nmsg)
        self.assertLess(elapsed, 30, "the idle connections held others up")
        # The idle ones are still fine.
        self.assert_in_sync(idle)
        self.assert_in_sync(idle2)
        for qid in ids:
            self.assert_kept(qid)

    def test_connection_cap(self):
        """Past LMTP_MAX_CONNECTIONS (256): 421 4.3.2 at once, and room
        again once a connection ends."""
        conns = []
        try:
            for _ in range(256):
                c = Conn(self.daemon.port)
                conns.append(c)
                self.assertEqual(c.greeting[0], 220)
            extra = Conn(self.daemon.port)
            conns.append(extra)
            self.assertEqual(extra.greeting[0], 421)
            self.assertTrue(extra.greeting[1][0].startswith("4.3.2"))
            self.assertEqual(conns[0].cmd("QUIT")[0], 221)

            def room():
                c = Conn(self.daemon.port)
                conns.append(c)
                return c.greeting[0] == 220
            wait_until(room, timeout=10, what="a free connection slot")
        finally:
            for c in conns:
                c.close()
            time.sleep(0.5)	# let the server see them go

    def test_bad_sequences(self):
        c = self.conn()
        code, lines = c.cmd("LHLO")
        self.assertEqual(code, 501, lines)
        c.lhlo()
        for line, code, enh in (
                ("RCPT TO:<%s>" % LIST_ADDR, 503, "5.5.1"),
                ("DATA", 503, "5.5.1"),
                ("MAIL FROM:%s" % SENDER, 501, "5.5.4"),
                ("MAIL FROM:<%s> FOO=BAR" % SENDER, 555, "5.5.4"),
                ("MAIL FROM:<%s>" % SENDER, 250, "2.1.0"),
                ("MAIL FROM:<%s>" % SENDER, 503, "5.5.1"),
                ("DATA", 503, "5.5.1"),		# no valid recipients
                ("RCPT TO:<%s>" % UNKNOWN_ADDR, 550, "5.1.1"),
                ("DATA", 503, "5.5.1"),
                ("RCPT TO:<%s>" % LIST_ADDR, 250, "2.1.5"),
                ("RSET", 250, "2.0.0"),
                ("DATA", 503, "5.5.1"),		# RSET ended it
                ("XYZZY", 500, "5.5.2"),
                ("", 500, "5.5.2"),
                ("NOOP " + "x" * 2000, 500, "5.5.2"),	# line too long
                ("VRFY %s" % LIST_ADDR, 252, "2."),
                ("NOOP", 250, "2.0.0")):
            got, lines = c.cmd(line)
            self.assertEqual(got, code, "%r -> %s %s" % (line[:40], got,
                lines))
            self.assertTrue(lines[0].startswith(enh), (line[:40], lines))
        code, lines = c.cmd("QUIT")
        self.assertEqual(code, 221)
        self.assertEqual(c.reply(), (None, []))

    def test_nul_in_command(self):
        c = self.conn()
        c.lhlo()
        c.send(b"MAIL FROM:<a\0b@example.jp>\r\n")
        self.assertEqual(c.reply()[0], 500)
        self.assert_in_sync(c)


class LmtpLifecycleTest(unittest.TestCase):
    """A daemon of its own per test: UNIX socket, SIGTERM."""

    def setUp(self):
        if not HAVE_DAEMON:
            self.skipTest("mlserverd is not built: %s" % harness.MLSERVERD)
        self.daemon = Daemon(free_port(), config=minimal_settings(),
            start=False)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        self.daemon.stop()
        print("--- mlserverd log (%s) ---\n%s" % (self.id(),
            self.daemon.log()), file=sys.stderr)
        self.daemon.close()

    def test_unix_socket(self):
        path = os.path.join(self.daemon.dir, "lmtp.sock")
        # A stale socket file, as a crashed daemon leaves it.
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
        with open(self.daemon.conf, encoding="utf-8") as f:
            text = f.read()
        listen = 'listen = [ "127.0.0.1:%d" ];' % self.daemon.port
        self.assertIn(listen, text)
        text = text.replace(listen, 'listen = [ "unix:%s", '
            '"127.0.0.1:%d" ];' % (path, self.daemon.port))
        with open(self.daemon.conf, "w", encoding="utf-8") as f:
            f.write(text)
        self.daemon.start()	# returns once the TCP port answers

        def ready():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(path)
                return True
            except OSError:
                return False
            finally:
                probe.close()
        wait_until(ready, timeout=10, what="the UNIX socket")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o666)
        c = Conn(path=path)
        self.addCleanup(c.close)
        self.assertEqual(c.greeting[0], 220)
        c.lhlo()
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        msg = make_message(SENDER, LIST_ADDR, "unix", "over a socket\n")
        c.send(stuff(msg))
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.assertEqual(self.daemon.stop(), 0)
        self.assertFalse(os.path.exists(path), "socket left after stop")

    def test_store_failure_is_451_per_recipient(self):
        """When the message cannot be committed (here new/ is replaced by
        a file, so the rename fails), each recipient gets 451 4.3.0 and
        nothing is left in tmp/."""
        self.daemon.start()
        new = spool_dir(self.daemon.dir, "new")
        c = Conn(self.daemon.port)
        self.addCleanup(c.close)
        c.lhlo()
        sender = unique_sender("fail")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % REQUEST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        os.rename(new, new + ".away")
        try:
            with open(new, "w") as f:
                f.write("in the way\n")
            c.send(stuff(make_message(sender, LIST_ADDR, "fail", "x\n")))
            replies = [c.reply(), c.reply()]
        finally:
            os.unlink(new)
            os.rename(new + ".away", new)
        for (code, lines), rcpt in zip(replies, [LIST_ADDR, REQUEST_ADDR]):
            self.assertEqual(code, 451, lines)
            self.assertTrue(lines[0].startswith(
                "4.3.0 <%s> cannot store message" % rcpt), lines)
        self.assertEqual(spool_files(self.daemon.dir, "tmp"), [])
        self.assertNotIn(sender, spooled_senders(self.daemon.dir))
        # And the next message goes through.
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(stuff(make_message(SENDER, LIST_ADDR, "ok", "y\n")))
        self.assertEqual(c.reply()[0], 250)

    def test_sighup_applies_to_new_transactions(self):
        """A reloaded config (a new list) counts from the next MAIL; a
        transaction already open keeps the config it started with."""
        self.daemon.start()
        meguro = "meguro@" + LIST_DOMAIN
        old = Conn(self.daemon.port)
        self.addCleanup(old.close)
        old.lhlo()
        self.assertEqual(old.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)
        self.assertEqual(old.cmd("RCPT TO:<%s>" % meguro)[0], 550)

        settings = minimal_settings()
        settings["network"]["regions"][0]["chapters"] += (
            {"id": "meguro", "name": "目黒パートナーズの会"},)
        settings["lists"] += ({"name": "meguro",
            "scope": "chapter:tokyo/meguro", "policy": "open"},)
        self.daemon.reload(settings)

        def meguro_known():
            c = Conn(self.daemon.port)
            try:
                c.lhlo()
                c.cmd("MAIL FROM:<%s>" % SENDER)
                return c.cmd("RCPT TO:<%s>" % meguro)[0] == 250
            finally:
                c.close()
        wait_until(meguro_known, timeout=20, interval=0.2,
            what="the reloaded config")
        # The open transaction still has the old config ...
        self.assertEqual(old.cmd("RCPT TO:<%s>" % meguro)[0], 550)
        self.assertEqual(old.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(old.cmd("DATA")[0], 354)
        old.send(stuff(make_message(SENDER, LIST_ADDR, "old", "x\n")))
        self.assertEqual(old.reply()[0], 250)
        # ... and its next one the new.
        self.assertEqual(old.cmd("MAIL FROM:<%s>" % SENDER)[0], 250)
        self.assertEqual(old.cmd("RCPT TO:<%s>" % meguro)[0], 250)

    def test_sigterm_in_transaction(self):
        """SIGTERM: idle clients get 421; a transaction in progress is
        either finished (then the message is in the spool) or cut (then
        nothing was acknowledged).  Never a 250 for a lost message."""
        self.daemon.start()
        idle = Conn(self.daemon.port)
        self.addCleanup(idle.close)
        idle.lhlo()
        c = Conn(self.daemon.port)
        self.addCleanup(c.close)
        c.lhlo()
        sender = unique_sender("term")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LIST_ADDR)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        self.daemon.signal(signal.SIGTERM)
        code, lines = idle.reply()
        self.assertIn(code, (421, None), lines)
        msg = make_message(sender, LIST_ADDR, "in flight", "最後の便\n")
        try:
            c.send(stuff(msg))
            code, lines = c.reply()
        except OSError:
            code, lines = None, []
        status = self.daemon.stop()
        self.assertEqual(status, 0, self.daemon.log())
        if code == 250:
            qid = STORED_RE.match(lines[0]).group(2)
            kept = spooled_copy(self.daemon.dir, qid)
            if kept is None:
                self.assertIn(qid, self.daemon.log())
            elif kept[0] == "file":
                self.assertEqual(kept[1], (sender, [LIST_ADDR], msg))
        else:
            self.assertIn(code, (None, 421, 451), lines)
        self.assertEqual(spool_files(self.daemon.dir, "tmp"), [])


# ---------------------------------------------------------------- receive

@unittest.skipUnless(HAVE_RECEIVE, "mlserver-receive is not built: %s"
    % harness.MLSERVER_RECEIVE)
class ReceiveTest(unittest.TestCase):
    """mlserver-receive against a config of its own; no daemon runs, so
    what it stores stays in new/ to be checked."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mls-receive-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.state = os.path.join(self.dir, "state")
        self.conf = self.write_config(self.state)

    def write_config(self, state_dir, name="mlserver.conf"):
        cfg = harness.default_config(relay_port=free_port(),
            listen_port=free_port(), state_dir=state_dir,
            **minimal_settings())
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(harness.libconfig_document(cfg))
        return path

    def run_receive(self, rcpt, data, args=(), env=None, conf=None):
        e = {k: v for k, v in os.environ.items() if k != "SENDER"}
        e.update(env or {})
        argv = [harness.MLSERVER_RECEIVE]
        if conf is not False:
            argv += ["-c", conf or self.conf]
        argv += list(args)
        if rcpt is not None:
            argv.append(rcpt)
        cp = subprocess.run(argv, input=data, capture_output=True,
            timeout=TIMEOUT, env=e)
        self.assertNotEqual(cp.returncode, 1, "exit 1 is never allowed: "
            + cp.stderr.decode("utf-8", "replace"))
        return cp

    def stored(self):
        return [read_spool(os.path.join(spool_dir(self.state, "new"), n))
            for n in spool_files(self.state, "new")]

    def message(self, sender=SENDER):
        return make_message(sender, LIST_ADDR, "受信テスト",
            "パイプから。\n").replace(b"\r\n", b"\n")

    def test_good_message(self):
        msg = self.message()
        cp = self.run_receive(LIST_ADDR, msg, args=["-f", SENDER])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.stored(), [(SENDER, [LIST_ADDR], msg)])
        self.assertEqual(spool_files(self.state, "tmp"), [])
        names = spool_files(self.state, "new")
        self.assertRegex(names[0], r"^[0-9A-F]{20}$")

    def test_crlf_and_8bit_kept(self):
        msg = (b"Subject: =?UTF-8?B?5LiW55Sw6LC3?=\r\n\r\n"
            b"\xe4\xb8\x96\r\n.\r\n..\r\n\x90\xa2\r\n")
        cp = self.run_receive(REQUEST_ADDR, msg)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.stored(), [("", [REQUEST_ADDR], msg)])

    def test_sender_sources(self):
        msg = self.message()
        mbox = b"From mbox@example.jp Sat Nov 21 10:00:00 2026\n"
        cases = [
            (["-f", "opt@example.jp"], {}, msg, "opt@example.jp"),
            ([], {"SENDER": "env@example.jp"}, msg, "env@example.jp"),
            ([], {}, mbox + msg, "mbox@example.jp"),
            (["-f", "opt@example.jp"], {"SENDER": "env@example.jp"},
                mbox + msg, "opt@example.jp"),
            ([], {"SENDER": "env@example.jp"}, mbox + msg,
                "env@example.jp"),
            ([], {}, b"From MAILER-DAEMON Sat Nov 21 10:00:00 2026\n"
                + msg, ""),
            (["-f", ""], {}, msg, ""),
            ([], {}, msg, ""),
            (["-f", "<Opt@EXAMPLE.JP>"], {}, msg, "Opt@example.jp"),
            (["-f", '"a b"@example.jp'], {}, msg, '"a b"@example.jp'),
        ]
        for args, env, data, want in cases:
            with self.subTest(args=args, env=env, want=want):
                shutil.rmtree(os.path.join(self.state, "spool"), True)
                cp = self.run_receive(LIST_ADDR, data, args=args, env=env)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                # The mbox line is not part of the message.
                self.assertEqual(self.stored(), [(want, [LIST_ADDR], msg)])

    def test_not_ours_is_67(self):
        for rcpt in (UNKNOWN_ADDR, "setagaya@elsewhere.example.org",
                "setagaya-nosuch@" + LIST_DOMAIN, "not an address"):
            with self.subTest(rcpt=rcpt):
                cp = self.run_receive(rcpt, self.message())
                self.assertEqual(cp.returncode, 67, cp.stderr)
        self.assertEqual(self.stored(), [])

    def test_not_mail_is_65(self):
        for data in (b"", b"garbage without headers\n\nmore text\n",
                b"\nSubject: blank line first\n",
                b" folded: continuation first\n",
                b"From someone@example.jp Sat Nov 21 10:00:00 2026\n",
                b"From someone@example.jp Sat Nov 21 10:00:00 2026\n"
                b"no header here\n",
                b"From someone@example.jp no newline at all"):
            with self.subTest(data=data[:40]):
                cp = self.run_receive(LIST_ADDR, data)
                self.assertEqual(cp.returncode, 65, cp.stderr)
        self.assertEqual(self.stored(), [])
        self.assertEqual(spool_files(self.state, "tmp"), [])

    def test_too_big_is_65(self):
        cp = self.run_receive(LIST_ADDR, sized_message(MAX_SIZE + 1))
        self.assertEqual(cp.returncode, 65, cp.stderr)
        self.assertIn(b"too big", cp.stderr)
        self.assertEqual(self.stored(), [])
        self.assertEqual(spool_files(self.state, "tmp"), [])
        ok = sized_message(MAX_SIZE)
        cp = self.run_receive(LIST_ADDR, ok)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(self.stored(), [("", [LIST_ADDR], ok)])

    def test_unwritable_state_dir_is_75(self):
        # Tests run as root, so permissions stop nothing: a path under a
        # regular file cannot be created by anyone.
        plain = os.path.join(self.dir, "file")
        with open(plain, "w") as f:
            f.write("not a directory\n")
        conf = self.write_config(os.path.join(plain, "spool"),
            name="bad.conf")
        cp = self.run_receive(LIST_ADDR, self.message(), conf=conf)
        self.assertEqual(cp.returncode, 75, cp.stderr)

    def test_unreadable_config_is_75(self):
        cp = self.run_receive(LIST_ADDR, self.message(),
            conf=os.path.join(self.dir, "missing.conf"))
        self.assertEqual(cp.returncode, 75, cp.stderr)
        broken = os.path.join(self.dir, "broken.conf")
        with open(broken, "w") as f:
            f.write("domain = ;\n")
        cp = self.run_receive(LIST_ADDR, self.message(), conf=broken)
        self.assertEqual(cp.returncode, 75, cp.stderr)

    def test_usage_is_64(self):
        for args, rcpt, conf in (
                ([], None, None),			# no recipient
                ([], LIST_ADDR, False),			# no -c
                (["-x"], LIST_ADDR, None),		# unknown option
                ([LIST_ADDR], LIST_ADDR, None),		# two recipients
                (["-f", "a\nb@example.jp"], LIST_ADDR, None)):
            with self.subTest(args=args, rcpt=rcpt, conf=conf):
                cp = self.run_receive(rcpt, self.message(), args=args,
                    conf=conf)
                self.assertEqual(cp.returncode, 64, cp.stderr)
        self.assertEqual(self.stored(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
