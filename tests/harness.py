"""harness - shared machinery for mlserver's integration tests.

The integration tests drive the real programs over real sockets: the
daemon (mlserverd) through LMTP and mlserverctl, smtp-sink standing in for
the relay MTA, and a private Postfix instance for the end-to-end path an
administrator sets up from the README.  This module owns starting and
stopping those servers in temporary directories, and parsing what they
received, so that each test file only says what it checks.

Everything here is standard library only and runs under Debian's
/usr/bin/python3 as root (the servers drop privileges themselves).

Environment:
    top_builddir, top_srcdir   absolute paths, set by automake's test
                               driver; default: the parent of tests/.
    MLS_TEST_KEEP=1            keep the temporary directories (their paths
                               are printed) instead of removing them.
    MLS_TEST_VERBOSE=1         print the servers' command lines.

Public API (see each docstring):
    free_port()
    wait_until(predicate, timeout, interval, what)
    Mail                        one parsed message (sink dump or Maildir)
    decode_header_value(value)
    make_message(sender, to, subject, body, charset, extra_headers)
    Sink(port, lmtp, ...)       smtp-sink with a parsed dump
    Postfix(lmtp_port, members, ...)
    swaks(port, sender, to, data=..., ...)
    libconfig_render(value), libconfig_document(dict)
    default_network(), default_lists(), default_config(...)
    Daemon(config, ...)         mlserverd + mlserverctl + mlserver-receive
"""

import atexit
import base64
import collections
import email
import email.errors
import email.header
import email.message
import email.policy
import email.utils
import os
import pwd
import re
import resource
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_BUILDDIR = os.environ.get("top_builddir") or os.path.dirname(HERE)
TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(HERE)

MLSERVERD = os.path.join(TOP_BUILDDIR, "mlserver", "mlserverd")
MLSERVER_RECEIVE = os.path.join(TOP_BUILDDIR, "mlserver", "mlserver-receive")
MLSERVERCTL = os.path.join(TOP_BUILDDIR, "mlserver", "mlserverctl")

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"
POSTCONF = "/usr/sbin/postconf"
SMTP_SINK = "/usr/sbin/smtp-sink"
SWAKS = "/usr/bin/swaks"
MASTER_CF_DIST = ("/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf")

LIST_DOMAIN = "lists.example.org"
MEMBER_DOMAIN = "members.example.jp"

KEEP = os.environ.get("MLS_TEST_KEEP") == "1"
VERBOSE = os.environ.get("MLS_TEST_VERBOSE") == "1"

# The unprivileged account the servers run as where they need one
# (smtp-sink -u, Postfix's virtual delivery).
NOBODY = pwd.getpwnam("nobody")


# Servers started and not yet stopped.  Postfix's master detaches from
# us, so a test that dies half way would leave it running: stop them all
# at exit, and turn SIGTERM (automake's timeout, a ^C'd make) into an exit.
_live = set()


def _stop_all():
    for obj in list(_live):
        try:
            obj.stop()
        except Exception as e:  # keep stopping the others
            _say("harness: stopping %r: %s" % (obj, e))


atexit.register(_stop_all)
if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))


def _say(*args):
    """Print a diagnostic line to stderr (the automake .log file)."""
    print(*args, file=sys.stderr, flush=True)


def _mkdtemp(prefix):
    """A world-traversable temporary directory.

    mkdtemp() makes it 0700; the servers below run as other users
    (postfix, nobody) and must reach files inside it."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    if KEEP:
        _say("harness: keeping", d)
    return d


def _rmtree(d):
    if d and not KEEP:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- ports

_ports_given = set()


def free_port():
    """Return a TCP port on 127.0.0.1 that is free right now.

    The kernel picks it (bind to port 0); ports already handed out by this
    process are never returned twice, so servers started in one test do
    not collide with each other even before they bind."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise RuntimeError("no free port found")


def port_accepts(port, host="127.0.0.1"):
    """True if a TCP connection to host:port succeeds now."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(predicate, timeout=30, interval=0.1, what="condition"):
    """Poll predicate() until it returns a true value, and return that.

    Raises TimeoutError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %gs waiting for %s"
                % (timeout, what))
        time.sleep(interval)


