"""benchlib - what the benchmark scripts share.

The benchmarks drive the real programs over loopback, like the
integration tests, and reuse tests/harness.py for starting them (Daemon,
Sink, Postfix).  This module adds what a measurement needs beyond a test:
counting recipients in smtp-sink's dump cheaply while it grows, timing
the last one from the dump's modification time (not from our polling),
loading many members straight into state.db, a private mlmmj list, and
reporting results as JSON lines for bench/run.py to put in one table.

Every script prints, on stdout, one JSON object per line:
    {"measure": "...", "what": "...", "value": 1.23, "unit": "s",
     "target": "...", "ok": true, "note": "..."}
Diagnostics go to stderr.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests"))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Postfix,  # noqa: E402,F401
    Sink, make_message, wait_until)

SMTP_SOURCE = "/usr/sbin/smtp-source"
MLMMJ_RECEIVE = "/usr/bin/mlmmj-receive"
M = MEMBER_DOMAIN


def say(*args):
    """A diagnostic line on stderr."""
    print(*args, file=sys.stderr, flush=True)


def report(measure, what, value, unit, target="", ok=None, note=""):
    """One result row (a JSON line on stdout)."""
    print(json.dumps({"measure": measure, "what": what, "value": value,
        "unit": unit, "target": target, "ok": ok, "note": note},
        ensure_ascii=False), flush=True)


def member(i):
    """The i-th member address (sorts in i order)."""
    return "u%06d@%s" % (i, M)


def fill_members(db_path, lst, n):
    """Insert n members of lst straight into state.db (one transaction).

    The daemon must have created the schema (it has once it listens)."""
    import sqlite3
    db = sqlite3.connect(db_path, timeout=30)
    db.executemany("INSERT INTO members (list, addr, created) "
        "VALUES (?, ?, 0)", ((lst, member(i)) for i in range(n)))
    db.commit()
    db.close()


def body_of(size):
    """ASCII text lines adding up to about size octets."""
    line = "The quick brown fox jumps over the lazy dog 0123456789.\n"
    return (line * (size // len(line) + 1))[:size].rstrip("\n") + "\n"


def post_message(sender, to, size=4096, subject="bench"):
    """A real message (CRLF) whose body is about size octets."""
    return make_message(sender, to, subject, body_of(size))


class RcptCounter:
    """Count recipients (X-Rcpt-Args records) in a growing smtp-sink dump.

    Reads only what was appended since the last call, and only whole
    lines, so polling a dump of 100,000 recipients stays cheap."""

    def __init__(self, sink):
        self.path = sink.dump
        self.off = 0
        self.rest = b""
        self.count = 0

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return self.count
        self.off += len(data)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        data = data[:cut]
        # data starts at the beginning of a line.
        self.count += (b"\n" + data).count(b"\nX-Rcpt-Args: ")
        return self.count

    def unique(self):
        """How many distinct recipient addresses the dump holds."""
        with open(self.path, "rb") as f:
            data = f.read()
        return len(set(re.findall(rb"\nX-Rcpt-Args: <([^>]*)>", data)))

    def mtime(self):
        """When the dump was last written (time.time() scale)."""
        return os.stat(self.path).st_mtime_ns / 1e9

    def wait(self, n, timeout, interval=0.01):
        """Wait until n recipients are in the dump; return the time of
        the write that completed them (the dump's mtime)."""
        deadline = time.monotonic() + timeout
        while self.poll() < n:
            if time.monotonic() > deadline:
                raise TimeoutError("%d of %d recipients at the sink after "
                    "%gs" % (self.count, n, timeout))
            time.sleep(interval)
        return self.mtime()


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def repeat():
    """How many times the quick measurements run (the median counts)."""
    return max(1, int(os.environ.get("BENCH_REPEAT", "5")))


def spread(xs, fmt="%.2f"):
    """'median of N (min-max)' for a note, or '' for one run."""
    if len(xs) < 2:
        return ""
    return ("median of %d, " + fmt + "-" + fmt) % (len(xs), min(xs),
        max(xs))


def vm_hwm(pid):
    """Peak resident set size of pid in bytes (VmHWM), or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def lmtp_post(d, rcpt, msg, sender):
    """Send one post over LMTP; return time.time() at its 250."""
    r = d.lmtp_send([rcpt], msg, sender=sender)
    t = time.time()
    if r[rcpt][0] != 250:
        raise RuntimeError("LMTP refused the post: %r" % (r,))
    return t


def smtp_source(port, messages, rcpts, sessions, msgfile, to, sender,
    lmtp=False, timeout=600):
    """Run smtp-source; return its wall-clock seconds.

    -d keeps each session's connection for its next message, as a real
    client would; recipients are numbered by smtp-source when rcpts > 1."""
    cmd = [SMTP_SOURCE, "-d", "-s", str(sessions), "-m", str(messages),
        "-r", str(rcpts), "-F", msgfile, "-f", sender, "-t", to,
        "-M", "client.example.jp"]
    if lmtp:
        cmd.append("-L")
    cmd.append("127.0.0.1:%d" % port)
    t0 = time.time()
    cp = subprocess.run(cmd, capture_output=True, timeout=timeout)
    t1 = time.time()
    if cp.returncode != 0:
        raise RuntimeError("smtp-source failed (%d): %s" % (cp.returncode,
            cp.stderr.decode(errors="replace")))
    return t0, t1


def write_msgfile(dirpath, msg):
    """Write msg (CRLF bytes) as an LF file for smtp-source -F."""
    path = os.path.join(dirpath, "message.txt")
    with open(path, "wb") as f:
        f.write(msg.replace(b"\r\n", b"\n"))
    return path


class Mlmmj:
    """A private mlmmj list in a temporary directory, relaying to port.

    Mlmmj(relay_port, members_n, verp=None)
        verp None: control/verp absent (mlmmj's default: one
        transaction per recipient); "": control/verp empty and
        control/maxverprecips = maxverprecips (batches).

    post(msg, sender) runs mlmmj-receive -L LISTDIR -s SENDER (it forks
    and returns at once; mlmmj-process and mlmmj-send carry on)."""

    def __init__(self, relay_port, members_n, verp=None, maxverprecips=100):
        self.dir = harness._mkdtemp("mls-mlmmj-")
        self.listdir = os.path.join(self.dir, "bench")
        for sub in ("incoming", "queue", "queue/discarded", "archive",
                "text", "subconf", "unsubconf", "bounce", "control",
                "moderation", "subscribers.d", "digesters.d", "requeue",
                "nomailsubs.d"):
            os.makedirs(os.path.join(self.listdir, sub))
        open(os.path.join(self.listdir, "index"), "w").close()
        skel = "/usr/share/mlmmj/text.skel/en"
        if os.path.isdir(skel):
            for n in os.listdir(skel):
                shutil.copy(os.path.join(skel, n),
                    os.path.join(self.listdir, "text", n))
        self.control("listaddress", "bench@" + LIST_DOMAIN)
        self.control("owner", "owner@" + M)
        self.control("relayhost", "127.0.0.1")
        self.control("smtpport", str(relay_port))
        self.control("noarchive", "")
        if verp is not None:
            self.control("verp", verp)
            self.control("maxverprecips", str(maxverprecips))
        # subscribers.d holds one file per first letter of the address.
        with open(os.path.join(self.listdir, "subscribers.d", "u"),
                "w") as f:
            for i in range(members_n):
                f.write(member(i) + "\n")

    def control(self, name, value):
        with open(os.path.join(self.listdir, "control", name), "w") as f:
            f.write(value + ("\n" if value else ""))

    def post(self, msg, sender):
        cp = subprocess.run([MLMMJ_RECEIVE, "-L", self.listdir, "-s",
            sender], input=msg.replace(b"\r\n", b"\n"),
            capture_output=True, timeout=60)
        t = time.time()
        if cp.returncode != 0:
            raise RuntimeError("mlmmj-receive failed (%d): %s"
                % (cp.returncode, cp.stderr.decode(errors="replace")))
        return t

    def pids(self):
        """Pids of the mlmmj programs working on this list (found by
        the list directory, unique to us, in their command lines)."""
        out = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % name, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and b"mlmmj" in argv[0] and \
                    any(a.startswith(self.listdir.encode()) for a in argv):
                out.append(int(name))
        return out

    def stop(self):
        """Stop the mlmmj-send still running for this list, if any."""
        import signal
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            wait_until(lambda: not self.pids(), 10, 0.05, "mlmmj to exit")
        except TimeoutError:
            for pid in self.pids():
                os.kill(pid, signal.SIGKILL)

    def close(self):
        self.stop()
        harness._rmtree(self.dir)


class LmtpClient:
    """A small pipelining LMTP client on a raw socket, for sending many
    small messages without smtplib's per-call overhead."""

    def __init__(self, port, host="127.0.0.1", timeout=120):
        import socket
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.rf = self.sock.makefile("rb")
        self._reply()
        self.sock.sendall(b"LHLO client.example.jp\r\n")
        self._reply()

    def _reply(self):
        """Read one (possibly multi-line) reply; return its code."""
        while True:
            line = self.rf.readline()
            if not line:
                raise ConnectionError("LMTP server closed the connection")
            if line[3:4] != b"-":
                return int(line[:3])

    def send(self, sender, rcpt, data):
        """One transaction with one recipient; data is CRLF bytes,
        already dot-stuffed.  Returns the recipient's reply code."""
        self.sock.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
            % (sender.encode(), rcpt.encode()))
        codes = [self._reply() for _ in range(3)]
        if codes[0] != 250 or codes[1] not in (250, 251) or codes[2] != 354:
            raise RuntimeError("LMTP refused: %r" % (codes,))
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self.sock.sendall(data + b".\r\n")
        return self._reply()

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self._reply()
        except OSError:
            pass
        self.rf.close()
        self.sock.close()


def send_many(port, items, clients=4):
    """Send [(sender, rcpt, data), ...] over `clients` concurrent LMTP
    connections; return (time of the first send, time of the last 250)."""
    import threading
    errors = []
    parts = [items[i::clients] for i in range(clients)]
    done = []

    def run(part):
        try:
            c = LmtpClient(port)
            for sender, rcpt, data in part:
                code = c.send(sender, rcpt, data)
                if code != 250:
                    raise RuntimeError("LMTP reply %d for %s" % (code,
                        sender))
            done.append(time.time())
            c.close()
        except Exception as e:  # reported by the caller
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in parts]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return t0, max(done)
