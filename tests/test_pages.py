#!/usr/bin/python3
"""test_pages - the public record on the web, with the real daemon.

An organizer announces an event; members answer; the chapter's and the
region's event pages show the seats left and never who answered; the
calendar feeds (read back with libical itself, through ctypes) carry the
event with the mail's UID, and its cancellation with a raised SEQUENCE.
A proposal goes from submission to the institution's answer by mail;
its page shows the dated history, the supporters' count (not who), the
comments in order and the answer; the forward's page shows the summary
as it was mailed; the accountability page counts the days a forwarded
proposal has waited.  Pages are parsed back with html.parser and
survive a restart; `mlserverctl pages` rebuilds them.
"""

import ctypes
import datetime
import email.utils
import html.parser
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    default_lists, make_message, wait_until)

SEWANIN = "sewanin@" + MEMBER_DOMAIN    # setagaya's organizer, tokyo's mod
YAMADA = "yamada@" + MEMBER_DOMAIN      # setagaya members
HANAKO = "hanako@" + MEMBER_DOMAIN
JIRO = "jiro@" + MEMBER_DOMAIN
KITA_MOD = "kita-mod@" + MEMBER_DOMAIN  # moderates kita (osaka)
OFFICE = "soshibu@office.example.jp"    # tokyo's forward_to
JST = datetime.timezone(datetime.timedelta(hours=9))
REF_RE = re.compile(r"P-\d{4}-\d{4}")
EVENT_RE = re.compile(r"\bE(\d+)\b")
ADDR_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

# ------------------------------------------------------------ libical


class Ical:
    """The system's libical, through ctypes: the parser calendar
    programs of this family share, not a reimplementation."""

    lib = ctypes.CDLL("libical.so.3")
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalcomponent_count_errors.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_string_to_kind.argtypes = [ctypes.c_char_p]
    for f in ("icalcomponent_get_first_component",
            "icalcomponent_get_next_component",
            "icalcomponent_get_first_property",
            "icalcomponent_get_next_property"):
        getattr(lib, f).restype = ctypes.c_void_p
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.icalproperty_get_property_name.restype = ctypes.c_char_p
    lib.icalproperty_get_property_name.argtypes = [ctypes.c_void_p]
    lib.icalproperty_get_value_as_string.restype = ctypes.c_char_p
    lib.icalproperty_get_value_as_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    ANY_PROPERTY = 0

    @classmethod
    def props(cls, comp):
        out = {}
        p = cls.lib.icalcomponent_get_first_property(comp, cls.ANY_PROPERTY)
        while p:
            name = cls.lib.icalproperty_get_property_name(p).decode()
            value = cls.lib.icalproperty_get_value_as_string(p)
            out.setdefault(name, []).append(ics_unescape(
                value.decode("utf-8") if value else ""))
            p = cls.lib.icalcomponent_get_next_property(comp,
                cls.ANY_PROPERTY)
        return out

    @classmethod
    def parse(cls, data):
        """(calendar properties, [VEVENT properties], errors)."""
        cal = cls.lib.icalparser_parse_string(data)
        if not cal:
            raise ValueError("libical cannot parse the feed")
        try:
            errors = cls.lib.icalcomponent_count_errors(cal)
            vevent = cls.lib.icalcomponent_string_to_kind(b"VEVENT")
            events = []
            c = cls.lib.icalcomponent_get_first_component(cal, vevent)
            while c:
                events.append({k: v[0] for k, v in cls.props(c).items()})
                c = cls.lib.icalcomponent_get_next_component(cal, vevent)
            return ({k: v[0] for k, v in cls.props(cal).items()}, events,
                errors)
        finally:
            cls.lib.icalcomponent_free(cal)


def ics_unescape(v):
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN"
        else m.group(1), v)


def check_wire_form(test, data):
    """RFC 5545 3.1: CRLF lines of at most 75 octets, folded between
    characters, never inside one."""
    test.assertTrue(data.endswith(b"\r\n"))
    for line in data[:-2].split(b"\r\n"):
        test.assertNotIn(b"\n", line)
        test.assertLessEqual(len(line), 75, line)
        line.decode("utf-8")    # a split character would raise here


# ------------------------------------------------------------ HTML


