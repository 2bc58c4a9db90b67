#!/usr/bin/python3
"""test_archive - the web and mbox archive, end to end.

A real daemon posts through smtp-sink; the archive directory it writes is
read back as a web server would serve it (pages parsed with Python's HTML
parser), the members' copies are checked for Archived-At, and the
index/get commands are used by mail.  Restarting must not archive a post
twice; "mlserverctl archive rebuild" must bring back a lost page.
"""

import datetime
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

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    default_lists, make_message, wait_until)

M = MEMBER_DOMAIN
URL = "https://lists.example.org/setagaya/"
TARO = "taro@" + M
HANAKO = "hanako@" + M
STRANGER = "stranger@" + M
REQ = "setagaya-request@" + LIST_DOMAIN


class Page(html.parser.HTMLParser):
    """Tags, links, text and the nesting of <li> of one page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.links = []
        self.text = []
        self.stack = []
        self.li_links = []      # (link, depth of <li>)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "li":
            self.stack.append(tag)
        if tag == "a" and dict(attrs).get("href"):
            href = dict(attrs)["href"]
            self.links.append(href)
            self.li_links.append((href, self.stack.count("li")))

    def handle_endtag(self, tag):
        if tag == "li" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def all_text(self):
        return "".join(self.text)


class Archive(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.arch = harness._mkdtemp("mls-archive-")
        self.addCleanup(harness._rmtree, self.arch)
        lists = []
        for l in default_lists():
            l = dict(l)
            if l["name"] == "setagaya":
                l["archive"] = {"dir": self.arch, "url": URL,
                    "public": False}
            lists.append(l)
        self.d = Daemon(self.sink.port, config={"lists": tuple(lists)})
        self.addCleanup(self.d.close)
        for a in (TARO, HANAKO):
            self.assertEqual(self.d.ctl("add", "setagaya", a).returncode, 0)
        self.assertEqual(self.d.ctl("add", "kita", TARO).returncode, 0)

    def fail_with_logs(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def send(self, rcpt, sender, subject, body, **kw):
        msg = make_message(sender, rcpt, subject, body, **kw)
        r = self.d.lmtp_send([rcpt], msg, sender=sender)
        self.assertEqual(r[rcpt][0], 250, r)
        return msg

    def wait_mail(self, pred, n, what):
        try:
            self.sink.wait_for(lambda ms: len([m for m in ms if pred(m)])
                >= n, timeout=30)
        except Exception:
            self.fail_with_logs("expected %d %s; have %r" % (n, what,
                self.sink.messages()))
        return [m for m in self.sink.messages() if pred(m)]

    def path_of(self, url):
        self.assertTrue(url.startswith(URL), url)
        return os.path.join(self.arch, url[len(URL):])

    def read(self, path, timeout=20):
        try:
            wait_until(lambda: os.path.exists(path), timeout=timeout,
                what=path)
        except Exception:
            self.fail_with_logs("%s was not written" % path)
        with open(path, encoding="utf-8") as f:
            return f.read()

    def post_thread(self):
        """A Japanese post (ISO-2022-JP, hostile markup) and a reply."""
        self.send("setagaya@" + LIST_DOMAIN, "山田太郎 <%s>" % TARO,
            "次回の会議について <script>alert(1)</script>",
            "次回は12月5日です。\n①②㈱\n<script>alert('x')</script>\n"
            "From the chair\n", charset="iso-2022-jp",
            message_id="<first@%s>" % M)
        first = self.wait_mail(lambda m: "①②㈱" in m.body_text(), 1,
            "first post")
        self.send("setagaya@" + LIST_DOMAIN, HANAKO,
            "Re: 次回の会議について", "了解しました。\n",
            message_id="<second@%s>" % M,
            extra_headers=[("In-Reply-To", "<first@%s>" % M),
                ("References", "<first@%s>" % M),
                ("Archived-At", "<https://elsewhere.example/x/9.html>")])
        second = self.wait_mail(lambda m: "了解" in m.body_text(), 1,
            "reply")
        return first, second

    def archived_at(self, m):
        v = m.header("Archived-At")
        self.assertIsNotNone(v, "no Archived-At in\n%s" % m.raw[:800])
        mm = re.fullmatch(r"<(.*)>", v.strip())
        self.assertIsNotNone(mm, v)
        return mm.group(1)

    def render_in_chromium(self, path, needles):
        """The page as a browser reads it: headless Chromium's DOM holds
        the text and no script; a phone-sized screenshot is taken."""
        chromium = shutil.which("chromium")
        if chromium is None:
            self.skipTest("chromium is not installed (.ci/deps.sh)")
        work = os.path.join(self.d.dir, "chromium")
        os.mkdir(work)
        flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
        url = "file://" + path
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
        self.assertEqual(struct.unpack(">II", png[16:24]), (412, 915))
        self.assertGreater(len(png), 10000)

    def test_pages_threads_and_archived_at(self):
        first, second = self.post_thread()
        url1 = self.archived_at(first[0])
        url2 = self.archived_at(second[0])
        # One Archived-At, ours, even when the post came with another.
        self.assertEqual(second[0].header_all("Archived-At"),
            ["<%s>" % url2])
        self.assertRegex(url1, r"/\d{4}-\d{2}/1\.html$")
        self.assertRegex(url2, r"/\d{4}-\d{2}/2\.html$")
        self.assertEqual(first[0].header("List-Archive"), "<%s>" % URL)
        month = url1[len(URL):].split("/")[0]

        # The message page: Japanese decoded, markup inert, no address.
        text = self.read(self.path_of(url1))
        page = Page(text)
        body = page.all_text()
        self.assertIn("次回は12月5日です。", body)
        self.assertIn("①②㈱", body)
        self.assertIn("<script>alert('x')</script>", body)  # as text
        self.assertNotIn("script", [t for t, _ in page.tags])
        self.assertNotIn("<script", text)
        self.assertIn("山田太郎", body)
        self.assertNotIn(TARO, text)
        self.assertIn("taro at members", body)
        reply = Page(self.read(self.path_of(url2)))
        self.assertIn("../%s/1.html" % month, reply.links)
        self.assertTrue(any(t == "meta" and a.get("name") == "viewport"
            for t, a in page.tags))
        self.assertTrue(os.path.exists(os.path.join(self.arch,
            "style.css")))

        self.render_in_chromium(self.path_of(url1), ("次回は12月5日です。",
            "①②㈱", "山田太郎", "&lt;script&gt;alert('x')&lt;/script&gt;"))

        # The month by date, and by thread: the reply under the post.
        idx = Page(self.read(os.path.join(self.arch, month, "index.html")))
        self.assertIn("1.html", idx.links)
        self.assertIn("2.html", idx.links)
        self.assertIn("[世田谷] Re: 次回の会議について", idx.all_text())
        thr = Page(self.read(os.path.join(self.arch, month,
            "thread.html")))
        depth = dict((h, d) for h, d in thr.li_links if h.endswith(".html")
            and h[0].isdigit())
        self.assertEqual(depth["1.html"], 1, thr.li_links)
        self.assertEqual(depth["2.html"], 2, thr.li_links)
        top = Page(self.read(os.path.join(self.arch, "index.html")))
        self.assertIn(month + "/index.html", top.links)
        self.assertIn(month + "/thread.html", top.links)

        # The mbox: both messages, mboxrd-escaped, as sent.
        mbox_path = os.path.join(self.arch, "mbox", month + ".mbox")
        def mbox_bytes():
            if not os.path.exists(mbox_path):
                return b""
            with open(mbox_path, "rb") as f:
                return f.read()
        wait_until(lambda: mbox_bytes().count(b"Archived-At: <") == 2,
            timeout=20, what="mbox with two messages")
        mbox = mbox_bytes()
        self.assertEqual(len(re.findall(rb"^From ", mbox, re.M)), 2, mbox)
        self.assertIn(b"\n>From the chair\n", mbox)

        # A list without an archive keeps nothing.
        self.send("kita@" + LIST_DOMAIN, TARO, "kita post", "hello\n")
        self.wait_mail(lambda m: m.decoded_subject() == "kita post", 1,
            "kita post")
        db = sqlite3.connect(self.d.db_path)
        try:
            rows = db.execute("SELECT list, count(*) FROM archive GROUP BY "
                "list").fetchall()
        finally:
            db.close()
        self.assertEqual(rows, [("setagaya", 2)])
        kita = [m for m in self.sink.messages()
            if m.decoded_subject() == "kita post"][0]
        self.assertIsNone(kita.header("Archived-At"))

    def test_index_and_get_by_mail(self):
        first, _ = self.post_thread()
        url1 = self.archived_at(first[0])
        month = url1[len(URL):].split("/")[0]
        self.read(self.path_of(url1))

        mid = "<get-1@%s>" % M
        self.send(REQ, HANAKO, "", "目次\nget 1\n取得 99\nindex 2020-01\n"
            "index 2026-13\n", message_id=mid)
        result = self.wait_mail(lambda m: HANAKO in m.rcpts and
            m.header("Auto-Submitted") == "auto-replied", 1, "reply")
        time.sleep(1.5)     # a second mail, were there one, would be out
        # One reply, the post attached to it: no mail of its own.
        replies = [m for m in self.sink.messages() if HANAKO in m.rcpts
            and m.header("In-Reply-To") == mid]
        self.assertEqual(len(replies), 1, replies)
        self.assertIn("処理結果", replies[0].decoded_subject())
        text = result[0].body_text()
        self.assertIn(month, text)
        self.assertRegex(text, r"\n\s+1\s+%s-\d\d \d\d:\d\d\s+\[世田谷\] "
            r"次回の会議について" % month)
        self.assertRegex(text, r"\n\s+2\s+.*\[世田谷\] Re: ")
        self.assertIn("番号 99 の投稿は見つかりませんでした", text)
        self.assertIn("> get 1\n番号 1 の投稿を、このメールに添付しました。",
            text)
        self.assertIn("> index 2020-01\n2020-01 の投稿はありません。",
            text)
        self.assertIn("> index 2026-13\n月は「目次 2026-12」", text)
        inner = [p for p in replies[0].headers.walk()
            if p.get_content_type() == "message/rfc822"]
        self.assertEqual(len(inner), 1, replies[0].raw[:500])
        self.assertIn(inner[0]["Content-Transfer-Encoding"], ("7bit", "8bit"))
        post = inner[0].get_payload()[0]
        self.assertEqual(post["Message-ID"], "<first@%s>" % M)
        self.assertEqual(post["Archived-At"], "<%s>" % url1)

        # Not public: someone outside the list gets no index.
        self.send(REQ, STRANGER, "", "index\nget 1\n")
        r = self.wait_mail(lambda m: STRANGER in m.rcpts, 1, "refusal")
        self.assertEqual(len(r), 1)
        self.assertIn("メンバーの方だけ", r[0].body_text())
        self.assertNotIn("次回の会議", r[0].body_text())

    def db_rows(self):
        db = sqlite3.connect(self.d.db_path)
        try:
            return db.execute("SELECT count(*), count(DISTINCT msgid), "
                "sum(done) FROM archive").fetchone()
        finally:
            db.close()

    def test_crash_restart_and_rebuild(self):
        first, second = self.post_thread()
        url1 = self.archived_at(first[0])
        page1 = self.path_of(url1)
        self.read(self.path_of(self.archived_at(second[0])))
        self.d.stop()
        self.d.start()
        # A crash once the third post is numbered, before (most likely)
        # its files are written: after the restart they are, once.
        self.send("setagaya@" + LIST_DOMAIN, TARO, "third", "3\n")
        wait_until(lambda: self.db_rows()[0] == 3, timeout=20,
            interval=0.02, what="third post numbered")
        self.d.kill9()
        self.d.start()
        third = self.wait_mail(lambda m: m.decoded_subject() ==
            "[世田谷] third", 1, "third post")
        url3 = self.archived_at(third[0])
        self.assertRegex(url3, r"/3\.html$")
        self.assertIn("third", self.read(self.path_of(url3)))
        wait_until(lambda: self.db_rows()[2] == 3, timeout=20,
            what="all files written")
        self.assertEqual(self.db_rows(), (3, 3, 3))
        month = url1[len(URL):].split("/")[0]
        with open(os.path.join(self.arch, "mbox", month + ".mbox"),
                "rb") as f:
            self.assertEqual(len(re.findall(rb"^From ", f.read(), re.M)),
                3)
        os.unlink(page1)
        r = self.d.ctl("archive", "rebuild", "setagaya")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 messages written", r.stdout)
        self.assertIn("次回は12月5日です。", Page(self.read(page1))
            .all_text())
        r = self.d.ctl("archive", "rebuild", "kita")
        self.assertNotEqual(r.returncode, 0)

    def test_event_announcement_is_archived(self):
        # The organizer's announcement reaches the list: it is archived
        # too, with its calendar part offered as a download.
        sewanin = "sewanin@" + M
        when = datetime.datetime.now(datetime.timezone(
            datetime.timedelta(hours=9))) + datetime.timedelta(days=20)
        self.send("setagaya-events@" + LIST_DOMAIN, sewanin, "忘年会",
            "日時: %s 14:00\n場所: 世田谷区民会館\n\n年末の集いです。\n"
            % when.strftime("%Y-%m-%d"))
        ann = self.wait_mail(lambda m: TARO in m.rcpts and
            m.header("Archived-At"), 1, "announcement")[0]
        url = self.archived_at(ann)
        page = Page(self.read(self.path_of(url)))
        self.assertIn("忘年会", page.all_text())
        self.assertIn("世田谷区民会館", page.all_text())
        ics = [h for h in page.links if h.endswith(".ics")]
        self.assertEqual(len(ics), 1, page.links)
        with open(os.path.join(os.path.dirname(self.path_of(url)), ics[0]),
                encoding="utf-8") as f:
            self.assertIn("BEGIN:VCALENDAR", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
