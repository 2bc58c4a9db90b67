#!/usr/bin/python3
"""test_listmail - what members receive: prefix, footer, charsets, DMARC.

- The Japanese corpus (tests/corpus/ja) goes through the real daemon and
  smtp-sink; each message must arrive exactly as its NAME.out says (the
  same files tests/check_listmail compares against), and parse back
  with Python's email package to the expected subject, with the footer
  at the end of the text.
- A list with charset = "iso-2022-jp" answers in ISO-2022-JP: 7-bit
  octets only, encoded words in ISO-2022-JP of at most 75 octets.
- DMARC: a small DNS server on the loopback (UDP, a port of its own)
  answers the _dmarc TXT lookups; mlserverd is pointed at it with
  dmarc.resolver, so no test needs the internet.  p=reject munges,
  p=none does not, a SERVFAIL munges, an organizational domain's sp=
  counts, answers are cached.
"""

import email
import email.policy
from email.utils import parseaddr
import glob
import os
import re
import socket
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, TOP_SRCDIR, Daemon,  # noqa
    Sink, cp50220_decode, decode_header_value, default_lists, make_message,
    wait_until)

M = MEMBER_DOMAIN
MEMBER = "member@" + M
CORPUS = os.path.join(TOP_SRCDIR, "tests", "corpus", "ja")
FOOTER = "\n--------\n世田谷パートナーズの会 ①㈱髙\n投稿: %{post}\n"
FOOTER_TEXT = FOOTER.replace("%{post}", "corpus@" + LIST_DOMAIN)
CORPUS_LIST = {"name": "corpus", "scope": "network", "policy": "open",
    "description": "コーパス", "subject_prefix": "[世田谷]",
    "footer": FOOTER}


class Corpus(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, config={"lists": (CORPUS_LIST,)})
        self.addCleanup(self.d.close)
        self.assertEqual(self.d.ctl("add", "corpus", MEMBER).returncode, 0)

    def test_corpus_byte_for_byte(self):
        names = sorted(os.path.basename(p)[:-4]
            for p in glob.glob(os.path.join(CORPUS, "*.eml")))
        self.assertGreaterEqual(len(names), 15)
        for name in names:
            with open(os.path.join(CORPUS, name + ".eml"), "rb") as f:
                msg = f.read()
            r = self.d.lmtp_send(["corpus@" + LIST_DOMAIN], msg,
                sender="taro@" + M)
            self.assertEqual(r["corpus@" + LIST_DOMAIN][0], 250, name)
        got = self.sink.wait_count(len(names), timeout=60)
        by_id = {}
        for m in got:
            by_id[m.headers["Message-ID"]] = m
        for i, name in enumerate(names):
            with self.subTest(name=name):
                with open(os.path.join(CORPUS, name + ".out"), "rb") as f:
                    want = f.read()
                mid = re.search(rb"Message-ID: (<[^>]+>)", want).group(1)
                m = by_id[mid.decode()]
                # The boundary of a wrapping multipart carries the
                # outgoing queue id: the only octets that may differ.
                raw = re.sub(rb"=_mls_footer_[0-9A-F]+_",
                    b"=_mls_footer_TAG_", m.raw)
                self.assertEqual(raw, want)
                # Parsed back with Python's email package.
                with open(os.path.join(CORPUS, name + ".subject"),
                        encoding="utf-8") as f:
                    subject = f.read().rstrip("\n")
                self.assertEqual(m.decoded_subject(), subject)
                parsed = email.message_from_bytes(m.raw,
                    policy=email.policy.compat32)
                self.assertFalse(parsed.defects, parsed.defects)
                texts = [t.replace("\r\n", "\n") for t in m.text_parts()]
                if name == "signed":
                    self.assertEqual(texts[0], "署名付きです。\n")
                    self.assertNotIn("--------", m.raw.decode("latin-1"))
                else:
                    self.assertTrue(texts[-1].endswith(FOOTER_TEXT),
                        repr(texts[-1]))

    def test_structures_parse_back(self):
        """Each MIME structure, as Python's email sees it."""
        want = {
            "jis-cp50220": ["text/plain"],
            "jis-mixed": ["multipart/mixed", "text/plain", "application/pdf",
                "text/plain"],
            "alternative": ["multipart/mixed", "multipart/alternative",
                "text/plain", "text/html", "text/plain"],
            "signed": ["multipart/signed", "text/plain",
                "application/pgp-signature"],
            "ascii": ["multipart/mixed", "text/plain", "text/plain"],
            "eucjp": ["multipart/mixed", "text/plain", "text/plain"],
        }
        for name, types in sorted(want.items()):
            with open(os.path.join(CORPUS, name + ".eml"), "rb") as f:
                self.d.lmtp_send(["corpus@" + LIST_DOMAIN], f.read(),
                    sender="taro@" + M)
        got = self.sink.wait_count(len(want), timeout=30)
        ids = {}
        for n in want:
            with open(os.path.join(CORPUS, n + ".eml"), "rb") as f:
                ids[re.search(rb"Message-ID: (<[^>]+>)", f.read()).group(1)
                    .decode()] = n
        for m in got:
            name = ids[m.headers["Message-ID"]]
            with self.subTest(name=name):
                self.assertEqual([p.get_content_type()
                    for p in m.headers.walk()], want[name])
                if name == "jis-cp50220":
                    body = m.headers.get_payload(decode=True)
                    self.assertTrue(all(b < 0x80 for b in body))
                    self.assertTrue(cp50220_decode(body).endswith(
                        FOOTER_TEXT))