class Page(html.parser.HTMLParser):
    """A page parsed back: its text, links, and anything active."""

    def __init__(self, path):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.chunks, self.links, self.active = [], [], []
        self.stack = []
        with open(path, encoding="utf-8") as f:
            self.raw = f.read()
        self.feed(self.raw)
        self.close()
        self.text = "".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "form"):
            self.active.append(tag)
        for k, v in attrs:
            if k.startswith("on") or (v or "").strip().lower().startswith(
                    "javascript:"):
                self.active.append("%s %s=%s" % (tag, k, v))
            if tag == "a" and k == "href":
                self.links.append(v)
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        self.chunks.append(data)
        self.chunks.append(" ")

    def items(self, ul_class):
        """The text of each <li> of the <ul class=ul_class>."""
        m = re.search(r'<ul class="%s">(.*?)</ul>' % ul_class, self.raw,
            re.S)
        if not m:
            return []
        return [re.sub(r"<[^>]+>", "", li) for li in
            re.findall(r"<li>(.*?)</li>", m.group(1), re.S)]


# ------------------------------------------------------------ the case


class PagesCase(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, start=False)
        self.addCleanup(self.d.close)
        self.web = os.path.join(self.d.dir, "web")
        lists = []
        for l in default_lists():
            l = dict(l)
            if l["name"] in ("setagaya", "tokyo", "all"):
                l["archive"] = {"dir": os.path.join(self.web, l["name"]),
                    "url": "https://%s/%s/" % (LIST_DOMAIN, l["name"]),
                    "public": True}
            if l["name"] == "tokyo":
                l["forward_to"] = [OFFICE]
            if l["name"] == "kita":
                l["moderators"] = [KITA_MOD]
            lists.append(l)
        self.d.write_config({"lists": tuple(lists), "reply_limit": 100,
            "proposal_schedule": []})
        self.d.start()
        for addr, name in ((YAMADA, "山田太郎"), (HANAKO, "佐藤花子"),
                (JIRO, "鈴木次郎")):
            self.d.ctl("add", "setagaya", addr, name, check=True)

    def fail_with_logs(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def path(self, *parts):
        return os.path.join(self.web, *parts)

    def send(self, rcpt, sender, subject, body):
        msg = make_message(sender, rcpt, subject, body)
        replies = self.d.lmtp_send([rcpt], msg,
            sender=email.utils.parseaddr(sender)[1])
        self.assertEqual(replies[rcpt][0], 250, replies)

    def wait_text(self, addr, needle, timeout=20):
        """The newest mail to addr whose subject or text holds needle."""
        def pick():
            return [m for m in self.sink.messages() if addr in m.rcpts
                and needle in (m.decoded_subject() or "") + m.body_text()]
        try:
            wait_until(lambda: pick(), timeout, what=needle)
        except TimeoutError:
            self.fail_with_logs("no mail to %s with %r" % (addr, needle))
        return pick()[-1]

    def wait_page(self, rel, needle, timeout=20):
        """The page at web/rel once its text holds needle."""
        path = self.path(rel)

        def ready():
            try:
                return needle in Page(path).text
            except FileNotFoundError:
                return False
        try:
            wait_until(ready, timeout, what="%s with %r" % (rel, needle))
        except TimeoutError:
            have = open(path, encoding="utf-8").read() if os.path.exists(
                path) else "(no such file)"
            self.fail_with_logs("%s never showed %r:\n%s" % (rel, needle,
                have))
        return Page(path)

    def wait_feed(self, rel, pred, timeout=20):
        path = self.path(rel)
        got = [None]

        def ready():
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                return False
            got[0] = (data,) + Ical.parse(data)
            return pred(*got[0][1:3])
        try:
            wait_until(ready, timeout, what=rel)
        except TimeoutError:
            self.fail_with_logs("%s never matched:\n%r" % (rel, got[0]))
        return got[0]

    def assert_clean(self, page):
        """Nothing active, no address, no attendee's name."""
        self.assertEqual(page.active, [], page.path)
        self.assertEqual(ADDR_RE.findall(page.raw), [], page.path)
        for name in ("山田太郎", "鈴木次郎", "yamada", "jiro"):
            self.assertNotIn(name, page.raw, page.path)


class EventPages(PagesCase):

    def announce(self, sender, rcpt, title, when, extra=""):
        body = ("日時: %s～%s\n場所: 世田谷区民会館 第2会議室\n%s\n"
            "年末の集いです。お問い合わせは %s まで。\n" % (
            when.strftime("%Y-%m-%d %H:%M"),
            (when + datetime.timedelta(hours=2)).strftime("%H:%M"),
            extra, sender))
        self.send(rcpt, sender, title, body)
        r = self.wait_text(sender, "を登録し")
        return "E" + EVENT_RE.search(r.body_text()).group(1)

    def test_event_pages_and_feeds(self):
        when = (datetime.datetime.now(JST) + datetime.timedelta(days=20)
            ).replace(hour=14, minute=0, second=0, microsecond=0)
        ref = self.announce(SEWANIN, "setagaya-events@" + LIST_DOMAIN,
            "忘年会 <script>alert(1)</script>", when, "定員: 3\n")
        ann = self.wait_text(YAMADA, "【ご案内】")
        uid = re.search(r"^UID:(.*)$", "\n".join(p.get_payload(
            decode=True).decode("utf-8") for p in ann.parts()
            if p.get_content_type() == "text/calendar").replace(
            "\r\n ", "").replace("\r", ""), re.M).group(1)
        kita_when = when + datetime.timedelta(days=1)
        kita = self.announce(KITA_MOD, "kita-events@" + LIST_DOMAIN,
            "北区の清掃活動", kita_when)

        # The chapter's page: seats left, the place, the text escaped.
        idx = self.wait_page("setagaya/events/index.html",
            "残り 3 席（定員 3 名）")
        self.assertIn("世田谷区民会館 第2会議室", idx.text)
        self.assertIn("忘年会 <script>alert(1)</script>", idx.text)
        self.assertEqual(len(idx.items("upcoming")), 1)
        self.assertIn("%s.html" % ref, idx.links)
        self.assert_clean(idx)

        # Two answers take three seats; a third goes on the waitlist.
        req = "setagaya-request@" + LIST_DOMAIN
        self.send(req, YAMADA, "", "参加 %s +1\n" % ref)
        self.wait_text(YAMADA, "参加を受け付けました")
        self.send(req, HANAKO, "", "参加 %s\n" % ref)
        self.wait_text(HANAKO, "参加を受け付けました")
        self.send(req, JIRO, "", "参加 %s\n" % ref)
        self.wait_text(JIRO, "キャンセル待ち")
        page = self.wait_page("setagaya/events/%s.html" % ref,
            "満席（キャンセル待ち 1 組）")
        self.assertIn("年末の集いです", page.text)
        self.assertIn("sewanin at members", page.text)
        self.assert_clean(page)
        # The region shows its chapter's event too.
        region = self.wait_page("tokyo/events/%s.html" % ref,
            "満席（キャンセル待ち 1 組）")
        self.assert_clean(region)
        self.assertIn("世田谷パートナーズの会", region.text)

        # Feeds: the chapter's, the region's (its chapters' events), the
        # network's (every event); libical reads them without an error.
        data, cal, events, errors = self.wait_feed("setagaya/events.ics",
            lambda cal, evs: len(evs) == 1)
        check_wire_form(self, data)
        self.assertEqual(errors, 0)
        self.assertEqual(cal["VERSION"], "2.0")
        self.assertEqual(cal["METHOD"], "PUBLISH")
        self.assertIn("mlserver", cal["PRODID"])
        self.assertEqual(cal["X-WR-CALNAME"], "世田谷パートナーズの会")
        ev = events[0]
        self.assertEqual(ev["UID"], uid)
        self.assertEqual(ev["SEQUENCE"], "0")
        self.assertEqual(ev["STATUS"], "CONFIRMED")
        utc = when.astimezone(datetime.timezone.utc)
        self.assertEqual(ev["DTSTART"], utc.strftime("%Y%m%dT%H%M%SZ"))
        self.assertEqual(ev["DTEND"], (utc + datetime.timedelta(hours=2))
            .strftime("%Y%m%dT%H%M%SZ"))
        self.assertRegex(ev["DTSTAMP"], r"^\d{8}T\d{6}Z$")
        self.assertEqual(ev["SUMMARY"], "忘年会 <script>alert(1)</script>")
        self.assertEqual(ev["LOCATION"], "世田谷区民会館 第2会議室")
        self.assertEqual(ev["URL"], "https://%s/setagaya/events/%s.html"
            % (LIST_DOMAIN, ref))
        self.assertNotIn(b"ATTENDEE", data)
        # The UID has the form of an address; nothing else may.
        self.assertEqual(ADDR_RE.findall(data.decode().replace(uid, "")),
            [])
        _, cal, events, errors = self.wait_feed("tokyo/events.ics",
            lambda cal, evs: len(evs) == 1)
        self.assertEqual(cal["X-WR-CALNAME"], "東京")
        self.assertEqual(events[0]["UID"], uid)    # not kita's event
        _, cal, events, errors = self.wait_feed("all/events.ics",
            lambda cal, evs: len(evs) == 2)
        self.assertEqual(errors, 0)
        self.assertIn("北区の清掃活動", [e["SUMMARY"] for e in events])
        self.assertFalse(os.path.exists(self.path("kita")))

        # Cancelled: the feed says so with a higher SEQUENCE, same UID.
        self.send("setagaya-events@" + LIST_DOMAIN, SEWANIN, "中止",
            "イベント: %s\n中止: はい\n" % ref)
        self.wait_text(SEWANIN, "を中止とし")
        data, cal, events, errors = self.wait_feed("setagaya/events.ics",
            lambda cal, evs: evs and evs[0].get("STATUS") == "CANCELLED")
        self.assertEqual(errors, 0)
        self.assertEqual(events[0]["UID"], uid)
        self.assertGreater(int(events[0]["SEQUENCE"]), 0)
        page = self.wait_page("setagaya/events/%s.html" % ref,
            "このイベントは中止になりました。")
        self.assert_clean(page)
        idx = self.wait_page("setagaya/events/index.html", "[中止]")

        # After a restart (the pages gone meanwhile) they come back;
        # mlserverctl pages rebuilds by hand.
        self.d.stop()
        shutil.rmtree(self.path("setagaya", "events"))
        self.d.restart()
        self.wait_page("setagaya/events/%s.html" % ref,
            "このイベントは中止になりました。")
        os.unlink(self.path("tokyo", "events.ics"))
        r = self.d.ctl("pages", "tokyo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tokyo: pages written", r.stdout)
        self.assertTrue(os.path.exists(self.path("tokyo", "events.ics")))
        r = self.d.ctl("pages", "meguro")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no archive", r.stderr)
        self.assertNotIn(kita, Page(self.path("tokyo", "events",
            "index.html")).text)


class ProposalPages(PagesCase):

    def submit(self, title, body, sender=YAMADA):
        self.send("setagaya-propose@" + LIST_DOMAIN, sender, title, body)
        r = self.wait_text(sender, "受け付けました")
        return REF_RE.search(r.decoded_subject() + r.body_text()).group(0)

    def test_proposal_record(self):
        req = "setagaya-request@" + LIST_DOMAIN
        title = "区民会館の夜間利用について"
        ref = self.submit(title, "テーマ: 施設\n区民会館の会議室を、平日は"
            "21時まで使えるようにしてください。\n連絡は yamada@members."
            "example.jp まで。\n")
        # Not public before a moderator approves it.
        hidden = self.submit("<script>未承認</script>", "まだ非公開です。\n",
            sender=HANAKO)
        self.send(req, SEWANIN, "", "approve %s\n" % ref)
        self.wait_text(YAMADA, "承認されました")
        comment = "setagaya-proposal+%s@%s" % (ref, LIST_DOMAIN)
        self.send(comment, "佐藤花子 <%s>" % HANAKO, "Re: 提案",
            "賛成です。土曜の夜も使えると助かります。\n")
        self.wait_text(YAMADA, "土曜の夜も")
        self.send(comment, "山田太郎 <%s>" % YAMADA, "Re: 提案",
            "補足します。利用料は今のままで構いません。\n")
        self.wait_text(HANAKO, "利用料は今のままで")
        self.send(req, JIRO, "", "support %s\n" % ref)
        self.wait_text(JIRO, "賛同を登録")

        self.wait_page("setagaya/proposals/%s.html" % ref,
            "利用料は今のままで")
        page = self.wait_page("setagaya/proposals/%s.html" % ref,
            "賛同者 1 名")
        self.assertIn("議論中", page.text)
        self.assertLess(page.text.index("土曜の夜も"),
            page.text.index("利用料は今のままで"))
        self.assertIn("yamada at members", page.text)
        self.assertNotIn("鈴木次郎", page.raw)    # supporters stay unnamed
        self.assertEqual(page.active, [])
        self.assertEqual(ADDR_RE.findall(page.raw), [])
        idx = Page(self.path("setagaya", "proposals", "index.html"))
        self.assertIn(ref, idx.text)
        self.assertNotIn(hidden, idx.raw)
        self.assertNotIn("未承認", idx.raw)
        self.assertFalse(os.path.exists(self.path("setagaya", "proposals",
            hidden + ".html")))

        # Forwarded by the region: its page has the summary as sent.
        r = self.d.ctl("forward", "tokyo")
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = self.wait_text(OFFICE, "提案の取りまとめ")
        idx = self.wait_page("tokyo/proposals/index.html", "取りまとめ（")
        fwd = [l for l in idx.links if l.startswith("forward-")]
        self.assertEqual(len(fwd), 1, idx.links)
        sent = Page(self.path("tokyo", "proposals", fwd[0]))
        self.assertIn(summary.decoded_subject(), sent.text)
        for line in summary.body_text().splitlines():
            line = line.strip()
            if line and not ADDR_RE.search(line):
                self.assertIn(line, sent.text)
        self.assertEqual(ADDR_RE.findall(sent.raw), [])

        # The accountability page: waiting since today, then ten days.
        waiting = self.wait_page("tokyo/proposals/unanswered.html", ref)
        row = [r for r in re.findall(r"<tr>(.*?)</tr>", waiting.raw)
            if ref in r]
        self.assertEqual(len(row), 1)
        self.assertIn("0 日", row[0])
        db = sqlite3.connect(self.d.db_path, timeout=10)
        with db:
            db.execute("UPDATE proposals SET forwarded = forwarded - "
                "10 * 86400 - 60 WHERE ref = ?", (ref,))
        db.close()
        self.wait_page("tokyo/proposals/unanswered.html", "10 日")

        # The answer: recorded by mail, on the page with its date.
        self.send("tokyo-request@" + LIST_DOMAIN, SEWANIN, "区からの回答",
            "answer %s answered\n区民会館の夜間利用は、来年4月から平日21時"
            "まで試行します。\n以上\n" % ref)
        self.wait_text(YAMADA, "ご提案への回答")
        page = self.wait_page("tokyo/proposals/%s.html" % ref,
            "来年4月から平日21時まで試行します。")
        self.assertIn("回答済み", page.text)
        history = re.search(r"<h2>経過</h2>\s*<ol>(.*?)</ol>", page.raw,
            re.S).group(1)
        steps = re.findall(r"<li>(\d{4}-\d\d-\d\d) ([^<]*)", history)
        self.assertEqual([s for _, s in steps], ["提出", "承認・公開",
            "提出先へ送付", "提出先から回答"], history)
        today = datetime.datetime.now(JST).strftime("%Y-%m-%d")
        self.assertEqual(steps[0][0], today)
        self.assertNotIn("鈴木次郎", page.raw)
        self.assertEqual(page.active, [])
        waiting = self.wait_page("tokyo/proposals/unanswered.html",
            "回答を待っている提案はありません。")
        self.assertNotIn(ref, waiting.text)
        idx = self.wait_page("setagaya/proposals/index.html", "回答済み")
        self.assertIn(title, idx.text)
        self.render_in_chromium("tokyo/proposals/%s.html" % ref,
            (title, "回答済み", "来年4月から平日21時まで試行します。",
            "土曜の夜も使えると助かります。", "賛同者"))

    def render_in_chromium(self, rel, needles):
        """The page as a browser reads it: headless Chromium's DOM holds
        the text and no script; a phone-sized screenshot is written."""
        chromium = shutil.which("chromium")
        if chromium is None:
            self.skipTest("chromium is not installed (.ci/deps.sh)")
        work = os.path.join(self.d.dir, "chromium")
        os.mkdir(work)
        flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
        url = "file://" + self.path(rel)
        dom = subprocess.run(flags + ["--user-data-dir=" + os.path.join(
            work, "a"), "--dump-dom", url], capture_output=True,
            timeout=120)
        self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
        text = dom.stdout.decode("utf-8")
        self.assertIn('<html lang="ja">', text)
        for needle in needles:
            self.assertIn(needle, text)
        self.assertNotIn("<script", text)
        shot = os.path.join(work, "page.png")
        r = subprocess.run(flags + ["--user-data-dir=" + os.path.join(work,
            "b"), "--window-size=412,915", "--screenshot=" + shot, url],
            capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        with open(shot, "rb") as f:
            png = f.read()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        self.assertEqual((width, height), (412, 915))
        # A page with text is far from one flat colour.
        self.assertGreater(len(png), 10000)


if __name__ == "__main__":
    unittest.main(verbosity=2)