def _wait_port(port, proc, timeout, what, logfile=None):
    """Wait until 127.0.0.1:port accepts; fail early if proc exits."""
    deadline = time.monotonic() + timeout
    while not port_accepts(port):
        if proc is not None and proc.poll() is not None:
            msg = "%s exited with status %s before listening on %d" % (
                what, proc.returncode, port)
            if logfile:
                msg += "\n--- %s ---\n%s" % (logfile, _read_text(logfile))
            raise RuntimeError(msg)
        if time.monotonic() >= deadline:
            raise TimeoutError("%s not listening on port %d after %gs"
                % (what, port, timeout))
        time.sleep(0.05)


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _crlf(data):
    """Bytes with every line ending CRLF (SMTP/LMTP wire form)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    data = data.replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


# ---------------------------------------------------------------- messages

_FALLBACK_CHARSETS = ("utf-8", "cp932", "euc-jp")

# ISO-2022-JP as Japanese Windows and most Japanese mail clients write it
# (CP50220/CP50221) carries NEC row 13 (① ㈱ ...) and NEC-selected IBM
# extensions inside ESC $ B, which Python's iso2022_jp codecs reject.  Each
# JIS X 0208 pair maps arithmetically to a Shift_JIS pair, and CP932 knows
# them all, so both directions go through CP932.
_ESC_ASCII = b"\x1b(B"
_ESC_JIS = b"\x1b$B"
_NEC_SELECTED = None


def _jis_to_sjis(j1, j2):
    s1 = (j1 - 0x21) // 2 + 0x81
    if s1 > 0x9F:
        s1 += 0x40
    if j1 % 2:
        s2 = j2 + 0x1F + (1 if j2 >= 0x60 else 0)
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


def _sjis_to_jis(s1, s2):
    if s1 >= 0xE0:
        s1 -= 0x40
    j1 = (s1 - 0x81) * 2 + 0x21
    if s2 >= 0x9F:
        j1 += 1
        j2 = s2 - 0x7E
    else:
        j2 = s2 - 0x1F - (1 if s2 >= 0x80 else 0)
    return j1, j2


def cp50220_decode(data):
    """Decode ISO-2022-JP bytes as Japanese clients write them (CP50220/
    CP50221: NEC row 13, NEC-selected IBM extensions, ESC ( I kana)."""
    out = []
    mode = "ascii"
    i = 0
    n = len(data)
    while i < n:
        if data[i] == 0x1B and i + 2 < n:
            seq = data[i:i + 3]
            if seq in (b"\x1b(B", b"\x1b(J"):
                mode = "ascii"
            elif seq in (b"\x1b$B", b"\x1b$@"):
                mode = "jis"
            elif seq == b"\x1b(I":
                mode = "kana"
            else:
                out.append(seq.decode("latin-1"))
            i += 3
            continue
        c = data[i]
        if c in (0x0A, 0x0D):
            out.append(chr(c))
            i += 1
        elif mode == "jis" and i + 1 < n and 0x21 <= c <= 0x7E:
            out.append(_jis_to_sjis(c, data[i + 1]).decode("cp932",
                "replace"))
            i += 2
        elif mode == "kana" and 0x21 <= c <= 0x5F:
            out.append(bytes((c + 0x80,)).decode("cp932"))
            i += 1
        else:
            out.append(chr(c))
            i += 1
    return "".join(out)


def cp50220_encode(text):
    """Encode text as ISO-2022-JP the way Japanese clients do (CP50220):
    ASCII, and JIS X 0208 plus NEC row 13 and NEC-selected IBM
    extensions in ESC $ B; ends in ASCII mode.  Half-width kana are not
    converted (raises UnicodeEncodeError, as for any other character
    outside CP932's double-byte set)."""
    global _NEC_SELECTED
    if _NEC_SELECTED is None:
        # CP932 encodes IBM extensions as 0xFA-0xFC (no JIS row): use
        # their NEC-selected twins at 0xED/0xEE instead, as CP50220 does.
        _NEC_SELECTED = {}
        for a in (0xED, 0xEE):
            for b in range(0x40, 0xFD):
                try:
                    ch = bytes((a, b)).decode("cp932")
                except UnicodeDecodeError:
                    continue
                _NEC_SELECTED.setdefault(ch, bytes((a, b)))
    out = bytearray()
    jis = False
    for ch in text:
        if ord(ch) < 0x80:
            if jis:
                out += _ESC_ASCII
                jis = False
            out += ch.encode("ascii")
            continue
        sj = _NEC_SELECTED.get(ch) or ch.encode("cp932")
        if len(sj) != 2:
            raise UnicodeEncodeError("cp50220", text, text.index(ch),
                text.index(ch) + 1, "not in JIS X 0208 or NEC extensions")
        if not jis:
            out += _ESC_JIS
            jis = True
        out += bytes(_sjis_to_jis(sj[0], sj[1]))
    if jis:
        out += _ESC_ASCII
    return bytes(out)


def _decode_bytes(b, charset=None):
    """Decode header or body bytes: the declared charset, else guesses."""
    tries = []
    cs = (charset or "").lower()
    if cs in ("iso-2022-jp", "iso2022-jp", "cp50220", "cp50221",
        "iso-2022-jp-ms", "csiso2022jp"):
        return cp50220_decode(b)
    if cs in ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji",
        "windows-31j"):
        tries.append("cp932")
    elif cs and cs not in ("unknown-8bit", "us-ascii", "ascii"):
        tries.append(cs)
    if b"\x1b$" in b and not tries:
        return cp50220_decode(b)
    tries += _FALLBACK_CHARSETS
    for c in tries:
        try:
            return b.decode(c)
        except (LookupError, UnicodeDecodeError):
            continue
    return b.decode("utf-8", "replace")


def decode_header_value(value):
    """Decode a header value (str or email.header.Header) to text.

    RFC 2047 encoded words are decoded (ISO-2022-JP as CP50220); raw
    8-bit header bytes (parsed as "unknown-8bit") are read as UTF-8,
    else CP932/EUC-JP.  Folding is unfolded.  None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = re.sub(r"\r?\n[ \t]", " ", value)
    try:
        parts = email.header.decode_header(value)
    except email.errors.HeaderParseError:
        return str(value)
    # decode_header() already drops the white space between adjacent
    # encoded words and keeps the rest of the text as written.
    out = []
    for chunk, cs in parts:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, cs))
        else:
            out.append(chunk)
    return "".join(out)


def encode_words(text, charset="utf-8", first_line_used=9):
    """RFC 2047 B-encoded words for text, folded with CRLF SP.

    first_line_used: characters before the first word on its line
    (len("Subject: ") by default).

    Each encoded word is at most 75 octets and holds whole characters
    (for ISO-2022-JP each word ends in ASCII mode).  charset 'utf-8' or
    'iso-2022-jp' (written as CP50220).  ASCII text comes back as is."""
    if text.isascii():
        return text
    cs = charset.lower()
    if cs == "iso-2022-jp":
        label, enc = "ISO-2022-JP", cp50220_encode
    else:
        label, enc = charset.upper(), (lambda t: t.encode(charset))
    overhead = len("=?%s?B??=" % label)
    words = []
    cur = ""
    # The first word shares its line with "Subject: " (RFC 2047: lines
    # holding encoded words stay within 76 characters).
    limit = min(75, 76 - first_line_used)
    for ch in text:
        cand = cur + ch
        if overhead + 4 * ((len(enc(cand)) + 2) // 3) > limit and cur:
            words.append(cur)
            cur = ch
            limit = 75
        else:
            cur = cand
    if cur:
        words.append(cur)
    return "\r\n ".join("=?%s?B?%s?=" % (label,
        base64.b64encode(enc(w)).decode("ascii")) for w in words)


def encode_address(addr, charset="utf-8"):
    """'Name <a@b>' with a non-ASCII name RFC 2047 encoded."""
    name, a = email.utils.parseaddr(addr)
    if not name or name.isascii():
        return addr
    return "%s <%s>" % (encode_words(name, charset, 6), a)


def _text(s):
    """Text with LF line ends."""
    return s.replace("\r\n", "\n")


class Mail:
    """One received message, from a smtp-sink dump or a Maildir file.

    Attributes:
        raw      bytes of the message as the client sent it (LF line ends
                 from smtp-sink's dump; as stored in a Maildir).
        headers  email.message.Message (compat32 policy: values are the
                 raw header text; use header()/decoded_subject() for text).
        sender   envelope sender: smtp-sink's MAIL FROM address ('' for
                 <>), or a Maildir message's Return-Path; None if unknown.
        rcpts    envelope recipients: smtp-sink's RCPT TO addresses in
                 order, or a Maildir message's Delivered-To.
        mail_args, rcpt_args   smtp-sink's full MAIL/RCPT arguments
                 (e.g. "<a@b> SIZE=120 BODY=8BITMIME").
        proto, helo, sink_id   smtp-sink's X-Client-Proto, X-Helo-Args
                 and the id of its Received: line.
        path     the Maildir file, for Maildir messages.
    """

    def __init__(self, raw, sender=None, rcpts=None):
        self.raw = raw
        self.sender = sender
        self.rcpts = list(rcpts or [])
        self.mail_args = None
        self.rcpt_args = []
        self.proto = None
        self.helo = None
        self.sink_id = None
        self.path = None
        self.headers = email.message_from_bytes(raw,
            policy=email.policy.compat32)

    def __repr__(self):
        return "<Mail from=%r rcpts=%r subject=%r>" % (self.sender,
            self.rcpts, self.decoded_subject())

    def header(self, name):
        """The first `name` header, decoded to text (None if absent)."""
        return decode_header_value(self.headers.get(name))

    def header_all(self, name):
        """Every `name` header, decoded, in order."""
        return [decode_header_value(v)
            for v in self.headers.get_all(name, [])]

    def decoded_subject(self):
        """The Subject as text, RFC 2047 decoded (None if absent)."""
        return self.header("Subject")

    def text_parts(self):
        """Every text/* part's body, decoded to str, in order."""
        out = []
        for part in self.headers.walk():
            if part.get_content_maintype() != "text":
                continue
            payload = part.get_payload(decode=True)
            if payload is None:
                continue
            out.append(_text(_decode_bytes(payload,
                part.get_content_charset())))
        return out

    def body_text(self):
        """The first text/plain part decoded to str ('' if none)."""
        for part in self.headers.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True) or b""
                return _text(_decode_bytes(payload,
                    part.get_content_charset()))
        return ""

    def parts(self):
        """Every non-multipart part (email.message.Message objects)."""
        return [p for p in self.headers.walk() if not p.is_multipart()]


def _angle_addr(args):
    """The address inside the leading <...> of MAIL/RCPT arguments."""
    m = re.match(r'\s*<((?:"(?:[^"\\]|\\.)*"|[^>"])*)>', args)
    if m:
        return m.group(1)
    return args.split()[0] if args.split() else ""


def make_message(sender, to, subject, body, charset="utf-8",
    extra_headers=None, date=None, message_id=None):
    """Build a real RFC 5322 message and return its bytes (CRLF lines).

    sender, to: address strings ("名前 <a@b>" works: a non-ASCII name is
    RFC 2047 encoded; to may be a list).  subject: text, RFC 2047
    B-encoded when not ASCII (encoded words of whole characters, <= 75
    octets; an empty subject gives an empty Subject: header).  body: text.
    charset 'utf-8': text/plain; charset=UTF-8, 8bit when not ASCII.
    charset 'iso-2022-jp': what Japanese mail clients send: the body in
    ISO-2022-JP (CP50220, so ① and ㈱ work), Content-Type text/plain;
    charset=ISO-2022-JP, Content-Transfer-Encoding: 7bit, and subject and
    names as =?ISO-2022-JP?B?...?=.
    charset 'shift_jis' / 'euc-jp': the body 8bit in that charset (CP932
    for Shift_JIS), headers encoded as UTF-8 words.
    extra_headers: dict or list of (name, value) pairs, added in order
    after the standard ones (values used as given).
    """
    cs = charset.lower()
    if cs in ("iso-2022-jp",):
        wire, hcs, encode = "ISO-2022-JP", "iso-2022-jp", cp50220_encode
    elif cs in ("shift_jis", "shift-jis", "sjis", "cp932"):
        wire, hcs, encode = "Shift_JIS", "utf-8", \
            (lambda t: t.encode("cp932"))
    elif cs in ("euc-jp",):
        wire, hcs, encode = "EUC-JP", "utf-8", (lambda t: t.encode("euc-jp"))
    else:
        wire, hcs, encode = charset.upper(), charset, \
            (lambda t: t.encode(charset))
    if isinstance(to, (list, tuple)):
        to_value = ", ".join(encode_address(t, hcs) for t in to)
    else:
        to_value = encode_address(to, hcs)
    fdomain = email.utils.parseaddr(sender)[1].rpartition("@")[2]
    headers = [
        ("From", encode_address(sender, hcs)),
        ("To", to_value),
        ("Subject", encode_words(subject, hcs, len("Subject: "))),
        ("Date", date or email.utils.formatdate(localtime=True)),
        ("Message-ID", message_id or email.utils.make_msgid(
            domain=fdomain or "example.jp")),
        ("MIME-Version", "1.0"),
    ]
    if not body.endswith("\n"):
        body += "\n"
    data = encode(body)
    cte = "7bit" if data.isascii() else "8bit"
    headers += [("Content-Type", "text/plain; charset=%s" % wire),
        ("Content-Transfer-Encoding", cte)]
    items = extra_headers.items() if isinstance(extra_headers, dict) \
        else (extra_headers or [])
    headers += list(items)
    head = "".join("%s: %s\r\n" % (k, v) for k, v in headers)
    return _crlf(head.encode("utf-8") + b"\r\n" + data)


# ---------------------------------------------------------------- smtp-sink

class Sink:
    """smtp-sink(1) on 127.0.0.1:port, capturing every message.

    Sink(port=None, lmtp=False, hostname='sink.example.net',
         extra_args=(), start=True)
        port        default free_port().
        lmtp        True: speak LMTP (-L): one reply per recipient after
                    DATA.
        extra_args  more smtp-sink options, e.g. ['-r', 'RCPT'] (soft-
                    reject every RCPT), ['-f', 'DATA'], ['-w', '5'],
                    ['-q', 'DATA'] (drop the connection at DATA).
    Use as a context manager, or call stop().  .port, .dump (path),
    .logfile.

    It runs as nobody (-u nobody; smtp-sink refuses root) with -D DUMP:
    each transaction is appended to one dump file after the final '.',
    before the 250 is sent, so once a client got its 250 the message is
    in the dump.  Every dumped message starts with the -S marker line
    below, then smtp-sink's records:
        X-Client-Addr: 127.0.0.1
        X-Client-Proto: ESMTP          (SMTP, ESMTP or LMTP)
        X-Helo-Args: client.name       (if HELO/EHLO/LHLO was sent)
        X-Mail-Args: <sender@x> SIZE=123
        X-Rcpt-Args: <rcpt1@y>         (one per RCPT, in order)
        Received: from client.name ([127.0.0.1])
        \\tby sink.example.net (smtp-sink) with ESMTP id 75a1ce69;
        \\tSun, 22 Nov 2026 05:39:04 +0000 (UTC)
    then the message with CR removed and dot-stuffing undone, then one
    empty line.  Many sessions are served in parallel (-m), recipients
    per transaction are unlimited.
    """

    MARK = b"\x01MLS-SINK-MESSAGE\x01\n"
    _MARK_ARG = "\\001MLS-SINK-MESSAGE\\001\\n"

    def __init__(self, port=None, lmtp=False, hostname="sink.example.net",
        extra_args=(), start=True):
        self.port = port or free_port()
        self.lmtp = lmtp
        self.hostname = hostname
        self.extra_args = list(extra_args)
        self.dir = _mkdtemp("mls-sink-")
        # smtp-sink (as nobody) creates a scratch file per transaction
        # beside the dump file, so the directory belongs to nobody.
        self.dumpdir = os.path.join(self.dir, "dump")
        os.mkdir(self.dumpdir, 0o755)
        os.chown(self.dumpdir, NOBODY.pw_uid, NOBODY.pw_gid)
        self.dump = os.path.join(self.dumpdir, "messages")
        self.logfile = os.path.join(self.dir, "smtp-sink.log")
        self.proc = None
        if start:
            self.start()

    def command(self):
        """The smtp-sink command line."""
        # -m: sessions served at once (each holds a socket and a
        # scratch file); the backlog queues the rest in the kernel.
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if nofile == resource.RLIM_INFINITY:
            nofile = 4096
        maxconn = max(16, min(1000, (nofile - 32) // 2))
        cmd = [SMTP_SINK, "-u", NOBODY.pw_name, "-D", self.dump,
            "-S", self._MARK_ARG, "-h", self.hostname,
            "-m", str(maxconn), "-t", "300"]
        if self.lmtp:
            cmd.append("-L")
        cmd += self.extra_args
        cmd += ["127.0.0.1:%d" % self.port, "1024"]
        return cmd

    def start(self):
        """Start smtp-sink and wait until it accepts connections."""
        if not os.path.exists(self.dump):
            with open(self.dump, "wb"):
                pass
            os.chown(self.dump, NOBODY.pw_uid, NOBODY.pw_gid)
        cmd = self.command()
        if VERBOSE:
            _say("harness:", " ".join(cmd))
        log = open(self.logfile, "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        _live.add(self)
        _wait_port(self.port, self.proc, 10, "smtp-sink", self.logfile)
        return self

    def stop(self):
        """Kill smtp-sink and reap it (the dump stays readable)."""
        _live.discard(self)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def close(self):
        """stop(), then remove the temporary directory."""
        self.stop()
        _rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def log(self):
        """smtp-sink's own stdout/stderr."""
        return _read_text(self.logfile)

    def clear(self):
        """Forget the messages received so far (truncate the dump)."""
        with open(self.dump, "r+b") as f:
            f.truncate(0)

    def _read_stable(self):
        """The dump's bytes, read when no append is in progress."""
        for _ in range(50):
            try:
                before = os.stat(self.dump).st_size
                with open(self.dump, "rb") as f:
                    data = f.read()
                after = os.stat(self.dump).st_size
            except FileNotFoundError:
                return b""
            if before == after == len(data) and (not data
                or data.endswith(b"\n\n")):
                return data
            time.sleep(0.02)
        return data

    def messages(self):
        """Every complete message in the dump, in arrival order (Mail)."""
        data = self._read_stable()
        out = []
        for chunk in data.split(self.MARK):
            if not chunk:
                continue
            m = self._parse(chunk)
            if m is not None:
                out.append(m)
        return out

    @staticmethod
    def _parse(chunk):
        """Parse one dumped transaction (without the marker)."""
        if not chunk.endswith(b"\n\n"):
            return None  # still being appended
        chunk = chunk[:-1]  # the line smtp-sink adds after each message
        pos = 0
        info = {"rcpt": []}
        while True:
            nl = chunk.find(b"\n", pos)
            if nl < 0:
                return None
            line = chunk[pos:nl].decode("utf-8", "replace")
            pos = nl + 1
            if line.startswith("Received: "):
                # Two continuation lines (by ...; date) follow.
                for _ in range(2):
                    nl = chunk.find(b"\n", pos)
                    if nl < 0:
                        return None
                    cont = chunk[pos:nl].decode("utf-8",
                        "replace")
                    m = re.search(r"\bid ([0-9a-f]+);", cont)
                    if m:
                        info["id"] = m.group(1)
                    pos = nl + 1
                break
            name, _, value = line.partition(": ")
            if name == "X-Rcpt-Args":
                info["rcpt"].append(value)
            else:
                info[name] = value
        m = Mail(chunk[pos:])
        m.mail_args = info.get("X-Mail-Args")
        m.sender = _angle_addr(m.mail_args) \
            if m.mail_args is not None else None
        m.rcpt_args = info["rcpt"]
        m.rcpts = [_angle_addr(a) for a in info["rcpt"]]
        m.proto = info.get("X-Client-Proto")
        m.helo = info.get("X-Helo-Args")
        m.sink_id = info.get("id")
        return m

    def rcpt_counts(self):
        """collections.Counter: recipient address -> copies received."""
        c = collections.Counter()
        for m in self.messages():
            c.update(m.rcpts)
        return c

    def rcpt_total(self):
        """How many recipients (copies) were received in all."""
        return sum(len(m.rcpts) for m in self.messages())

    def wait_for(self, predicate, timeout=30, interval=0.1):
        """Poll the dump until predicate(messages()) is true.

        Returns the message list at that moment; raises TimeoutError."""
        result = []

        def check():
            msgs = self.messages()
            if predicate(msgs):
                result.append(msgs)
                return True
            return False
        wait_until(check, timeout, interval, "smtp-sink messages "
            "matching the predicate")
        return result[0]

    def wait_count(self, n, timeout=30):
        """Wait until at least n messages arrived; return them."""
        return self.wait_for(lambda ms: len(ms) >= n, timeout)

    def wait_rcpts(self, n, timeout=30):
        """Wait until at least n recipient copies arrived in all."""
        return self.wait_for(
            lambda ms: sum(len(m.rcpts) for m in ms) >= n, timeout)


# ---------------------------------------------------------------- Postfix

class Postfix:
    """A private Postfix instance in a temporary directory.

    Postfix(lmtp_port, members=(), list_domain=LIST_DOMAIN,
            member_domain=MEMBER_DOMAIN, smtp_port=None, extra_main=None,
            start=True, pipe=None)

    It listens for SMTP on 127.0.0.1:smtp_port only, relays list_domain
    to lmtp:inet:127.0.0.1:lmtp_port (transport_maps), and delivers each
    address in `members` (all in member_domain) into a Maildir under the
    temporary directory (virtual(8), as user nobody).  mynetworks is the
    loopback, so any loopback client may relay.  Nothing is looked up in
    DNS; queue runs and retries are fast (1 s).  extra_main: more main.cf
    settings {name: value}, applied after the defaults.  pipe: instead
    of LMTP, hand list_domain to pipe(8) as the README says: a dict with
    "user" and "argv" (the command line after argv=, with ${sender} and
    ${recipient}); lmtp_port is then unused.

    .smtp_port, .lmtp_port, .dir, .config_dir, .queue_dir, .mail_dir.
    Use as a context manager, or call stop() then close().
    """

    def __init__(self, lmtp_port, members=(), list_domain=LIST_DOMAIN,
        member_domain=MEMBER_DOMAIN, smtp_port=None, extra_main=None,
        start=True, pipe=None):
        self.lmtp_port = lmtp_port
        self.pipe = pipe
        self.smtp_port = smtp_port or free_port()
        self.list_domain = list_domain
        self.member_domain = member_domain
        self.members = [m.lower() for m in members]
        self.extra_main = dict(extra_main or {})
        self.dir = _mkdtemp("mls-postfix-")
        self.config_dir = os.path.join(self.dir, "etc")
        self.queue_dir = os.path.join(self.dir, "queue")
        self.data_dir = os.path.join(self.dir, "data")
        self.mail_dir = os.path.join(self.dir, "mail")
        self.log_dir = os.path.join(self.dir, "log")
        self.logfile = os.path.join(self.log_dir, "maillog")
        self.running = False
        self._setup()
        if start:
            self.start()

    # -- configuration

    def _setup(self):
        pf = pwd.getpwnam("postfix")
        for d in (self.config_dir, self.queue_dir, self.log_dir):
            os.mkdir(d, 0o755)
        os.mkdir(self.data_dir, 0o700)
        os.chown(self.data_dir, pf.pw_uid, pf.pw_gid)
        os.mkdir(self.mail_dir, 0o755)
        os.chown(self.mail_dir, NOBODY.pw_uid, NOBODY.pw_gid)
        self._write("transport", "%s %s\n" % (self.list_domain,
            "mlserver:" if self.pipe else
            "lmtp:inet:127.0.0.1:%d" % self.lmtp_port))
        self._write_vmailbox()
        self._write("main.cf", self._main_cf())
        self._write("master.cf", self._master_cf())

    def _write(self, name, text):
        with open(os.path.join(self.config_dir, name), "w",
            encoding="utf-8") as f:
            f.write(text)

    def _write_vmailbox(self):
        lines = []
        for addr in self.members:
            local, _, dom = addr.partition("@")
            # A trailing slash asks virtual(8) for a Maildir.
            lines.append("%s %s/%s/\n" % (addr, dom, local))
        self._write("vmailbox", "".join(lines) or "# none\n")

    def main_settings(self):
        """The main.cf settings, as an ordered dict."""
        cf = self.config_dir
        s = collections.OrderedDict()
        s["compatibility_level"] = "3.6"
        # Paths: everything of this instance lives in self.dir; the
        # programs and postfix-files come from the Debian install.
        s["queue_directory"] = self.queue_dir
        s["data_directory"] = self.data_dir
        s["meta_directory"] = "/etc/postfix"
        s["command_directory"] = "/usr/sbin"
        s["daemon_directory"] = "/usr/lib/postfix/sbin"
        s["shlib_directory"] = "/usr/lib/postfix"
        s["mail_owner"] = "postfix"
        s["setgid_group"] = "postdrop"
        # No syslog here: without maillog_file (and its prefix listed)
        # `postfix start` exits 1 without a word.
        s["maillog_file"] = self.logfile
        s["maillog_file_prefixes"] = self.dir
        s["syslog_name"] = "postfix-test"
        s["myhostname"] = "mta.example.test"
        s["mydomain"] = "example.test"
        s["myorigin"] = "$myhostname"
        s["mydestination"] = ""
        s["inet_interfaces"] = "loopback-only"
        s["inet_protocols"] = "ipv4"
        s["mynetworks"] = "127.0.0.0/8"
        s["relay_domains"] = self.list_domain
        s["transport_maps"] = "texthash:%s/transport" % cf
        s["virtual_mailbox_domains"] = self.member_domain
        s["virtual_mailbox_maps"] = "texthash:%s/vmailbox" % cf
        s["virtual_mailbox_base"] = self.mail_dir
        s["virtual_uid_maps"] = "static:%d" % NOBODY.pw_uid
        s["virtual_gid_maps"] = "static:%d" % NOBODY.pw_gid
        s["virtual_minimum_uid"] = "1"
        s["smtpd_relay_restrictions"] = \
            "permit_mynetworks, reject_unauth_destination"
        s["smtpd_recipient_restrictions"] = \
            "permit_mynetworks, reject_unauth_destination"
        # No DNS anywhere: the next hops are numeric, the test domains
        # do not exist.
        s["smtp_dns_support_level"] = "disabled"
        s["lmtp_dns_support_level"] = "disabled"
        s["smtp_host_lookup"] = "native"
        s["lmtp_host_lookup"] = "native"
        s["smtpd_peername_lookup"] = "no"
        s["alias_maps"] = ""
        s["alias_database"] = ""
        s["local_recipient_maps"] = ""
        s["biff"] = "no"
        s["append_dot_mydomain"] = "no"
        s["smtpd_tls_security_level"] = "none"
        s["smtp_tls_security_level"] = "none"
        s["lmtp_tls_security_level"] = "none"
        # Tests wait on delivery: retry deferred mail within seconds.
        s["queue_run_delay"] = "1s"
        s["minimal_backoff_time"] = "1s"
        s["maximal_backoff_time"] = "5s"
        s["maximal_queue_lifetime"] = "1h"
        s["bounce_queue_lifetime"] = "1h"
        s["in_flow_delay"] = "0"
        s["lmtp_connection_cache_on_demand"] = "no"
        s["smtpd_error_sleep_time"] = "0"
        s["smtpd_soft_error_limit"] = "1000"
        s["smtpd_hard_error_limit"] = "1000"
        s["message_size_limit"] = "52428800"
        # virtual(8) refuses to run when its limit is below this one.
        s["virtual_mailbox_limit"] = "0"
        if self.pipe:
            s["mlserver_destination_recipient_limit"] = "1"
        s.update(self.extra_main)
        return s

    def _main_cf(self):
        return "".join("%s = %s\n" % kv
            for kv in self.main_settings().items())

    def _master_cf(self):
        """Debian's master.cf, our SMTP listener, no chroot, no pipes
        but ours (see pipe in the class comment)."""
        src = next((p for p in MASTER_CF_DIST if os.path.exists(p)), None)
        if src is None:
            raise RuntimeError("no master.cf to start from")
        entries = []
        with open(src, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                if line[0] in " \t":
                    if entries:
                        entries[-1].append(line.rstrip("\n"))
                    continue
                entries.append([line.rstrip("\n")])
        out = ["%s:%d inet n - n - - smtpd" % ("127.0.0.1",
            self.smtp_port)]
        for e in entries:
            f = e[0].split()
            if len(f) < 8:
                continue
            if f[1] == "inet":
                continue  # the port 25 listener
            if f[7] == "pipe":
                continue  # Debian's examples for absent users
            # chroot would need /etc files copied into the queue.
            f[4] = "n"
            out.append(" ".join(f))
            out.extend(e[1:])
        if self.pipe:
            # The README's entry, word for word but for the paths.
            out += ["mlserver unix - n n - - pipe",
                "  flags=FRq user=%s argv=%s" % (self.pipe["user"],
                    self.pipe["argv"])]
        return "\n".join(out) + "\n"

    def add_member(self, address):
        """Add a Maildir mailbox for address (takes effect at once)."""
        address = address.lower()
        if address not in self.members:
            self.members.append(address)
            self._write_vmailbox()
            if self.running:
                self.reload()

    # -- control

    def _postfix(self, *args, check=True, timeout=60):
        cmd = [POSTFIX, "-c", self.config_dir] + list(args)
        if VERBOSE:
            _say("harness:", " ".join(cmd))
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s\n--- maillog ---\n%s"
                % (" ".join(cmd), cp.returncode,
                cp.stdout.decode(errors="replace"),
                cp.stderr.decode(errors="replace"), self.log()))
        return cp

    def start(self):
        """postfix start, then wait until the SMTP port accepts."""
        _live.add(self)
        self.running = True
        try:
            self._postfix("start")
        except Exception:
            self.stop()
            raise
        _wait_port(self.smtp_port, None, 20, "postfix smtpd")
        return self

    def reload(self):
        """postfix reload (after changing maps or main.cf)."""
        self._postfix("reload")

    def master_pid(self):
        """The master process id, or None when it is not running."""
        try:
            with open(os.path.join(self.queue_dir, "pid",
                "master.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def stop(self, timeout=30):
        """postfix stop, and wait until the master process is gone."""
        _live.discard(self)
        if not self.running:
            return
        pid = self.master_pid()
        self._postfix("stop", check=False)
        if pid:
            try:
                wait_until(lambda: not _pid_alive(pid), timeout,
                    0.05, "postfix master %d to exit" % pid)
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
        self.running = False

    def close(self):
        """stop(), then remove the temporary directory."""
        self.stop()
        _rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def flush(self):
        """postqueue -f: attempt delivery of all queued mail now."""
        return subprocess.run([POSTQUEUE, "-c", self.config_dir, "-f"],
            capture_output=True, timeout=60)

    def queue(self):
        """postqueue -p output (text): what is still queued."""
        cp = subprocess.run([POSTQUEUE, "-c", self.config_dir, "-p"],
            capture_output=True, timeout=60)
        return cp.stdout.decode("utf-8", "replace")

    def queue_empty(self):
        """True when nothing is queued."""
        return "Mail queue is empty" in self.queue()

    def log(self):
        """The maillog text so far."""
        return _read_text(self.logfile)

    # -- delivered mail

    def maildir(self, address):
        """The Maildir path of a member address."""
        local, _, dom = address.lower().partition("@")
        return os.path.join(self.mail_dir, dom, local)

    def maildir_messages(self, address):
        """Messages in address's Maildir (new/ and cur/), oldest first.

        Each is a Mail; .sender is the Return-Path, .rcpts the
        Delivered-To, .path the file."""
        base = self.maildir(address)
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(base, sub)
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            for n in names:
                p = os.path.join(d, n)
                try:
                    st = os.stat(p)
                    with open(p, "rb") as f:
                        raw = f.read()
                except FileNotFoundError:
                    continue
                found.append((st.st_mtime, n, p, raw))
        found.sort()
        out = []
        for _, _, p, raw in found:
            m = Mail(raw)
            rp = m.headers.get("Return-Path")
            m.sender = _angle_addr(rp) if rp is not None else None
            m.rcpts = [str(v).strip()
                for v in m.headers.get_all("Delivered-To", [])]
            m.path = p
            out.append(m)
        return out

    def wait_maildir(self, address, count=1, timeout=60,
        predicate=None):
        """Wait until address's Maildir holds >= count messages (for
        which predicate(mail) holds, if given); return all of them."""
        def check():
            ms = self.maildir_messages(address)
            sel = [m for m in ms if predicate is None or predicate(m)]
            return ms if len(sel) >= count else None
        return wait_until(check, timeout, 0.2,
            "%d message(s) in the Maildir of %s" % (count, address))

    def send(self, sender, rcpts, message, timeout=60):
        """Submit message (bytes/str) over SMTP to this instance with
        smtplib; returns sendmail()'s refused-recipients dict."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        with smtplib.SMTP("127.0.0.1", self.smtp_port,
            timeout=timeout) as s:
            return s.sendmail(sender, rcpts, _crlf(message))


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists": reap if we can.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().split(")")[-1].split()[0] == "Z":
                return False
    except OSError:
        return False
    return True


def swaks(port, sender, to, data=None, header=None, body=None,
    extra=(), server="127.0.0.1", timeout=60, check=True):
    """Send one message with swaks to server:port; return CompletedProcess.

    to: address or list.  data: a whole message (bytes/str), written to a
    file and passed as --data @FILE (swaks expands %TOKENS% like
    %DATE% in it).  Otherwise header: a header line or list of them
    (e.g. "Subject: =?UTF-8?B?...?="), body: text.  check: raise
    RuntimeError with swaks's transcript if it fails."""
    if isinstance(to, (list, tuple)):
        to = ",".join(to)
    cmd = [SWAKS, "--server", "%s:%d" % (server, port), "--from", sender,
        "--to", to, "--timeout", str(timeout), "--helo", "client.example.jp"]
    tmp = None
    try:
        if data is not None:
            fd, tmp = tempfile.mkstemp(prefix="mls-swaks-", suffix=".eml")
            with os.fdopen(fd, "wb") as f:
                f.write(_crlf(data))
            cmd += ["--data", "@" + tmp]
        else:
            for h in ([header] if isinstance(header, str)
                else (header or [])):
                cmd += ["--header", h]
            if body is not None:
                cmd += ["--body", body]
        cmd += list(extra)
        if VERBOSE:
            _say("harness:", " ".join(cmd))
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=timeout + 30)
    finally:
        if tmp:
            os.unlink(tmp)
    if check and cp.returncode != 0:
        raise RuntimeError("swaks failed (%d):\n%s%s" % (cp.returncode,
            cp.stdout.decode("utf-8", "replace"),
            cp.stderr.decode("utf-8", "replace")))
    return cp


# ---------------------------------------------------------------- libconfig

class LcList(list):
    """A Python list rendered as a libconfig list ( ... ), even when all
    its elements are scalars (a plain list of scalars renders as an
    array [ ... ])."""


_BAREKEY = re.compile(r"^[A-Za-z*][-A-Za-z0-9_*]*$")


def libconfig_string(s):
    """A libconfig string literal: "..." with \\ \" and controls escaped."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\f":
            out.append("\\f")
        elif o < 0x20 or o == 0x7f:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _is_scalar(v):
    return isinstance(v, (str, bool, int, float))


def libconfig_render(value, indent=0):
    """Render a Python value as libconfig text.

    str -> "escaped"; bool -> true/false; int -> 12 (L suffix beyond 32
    bits); float -> 1.5; dict -> group { key = value; ... };
    list of scalars (or empty list) -> array [ a, b ];
    list with groups/lists, tuple or LcList -> list ( a, b ).
    None is not allowed (leave the key out instead)."""
    pad = "  " * indent
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if -2**31 <= value < 2**31:
            return str(value)
        return "%dL" % value
    if isinstance(value, float):
        r = repr(value)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(value, str):
        return libconfig_string(value)
    if isinstance(value, dict):
        if not value:
            return "{ }"
        inner = "".join("%s  %s\n" % (pad, _setting(k, v, indent + 1))
            for k, v in value.items() if v is not None)
        return "{\n%s%s}" % (inner, pad)
    if isinstance(value, (list, tuple)):
        as_list = isinstance(value, (tuple, LcList)) or \
            not all(_is_scalar(v) for v in value)
        if not value:
            return "( )" if as_list else "[ ]"
        if not as_list:
            return "[ " + ", ".join(libconfig_render(v)
                for v in value) + " ]"
        inner = ",\n".join("%s  %s" % (pad, libconfig_render(v,
            indent + 1)) for v in value)
        return "(\n%s\n%s)" % (inner, pad)
    raise TypeError("cannot render %r in libconfig" % (value,))


def _setting(key, value, indent):
    if not _BAREKEY.match(key):
        raise ValueError("bad libconfig setting name %r" % key)
    return "%s = %s;" % (key, libconfig_render(value, indent))


def libconfig_document(settings):
    """A whole libconfig file from a dict of top-level settings (None
    values are left out)."""
    return "".join(_setting(k, v, 0) + "\n" for k, v in settings.items()
        if v is not None)


# ---------------------------------------------------------------- test data

def default_network():
    """The test network: regions tokyo (chapters setagaya, meguro) and
    osaka (chapter kita); setagaya's organizer sewanin@members.example.jp."""
    return {
        "name": "テストネットワーク",
        "regions": (
        {"id": "tokyo", "name": "東京", "chapters": (
            {"id": "setagaya", "name": "世田谷パートナーズの会",
            "organizers": ["sewanin@" + MEMBER_DOMAIN]},
            {"id": "meguro", "name": "目黒パートナーズの会"},
        )},
        {"id": "osaka", "name": "大阪", "chapters": (
            {"id": "kita", "name": "北区パートナーズの会"},
        )},
        ),
    }


def default_lists():
    """The test lists (a tuple of dicts, rendered as a libconfig list):
    setagaya (chapter:tokyo/setagaya, members, prefix [世田谷]),
    meguro (chapter:tokyo/meguro, open), kita (chapter:osaka/kita, open),
    tokyo (region:tokyo, announce), all (network, announce)."""
    sewanin = "sewanin@" + MEMBER_DOMAIN
    return (
        {"name": "setagaya", "scope": "chapter:tokyo/setagaya",
        "policy": "members", "moderators": [sewanin],
        "subject_prefix": "[世田谷]"},
        {"name": "meguro", "scope": "chapter:tokyo/meguro",
        "policy": "open"},
        {"name": "kita", "scope": "chapter:osaka/kita", "policy": "open"},
        {"name": "tokyo", "scope": "region:tokyo", "policy": "announce",
        "moderators": [sewanin]},
        {"name": "all", "scope": "network", "policy": "announce",
        "moderators": ["admin@" + MEMBER_DOMAIN]},
    )


def default_config(relay_port=25, listen_port=2424, state_dir="spool",
    max_recipients=50, **overrides):
    """The whole default test configuration as a dict (top-level
    settings, in file order).  overrides replace or add top-level
    settings (a value of None removes one)."""
    cfg = collections.OrderedDict()
    cfg["domain"] = LIST_DOMAIN
    cfg["state_dir"] = state_dir
    cfg["listen"] = ["127.0.0.1:%d" % listen_port]
    cfg["language"] = "ja"
    cfg["timezone"] = "Asia/Tokyo"
    cfg["relay"] = collections.OrderedDict([("host", "127.0.0.1"),
        ("port", relay_port), ("starttls", False),
        ("max_recipients", max_recipients)])
    # Tests wait on deliveries: retry within seconds, not minutes.
    cfg["queue"] = collections.OrderedDict([("retry_first", 1),
        ("retry_max", 5), ("lifetime", 600)])
    cfg["network"] = default_network()
    cfg["lists"] = default_lists()
    for k, v in overrides.items():
        cfg[k] = v
    return collections.OrderedDict((k, v) for k, v in cfg.items()
        if v is not None)


# ---------------------------------------------------------------- mlserverd

class Daemon:
    """mlserverd in the foreground, with its config and state in a
    temporary directory.

    Daemon(relay_port, config=None, port=None, max_recipients=50,
           start=True, env=None, args=())
        relay_port   where it relays outgoing mail (a Sink, or Postfix's
                     SMTP port).
        config       dict of top-level settings merged over
                     default_config() (None values remove a setting);
                     state_dir, listen and relay are always set here:
                     state_dir = the temporary directory, listen =
                     ["127.0.0.1:PORT"], relay = {host = "127.0.0.1";
                     port = relay_port; max_recipients = N; ...}.  A
                     "relay" dict in config is merged into that group.
        port         the LMTP port (default free_port()).
        env, args    extra environment / command-line arguments.

    Attributes: .port, .dir (= state_dir), .conf (config path),
    .logfile (its stderr and stdout), .db_path (state_dir/state.db),
    .config (the dict written), .proc.
    """

    def __init__(self, relay_port, config=None, port=None,
        max_recipients=50, start=True, env=None, args=()):
        self.relay_port = relay_port
        self.port = port or free_port()
        self.max_recipients = max_recipients
        self.dir = _mkdtemp("mls-daemon-")
        self.conf = os.path.join(self.dir, "mlserver.conf")
        self.logfile = os.path.join(self.dir, "mlserverd.log")
        self.db_path = os.path.join(self.dir, "state.db")
        self.env = dict(env or {})
        self.args = list(args)
        self.proc = None
        self.write_config(config)
        if start:
            self.start()

    # -- configuration

    def write_config(self, config=None):
        """(Re)write the config file from default_config() + config."""
        config = dict(config or {})
        relay = collections.OrderedDict([("host", "127.0.0.1"),
            ("port", self.relay_port), ("starttls", False),
            ("max_recipients", self.max_recipients)])
        relay.update(config.pop("relay", None) or {})
        cfg = default_config(relay_port=self.relay_port,
            listen_port=self.port, state_dir=self.dir,
            max_recipients=self.max_recipients)
        for k, v in config.items():
            cfg[k] = v
        cfg["state_dir"] = self.dir
        cfg["listen"] = ["127.0.0.1:%d" % self.port]
        cfg["relay"] = relay
        self.config = collections.OrderedDict((k, v)
            for k, v in cfg.items() if v is not None)
        text = libconfig_document(self.config)
        tmp = self.conf + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, self.conf)
        return text

    def config_text(self):
        """The config file as written."""
        return _read_text(self.conf)

    # -- process

    def command(self):
        return [MLSERVERD, "-c", self.conf, "-f"] + self.args

    def start(self, timeout=20):
        """Start mlserverd -c CONF -f; wait until the LMTP port accepts.

        Raises RuntimeError (with the log) if it exits first, and
        TimeoutError if it never listens."""
        if not os.access(MLSERVERD, os.X_OK):
            raise RuntimeError("mlserverd is not built: %s" % MLSERVERD)
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("mlserverd already running")
        env = dict(os.environ)
        env.update(self.env)
        if VERBOSE:
            _say("harness:", " ".join(self.command()))
        log = open(self.logfile, "ab")
        try:
            log.write(("--- harness: start %s\n"
                % time.strftime("%H:%M:%S")).encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(),
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        finally:
            log.close()
        _live.add(self)
        try:
            _wait_port(self.port, self.proc, timeout, "mlserverd",
                self.logfile)
        except TimeoutError:
            self.kill9()
            raise TimeoutError("mlserverd did not listen on %d within "
                "%gs\n--- log ---\n%s" % (self.port, timeout, self.log()))
        return self

    def running(self):
        """True while the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid if self.proc else None

    def signal(self, sig):
        """Send a signal (e.g. signal.SIGHUP) to the daemon."""
        if self.running():
            self.proc.send_signal(sig)

    def reload(self, config=None):
        """Rewrite the config if given, then SIGHUP."""
        if config is not None:
            self.write_config(config)
        self.signal(signal.SIGHUP)

    def kill9(self):
        """SIGKILL the daemon (a crash) and reap it; returns the status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def restart(self, timeout=20):
        """Start again with the same config, state and port."""
        if self.running():
            raise RuntimeError("restart() while running: stop() or "
                "kill9() first")
        return self.start(timeout)

    def stop(self, timeout=30):
        """SIGTERM, wait up to timeout (then SIGKILL); return the exit
        status (negative: killed by that signal)."""
        _live.discard(self)
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _say("harness: mlserverd ignored SIGTERM for %gs; "
                    "killing" % timeout)
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        """stop(), then remove the temporary directory."""
        self.stop()
        _rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def log(self):
        """Everything the daemon wrote to stderr/stdout so far."""
        return _read_text(self.logfile)

    # -- LMTP

    def lmtp_connect(self, timeout=60):
        """An smtplib.LMTP connected to the daemon (after LHLO)."""
        c = smtplib.LMTP("127.0.0.1", self.port, timeout=timeout)
        c.ehlo("client.example.jp")
        return c

    def lmtp_send(self, rcpts, message, sender="sender@" + MEMBER_DOMAIN,
        mail_options=None, timeout=60):
        """One LMTP transaction; return {rcpt: (code, text)}.

        A recipient refused at RCPT gets its RCPT reply; each accepted
        one gets its own reply after DATA (RFC 2033), or the DATA reply
        if DATA itself was refused.  message: bytes or str (UTF-8); line
        ends become CRLF and dot-stuffing is applied.  mail_options:
        MAIL FROM parameters (default BODY=8BITMIME when advertised).
        smtplib.LMTP.sendmail() is not used: it reads only one reply
        after DATA and raises on partial failure."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        data = _crlf(message)
        c = self.lmtp_connect(timeout)
        try:
            return self._lmtp_transaction(c, sender, rcpts, data,
                mail_options)
        finally:
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                c.close()

    @staticmethod
    def _lmtp_transaction(c, sender, rcpts, data, mail_options):
        if mail_options is None:
            mail_options = []
            if c.has_extn("8bitmime"):
                mail_options.append("BODY=8BITMIME")
        replies = {}
        code, resp = c.mail(sender, mail_options)
        if code != 250:
            for r in rcpts:
                replies[r] = (code, resp.decode("utf-8", "replace"))
            c.rset()
            return replies
        accepted = []
        for r in rcpts:
            code, resp = c.rcpt(r)
            replies[r] = (code, resp.decode("utf-8", "replace"))
            if code in (250, 251):
                accepted.append(r)
        if not accepted:
            c.rset()
            return replies
        code, resp = c.docmd("data")
        if code != 354:
            for r in accepted:
                replies[r] = (code, resp.decode("utf-8", "replace"))
            c.rset()
            return replies
        q = re.sub(rb"(?m)^\.", b"..", data) + b".\r\n"
        c.send(q)
        for r in accepted:
            code, resp = c.getreply()
            replies[r] = (code, resp.decode("utf-8", "replace"))
        return replies

    # -- the other programs

    def _run(self, argv, input=None, timeout=120, env=None):
        if isinstance(input, str):
            input = input.encode("utf-8")
        e = dict(os.environ)
        e.update(self.env)
        e.update(env or {})
        if VERBOSE:
            _say("harness:", " ".join(argv))
        cp = subprocess.run(argv, input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True, timeout=timeout, env=e, cwd=self.dir)
        cp.stdout_bytes = cp.stdout
        cp.stderr_bytes = cp.stderr
        cp.stdout = cp.stdout.decode("utf-8", "replace")
        cp.stderr = cp.stderr.decode("utf-8", "replace")
        return cp

    def ctl(self, *args, input=None, timeout=120, check=False):
        """Run mlserverctl -c CONF ARGS; return the CompletedProcess.

        input: str (sent as UTF-8) or bytes.  .stdout/.stderr are str
        (UTF-8 decoded), .stdout_bytes/.stderr_bytes the raw output.
        check: raise RuntimeError on a non-zero exit."""
        cp = self._run([MLSERVERCTL, "-c", self.conf]
            + [str(a) for a in args], input, timeout)
        if check and cp.returncode != 0:
            raise RuntimeError("mlserverctl %s exited %d:\n%s%s" % (
                " ".join(map(str, args)), cp.returncode, cp.stdout,
                cp.stderr))
        return cp

    def receive(self, recipient, message, timeout=120, sender=None):
        """Run mlserver-receive -c CONF [-f SENDER] RECIPIENT < message."""
        return self._run([MLSERVER_RECEIVE, "-c", self.conf] +
            (["-f", sender] if sender is not None else []) + [recipient],
            _crlf(message).replace(b"\r\n", b"\n")
            if isinstance(message, (bytes, str)) else message, timeout)

    def members(self, listname):
        """Addresses printed by `mlserverctl members LIST` (lower-case),
        taking the first token of each line that holds an '@'."""
        cp = self.ctl("members", listname, check=True)
        out = []
        for line in cp.stdout.splitlines():
            for tok in line.split():
                tok = tok.strip("<>,;\"")
                if "@" in tok:
                    out.append(tok.lower())
                    break
        return out

    def db(self):
        """A read-only sqlite3 connection to state.db (close it)."""
        return sqlite3.connect("file:%s?mode=ro" % self.db_path,
            uri=True, timeout=10)


def confirm_address(mail, listname=None, domain=LIST_DOMAIN):
    """The LIST-confirm+TOKEN@domain address a mail asks to reply to:
    from Reply-To if it is one, else the first such address in the
    text.  None if there is none."""
    name = re.escape(listname) if listname else r"[A-Za-z0-9._-]+"
    pat = re.compile(r"(%s-confirm\+[^\s@<>\"]+@%s)" % (name,
        re.escape(domain)), re.I)
    for h in ("Reply-To", "From"):
        v = mail.header(h)
        if v:
            m = pat.search(v)
            if m:
                return m.group(1)
    for text in [mail.header("Subject") or ""] + mail.text_parts():
        m = pat.search(text)
        if m:
            return m.group(1)
    return None


# ---------------------------------------------------------------- self-test

def selftest():
    """Check the harness against the real servers (no mlserverd needed):
    smtp-sink dump parsing over SMTP and LMTP, and a private Postfix
    handing the list domain to an LMTP sink and delivering to a Maildir.
    Run: /usr/bin/python3 tests/harness.py"""
    subject = "[世田谷] 来週の会合について ①㈱"
    body = "本文です。\n.\n..二つの点\n\nX-Client-Addr: 偽物\n最後\n"
    msg = make_message("佐藤花子 <hanako@%s>" % MEMBER_DOMAIN,
        "setagaya@" + LIST_DOMAIN, subject, body)
    jis = make_message("hanako@" + MEMBER_DOMAIN, "setagaya@" + LIST_DOMAIN,
        subject, body, charset="iso-2022-jp")
    rcpts = ["r1@%s" % MEMBER_DOMAIN, "r2@%s" % MEMBER_DOMAIN,
        "R3@%s" % MEMBER_DOMAIN]
    with Sink() as sink:
        with smtplib.SMTP("127.0.0.1", sink.port) as c:
            c.sendmail("hanako@" + MEMBER_DOMAIN, rcpts, msg)
            c.sendmail("", rcpts[:1], jis)
        ms = sink.messages()
        assert len(ms) == 2, ms
        assert ms[0].rcpts == rcpts and ms[0].sender == "hanako@" \
            + MEMBER_DOMAIN, ms[0]
        assert ms[1].sender == "" and ms[1].rcpts == rcpts[:1], ms[1]
        for m, orig in zip(ms, (msg, jis)):
            assert m.raw.replace(b"\n", b"\r\n") == orig, m.raw
            assert m.decoded_subject() == subject, m.decoded_subject()
            assert m.body_text() == body, repr(m.body_text())
        assert ms[0].header("From") == "佐藤花子 <hanako@%s>" % MEMBER_DOMAIN
        assert sink.rcpt_counts() == collections.Counter(
            {rcpts[0]: 2, rcpts[1]: 1, rcpts[2]: 1})
    with Sink(lmtp=True) as lsink:
        box = "hanako@" + MEMBER_DOMAIN
        with Postfix(lsink.port, members=[box]) as pf:
            swaks(pf.smtp_port, box, ["setagaya@" + LIST_DOMAIN,
                "setagaya-request@" + LIST_DOMAIN], data=msg)
            ms = lsink.wait_count(1, 60)
            assert ms[0].proto == "LMTP", ms[0].proto
            assert sorted(ms[0].rcpts) == ["setagaya-request@" + LIST_DOMAIN,
                "setagaya@" + LIST_DOMAIN], ms[0].rcpts
            assert ms[0].decoded_subject() == subject
            assert ms[0].body_text().rstrip("\n") == body.rstrip("\n")
            swaks(pf.smtp_port, "x@" + LIST_DOMAIN, box, data=jis)
            got = pf.wait_maildir(box, 1, 60)
            assert got[0].decoded_subject() == subject
            # swaks ends DATA with one more CRLF than the file has.
            assert got[0].body_text().rstrip("\n") == body.rstrip("\n"), \
                repr(got[0].body_text())
            assert got[0].rcpts == [box], got[0].rcpts
    print("harness self-test: ok")


if __name__ == "__main__":
    selftest()