class Charset(unittest.TestCase):
    """charset = "iso-2022-jp": the server's own mail for older phones."""

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        lists = [dict(lst) for lst in default_lists()]
        for lst in lists:
            if lst["name"] == "setagaya":
                lst["charset"] = "iso-2022-jp"
        self.d = Daemon(self.sink.port, config={"lists": tuple(lists)})
        self.addCleanup(self.d.close)

    def ask(self, listname, who):
        rcpt = "%s-request@%s" % (listname, LIST_DOMAIN)
        msg = make_message(who, rcpt, "help", "help\n")
        self.assertEqual(self.d.lmtp_send([rcpt], msg, sender=who)[rcpt][0],
            250)
        return self.mail_to(who)

    def mail_to(self, who):
        ms = self.sink.wait_for(lambda ms: any(who in m.rcpts for m in ms))
        return [m for m in ms if who in m.rcpts][-1]

    def test_reply_in_iso_2022_jp(self):
        m = self.ask("setagaya", "keitai@" + M)
        self.assertTrue(all(b < 0x80 for b in m.raw), "8-bit octets")
        self.assertEqual(m.headers.get_content_charset(), "iso-2022-jp")
        self.assertEqual(m.headers["Content-Transfer-Encoding"], "7bit")
        text = cp50220_decode(m.headers.get_payload(decode=True))
        self.assertIn("使い方", text)
        self.assertIn("登録", text)
        raw_subject = m.headers["Subject"]
        self.assertIn("=?ISO-2022-JP?B?", raw_subject)
        self.assertNotIn("UTF-8", raw_subject)
        for w in re.findall(r"=\?[^?]+\?[BQ]\?[^?]*\?=", raw_subject):
            self.assertLessEqual(len(w), 75)
        self.assertIn("【setagaya】", m.decoded_subject())
        frm = m.headers["From"]
        self.assertIn("=?ISO-2022-JP?B?", frm)
        self.assertIn("世田谷パートナーズの会", m.header("From"))

    def test_other_lists_stay_utf8(self):
        m = self.ask("meguro", "pc@" + M)
        self.assertEqual(m.headers.get_content_charset(), "utf-8")
        self.assertEqual(m.headers["Content-Transfer-Encoding"], "base64")

    def test_held_notice_in_iso_2022_jp(self):
        rcpt = "setagaya@" + LIST_DOMAIN
        msg = make_message("keitai@" + M, rcpt, "携帯から", "本文\n",
            charset="shift_jis")
        self.d.lmtp_send([rcpt], msg, sender="keitai@" + M)
        told = self.mail_to("keitai@" + M)
        self.assertTrue(all(b < 0x80 for b in told.raw))
        self.assertIn("携帯から", cp50220_decode(
            told.headers.get_payload(decode=True)))
        notice = self.mail_to("sewanin@" + M)
        first = notice.headers.get_payload()[0]
        self.assertEqual(first.get_content_charset(), "iso-2022-jp")
        self.assertIn("携帯から", cp50220_decode(first.get_payload(
            decode=True)))
        # The post itself, attached, is as it came: Shift_JIS.
        self.assertIn("本文".encode("cp932"), notice.raw)


# ------------------------------------------------------------------ DMARC

class DNSServer:
    """A DNS server for TXT lookups on 127.0.0.1 (UDP): answers from
    `txt`, SERVFAIL for names in `fail`, NXDOMAIN for the rest; counts
    the queries per name."""

    def __init__(self, txt, fail=()):
        self.txt = {k.lower(): v for k, v in txt.items()}
        self.fail = {f.lower() for f in fail}
        self.queries = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()

    @staticmethod
    def qname(data, off):
        labels = []
        while data[off]:
            n = data[off]
            labels.append(data[off + 1:off + 1 + n].decode("ascii"))
            off += 1 + n
        return ".".join(labels), off + 1

    def answer(self, data):
        qid, flags = struct.unpack("!HH", data[:4])
        name, end = self.qname(data, 12)
        qtype, = struct.unpack("!H", data[end:end + 2])
        question = data[12:end + 4]
        key = name.lower()
        self.queries[key] = self.queries.get(key, 0) + 1
        rcode, answers = 3, []
        if key in self.fail:
            rcode = 2
        elif key in self.txt:
            rcode = 0
            if qtype == 16:
                answers = self.txt[key]
        head = struct.pack("!HHHHHH", qid, 0x8180 | (flags & 0x0100) |
            rcode, 1, len(answers), 0, 0)
        out = head + question
        for text in answers:
            raw = text.encode()
            rdata = b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255]
                for i in range(0, len(raw), 255))
            out += struct.pack("!HHHIH", 0xC00C, 16, 1, 60, len(rdata))
            out += rdata
        return out

    def serve(self):
        while self.running:
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self.answer(data), peer)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue


class Dmarc(unittest.TestCase):

    def setUp(self):
        self.dns = DNSServer({
            "_dmarc.strict.example": ["v=DMARC1; p=reject; "
                "rua=mailto:d@strict.example"],
            "_dmarc.relaxed.example": ["v=DMARC1; p=none"],
            "_dmarc.corp.co.jp": ["v=DMARC1; p=none; sp=quarantine"],
            "_dmarc.other.example": ["some unrelated TXT record"],
        }, fail=["_dmarc.broken.example"])
        self.addCleanup(self.dns.close)
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        lists = [dict(lst) for lst in default_lists()]
        for lst in lists:
            if lst["name"] == "meguro":
                lst["from_munging"] = "when_needed"
            if lst["name"] == "kita":
                lst["from_munging"] = "always"
        self.d = Daemon(self.sink.port, config={"lists": tuple(lists),
            "dmarc": {"resolver": "127.0.0.1:%d" % self.dns.port,
            "timeout": 1}})
        self.addCleanup(self.d.close)
        for lst in ("meguro", "kita"):
            self.d.ctl("add", lst, MEMBER)

    def post(self, listname, sender, subject, extra=None):
        rcpt = "%s@%s" % (listname, LIST_DOMAIN)
        msg = make_message(sender, rcpt, subject, "本文\n",
            extra_headers=extra or {})
        addr = sender.rpartition("<")[2].rstrip(">")
        r = self.d.lmtp_send([rcpt], msg, sender=addr)
        self.assertEqual(r[rcpt][0], 250)
        ms = self.sink.wait_for(lambda ms: any(m.decoded_subject() ==
            subject for m in ms))
        return [m for m in ms if m.decoded_subject() == subject][0], msg

    def test_when_needed(self):
        m, orig = self.post("meguro", "山田 花子 <hanako@strict.example>",
            "厳格なドメイン")
        self.assertEqual(m.header("From"),
            "山田 花子 via meguro <meguro@%s>" % LIST_DOMAIN)
        self.assertEqual(m.header("Reply-To"),
            "山田 花子 <hanako@strict.example>")
        self.assertEqual(len(m.headers.get_all("From")), 1)
        # p=none, no record, an unrelated TXT: From stays the poster's.
        for dom in ("relaxed.example", "nothing.example", "other.example"):
            m, orig = self.post("meguro", "a@" + dom, "普通 " + dom)
            self.assertEqual(m.header("From"), "a@" + dom)
            self.assertIsNone(m.headers.get("Reply-To"))
        # A lookup that fails munges, to be safe.
        m, _ = self.post("meguro", "a@broken.example", "DNS障害")
        self.assertEqual(parseaddr(m.header("From")),
            ("a@broken.example via meguro", "meguro@" + LIST_DOMAIN))
        # A subdomain with no record of its own: the organizational
        # domain's sp= decides.
        m, _ = self.post("meguro", "b@mail.corp.co.jp", "子ドメイン")
        self.assertIn("via meguro", m.header("From"))
        self.assertEqual(self.dns.queries.get("_dmarc.corp.co.jp"), 1)
        # The poster's own Reply-To is kept, not replaced.
        m, _ = self.post("meguro", "c@strict.example", "返信先あり",
            extra={"Reply-To": "team@strict.example"})
        self.assertEqual(m.header("Reply-To"), "team@strict.example")
        self.assertIn("via meguro", m.header("From"))
        # Cached: two posts from strict.example, one query.
        self.assertEqual(self.dns.queries.get("_dmarc.strict.example"), 1)

    def test_always_and_never(self):
        m, _ = self.post("kita", "x@relaxed.example", "いつも")
        self.assertEqual(parseaddr(m.header("From")),
            ("x@relaxed.example via kita", "kita@" + LIST_DOMAIN))
        self.assertEqual(m.header("Reply-To"), "x@relaxed.example")
        self.assertEqual(self.dns.queries, {})
        self.d.ctl("add", "tokyo", MEMBER)
        rcpt = "tokyo@" + LIST_DOMAIN
        # never (the default) on an announce list posted by its moderator
        msg = make_message("sewanin@" + M, rcpt, "変えない", "本文\n")
        self.d.lmtp_send([rcpt], msg, sender="sewanin@" + M)
        m = self.sink.wait_for(lambda ms: any(x.decoded_subject() ==
            "変えない" for x in ms))[-1]
        self.assertEqual(m.header("From"), "sewanin@" + M)


if __name__ == "__main__":
    unittest.main(verbosity=2)
