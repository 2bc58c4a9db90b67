#!/usr/bin/python3
"""test_events - an event run by mail alone, over LMTP and smtp-sink.

An organizer announces an event by mail; the list's audience (by scope)
gets it with a text/calendar part; members answer three ways (the
command, a one-line reply, a calendar REPLY as Gmail and Outlook send
it); capacity fills, the waitlist forms and is promoted; the roster
comes back as CSV with a BOM, attached to the command's one reply; the organizer updates and cancels; the
daemon's own scheduler sends reminders exactly once.  Everything is read
as the people involved would read it: the mails that arrive, their
calendar parts parsed field by field.
"""

import base64
import datetime
import email.mime.application
import email.mime.multipart
import email.mime.text
import email.utils
import json
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    cp50220_decode, default_lists, make_message, wait_until)

SEWANIN = "sewanin@" + MEMBER_DOMAIN    # setagaya's organizer, tokyo's mod
TARO = "taro@" + MEMBER_DOMAIN          # setagaya members
HANAKO = "hanako@" + MEMBER_DOMAIN
JIRO = "jiro@" + MEMBER_DOMAIN
SABURO = "saburo@" + MEMBER_DOMAIN
MEGURO = "megumi@" + MEMBER_DOMAIN      # a meguro member
KITA = "kita@" + MEMBER_DOMAIN          # an osaka (kita) member
STRANGER = "stranger@example.net"       # on no list

EVENTS = "setagaya-events@" + LIST_DOMAIN
REQUEST = "setagaya-request@" + LIST_DOMAIN
JST = datetime.timezone(datetime.timedelta(hours=9))
WEEKDAYS = "月火水木金土日"  # datetime's weekday(): Monday is 0


def zenkaku(n):
    """n in full-width digits."""
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


EVENT_RE = re.compile(r"\bE(\d+)\b")


def jst(dt):
    """'2026-12-05 14:00' (or with seconds) in Tokyo time."""
    return dt.astimezone(JST).strftime("%Y-%m-%d %H:%M")


ICAL_DUMP = os.path.join(os.environ.get("top_builddir") or
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "tests", "ical_dump")


def ical_read(text):
    """The calendar as libical reads it (tests/ical_dump): METHOD, and
    per VEVENT its properties as (NAME, {PARAM: value}, value), TEXT
    values unescaped.  Fails the test when libical finds an error."""
    r = subprocess.run([ICAL_DUMP], input=text.encode("utf-8"),
        capture_output=True)
    if r.returncode != 0:
        raise AssertionError("libical refuses the calendar: %s\n%s"
            % (r.stderr.decode(errors="replace"), text))
    data = json.loads(r.stdout)
    return data["method"], [[tuple(p) for p in ev] for ev in data["events"]]


def ics_lines_ok(text):
    """RFC 5545 3.1: CRLF line ends, lines of at most 75 octets."""
    lines = text.split("\r\n")
    if lines[-1] != "" or any("\n" in line for line in lines):
        return False
    return all(len(line.encode("utf-8")) <= 75 for line in lines)


class Calendar:
    """The VCALENDAR of a mail as libical reads it: METHOD and its one
    VEVENT's properties."""

    def __init__(self, text):
        assert ics_lines_ok(text), "not folded as RFC 5545 says:\n" + text
        self.text = text
        self.method, events = ical_read(text)
        assert len(events) == 1, text
        self.event = events[0]

    def get(self, name):
        for n, p, v in self.event:
            if n == name:
                return v
        return None

    def params(self, name):
        for n, p, v in self.event:
            if n == name:
                return p
        return None

    def all(self, name):
        return [(p, v) for n, p, v in self.event if n == name]


def calendar_of(mail):
    """(Calendar, the Content-Type's method) of a mail's text/calendar
    part, or (None, None)."""
    for part in mail.headers.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True).decode("utf-8")
            return Calendar(data), part.get_param("method")
    return None, None


def utc(s):
    return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)


def calendar_reply(sender, uid, partstat, style, guests=None, name="",
    summary="忘年会", organizer=None, from_=None):
    """A REPLY of attendee sender as a calendar program sends it, from
    from_ (default: the attendee)."""
    if style == "gmail":
        att = ("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            "PARTSTAT=%s;CN=%s" % (partstat, name or sender))
        if guests is not None:
            att += ";X-NUM-GUESTS=%d" % guests
        att += ":mailto:" + sender
        prodid = "-//Google Inc//Google Calendar 70.9054//EN"
    else:   # Outlook.com: MAILTO in capitals, no ORGANIZER
        att = "ATTENDEE;PARTSTAT=%s;CN=%s:MAILTO:%s" % (partstat,
            name or sender, sender.upper())
        prodid = "Microsoft Exchange Server 2010"
        organizer = None
    lines = ["BEGIN:VCALENDAR", "PRODID:" + prodid, "VERSION:2.0",
        "CALSCALE:GREGORIAN", "METHOD:REPLY", "BEGIN:VEVENT",
        "DTSTART:20261205T050000Z", "DTSTAMP:20261102T031522Z"]
    if organizer:
        lines.append("ORGANIZER;CN=x:mailto:" + organizer)
    lines += ["UID:" + uid, att[:70]]
    rest = att[70:]
    while rest:     # folded as clients fold
        lines.append(" " + rest[:70])
        rest = rest[70:]
    lines += ["SEQUENCE:0", "STATUS:CONFIRMED", "SUMMARY:" + summary,
        "END:VEVENT", "END:VCALENDAR"]
    ics = "\r\n".join(lines) + "\r\n"
    outer = email.mime.multipart.MIMEMultipart("mixed")
    alt = email.mime.multipart.MIMEMultipart("alternative")
    word = {"ACCEPTED": "accepted", "DECLINED": "declined",
        "TENTATIVE": "tentatively accepted"}[partstat]
    alt.attach(email.mime.text.MIMEText("%s has %s this invitation.\n"
        % (sender, word), "plain", "utf-8"))
    cal = email.mime.text.MIMEText(ics, "calendar", "utf-8")
    cal.set_param("method", "REPLY")
    alt.attach(cal)
    outer.attach(alt)
    if style == "gmail":
        ics_att = email.mime.application.MIMEApplication(ics.encode(),
            "ics", name="invite.ics")
        ics_att.add_header("Content-Disposition", "attachment",
            filename="invite.ics")
        outer.attach(ics_att)
    outer["From"] = from_ or sender
    outer["Subject"] = "%s: %s" % (word.capitalize(), summary)
    outer["Date"] = email.utils.formatdate(localtime=True)
    outer["Message-ID"] = email.utils.make_msgid(domain="example.jp")
    return outer.as_bytes()


class Base(unittest.TestCase):
    """A daemon and a sink; setagaya has four members, meguro and kita
    one each."""

    def setUp(self, config=None):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        cfg = {"reply_limit": 100}
        cfg.update(config or {})
        self.d = Daemon(self.sink.port, config=cfg)
        self.addCleanup(self.d.close)
        for addr, name in ((TARO, "山田太郎"), (HANAKO, "佐藤花子"),
                (JIRO, "鈴木次郎"), (SABURO, "")):
            self.d.ctl("add", "setagaya", addr, name, check=True)
        self.d.ctl("add", "meguro", MEGURO, "目黒めぐみ", check=True)
        self.d.ctl("add", "kita", KITA, check=True)

    # ---------------------------------------------------------- helpers

    def fail_with_logs(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def send(self, rcpt, sender, subject, body, raw=None):
        msg = raw or make_message(sender, rcpt, subject, body)
        replies = self.d.lmtp_send([rcpt], msg,
            sender=email.utils.parseaddr(sender)[1])
        self.assertEqual(replies[rcpt][0], 250, replies)

    def mails(self, addr, where=None):
        return [m for m in self.sink.messages() if addr in m.rcpts
            and (where is None or where(m))]

    def wait_mails(self, addr, n=1, where=None, timeout=20):
        try:
            wait_until(lambda: len(self.mails(addr, where)) >= n, timeout,
                what="%d mails to %s" % (n, addr))
        except TimeoutError:
            self.fail_with_logs("expected %d mails to %s; have:\n%s" % (n,
                addr, "\n".join("%r\n%s" % (m, m.body_text())
                for m in self.mails(addr))))
        return self.mails(addr, where)

    def wait_text(self, addr, needle, timeout=20):
        """The newest mail to addr whose text holds needle."""
        ms = self.wait_mails(addr, 1, lambda m: needle in m.body_text(),
            timeout)
        return ms[-1]

    def settle(self):
        """Let the processor and deliverer finish what was sent."""
        time.sleep(1.5)

    def announce(self, subject="忘年会", when=None, extra="",
            sender=SEWANIN, rcpt=EVENTS):
        when = when or (datetime.datetime.now(JST) + datetime.timedelta(
            days=20)).replace(hour=14, minute=0, second=0, microsecond=0)
        body = ("日時: %s～%s\n場所: 世田谷区民会館 第2会議室\n%s\n"
            "年末の集いです。お気軽にご参加ください。\n" % (jst(when),
            (when + datetime.timedelta(hours=2)).strftime("%H:%M"), extra))
        self.send(rcpt, sender, subject, body)
        reply = self.wait_text(sender, "を登録し")
        ref = EVENT_RE.search(reply.body_text())
        self.assertIsNotNone(ref, reply.body_text())
        return "E" + ref.group(1), when

    def announcement(self, addr, ref):
        rsvp = "setagaya-rsvp+%s@%s" % (ref, LIST_DOMAIN)
        return self.wait_mails(addr, 1,
            lambda m: rsvp in (m.header("Reply-To") or "")
            and m.header("List-Id"))[-1]

    def rsvp_addr(self, ref, lst="setagaya"):
        return "%s-rsvp+%s@%s" % (lst, ref, LIST_DOMAIN)

    def personal(self, addr, needle, method=None):
        """The newest personal event mail to addr holding needle, with
        its calendar."""
        m = self.wait_text(addr, needle)
        cal, meth = calendar_of(m)
        if method:
            self.assertIsNotNone(cal, m.body_text())
            self.assertEqual(meth, method)
            self.assertEqual(cal.method, method)
        return m, cal

    def attendee(self, cal):
        atts = cal.all("ATTENDEE")
        self.assertEqual(len(atts), 1, cal.text)
        return atts[0]



class Events(Base):

    def test_announce_refusals_and_calendar(self):
        # A member who is not an organizer is refused; nothing goes out.
        self.send(EVENTS, TARO, "勝手なイベント", "日時: 12月5日 14:00\n")
        r = self.wait_text(TARO, "世話人またはモデレーター")
        self.assertIn("auto-replied", r.header("Auto-Submitted"))
        # No Date: the reply names the line that is missing.
        self.send(EVENTS, SEWANIN, "忘年会", "場所: 区民会館\n\n本文\n")
        r = self.wait_text(SEWANIN, "「日時:」の行")
        # A Date that cannot be read: the line is quoted, the reason given.
        # The year is inferred, so the day is taken two months ahead and
        # given the weekday after its own (full-width, as phones type it).
        day = (datetime.datetime.now(JST) + datetime.timedelta(days=60)).date()
        wrong = WEEKDAYS[(day.weekday() + 1) % 7]
        line = "日時：{}月{}日（{}） １４：００".format(
            zenkaku(day.month), zenkaku(day.day), wrong)
        self.send(EVENTS, SEWANIN, "忘年会", line + "\n場所: 区民会館\n")
        r = self.wait_text(SEWANIN, "次の行を読み取れなかった")
        self.assertIn(line, r.body_text())
        self.assertIn("曜日が日付と合っていません", r.body_text())
        self.assertIn("その日は{}曜日です".format(WEEKDAYS[day.weekday()]),
                      r.body_text())
        self.send(EVENTS, SEWANIN, "忘年会", "日時: 来週の土曜日\n")
        r = self.wait_text(SEWANIN, "日時: 来週の土曜日")
        self.assertIn("読み取れませんでした", r.body_text())
        self.settle()
        self.assertEqual([m for m in self.sink.messages()
            if m.header("List-Id")], [], "nothing may be announced")

        ref, when = self.announce(extra="定員: 30\n締切: %s\n" % jst(
            datetime.datetime.now(JST) + datetime.timedelta(days=10)))
        reply = self.wait_text(SEWANIN, "を登録し")
        self.assertIn(self.rsvp_addr(ref), reply.body_text())
        self.assertIn("名簿 %s" % ref, reply.body_text())

        # Every setagaya member gets it; a meguro or kita member does not.
        for who in (TARO, HANAKO, JIRO, SABURO):
            self.announcement(who, ref)
        m = self.announcement(TARO, ref)
        self.assertEqual(self.mails(MEGURO), [])
        self.assertEqual(self.mails(KITA), [])
        self.assertIn("[世田谷]", m.decoded_subject())
        self.assertIn("忘年会", m.decoded_subject())
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, m.header("List-Id"))
        self.assertEqual(m.header("Precedence"), "list")
        self.assertEqual(m.sender, "setagaya-bounces@" + LIST_DOMAIN)
        text = m.body_text()
        for needle in ("日時: ", "場所: 世田谷区民会館 第2会議室",
                "定員: 30名（残り 30 席）", "回答締切: ", "参加", "不参加",
                "未定", "参加 +1", self.rsvp_addr(ref), "年末の集いです"):
            self.assertIn(needle, text)
        self.assertIn(when.strftime("%-m月%-d日"), text)
        # A PUBLISH invitation has no answer buttons: the text promises
        # them only with the personal invitation that follows an answer.
        self.assertIn("確認のメールをお送りします", text)
        self.assertNotIn("ボタンからもご回答いただけます", text)

        cal, method = calendar_of(m)
        self.assertEqual(method, "PUBLISH")
        self.assertEqual(cal.method, "PUBLISH")
        self.assertEqual(cal.get("SUMMARY"), "忘年会")
        self.assertEqual(cal.get("LOCATION"),
            "世田谷区民会館 第2会議室")
        self.assertIn("年末の集いです", cal.get("DESCRIPTION"))
        start = utc(cal.get("DTSTART"))
        self.assertEqual(start, when)
        self.assertEqual(utc(cal.get("DTEND")) - start,
            datetime.timedelta(hours=2))
        self.assertEqual(cal.get("SEQUENCE"), "0")
        self.assertEqual(cal.get("STATUS"), "CONFIRMED")
        self.assertTrue(cal.get("UID").startswith(ref + "-"))
        self.assertTrue(cal.get("UID").endswith("@" + LIST_DOMAIN))
        stamp = utc(cal.get("DTSTAMP"))
        self.assertLess(abs((stamp - datetime.datetime.now(
            datetime.timezone.utc)).total_seconds()), 120)
        self.assertEqual(cal.get("ORGANIZER").lower(),
            "mailto:" + self.rsvp_addr(ref).lower())
        self.assertEqual(cal.params("ORGANIZER")["CN"],
            "世田谷パートナーズの会")
        self.assertEqual(cal.all("ATTENDEE"), [])
        # The same calendar as an attachment, for clients that import.
        names = [p.get_filename() for p in m.parts()]
        self.assertIn("invite.ics", names)

        # A region event reaches the region's chapters, not Osaka's.
        self.send("tokyo-events@" + LIST_DOMAIN, SEWANIN, "東京交流会",
            "日時: %s\n" % jst(when + datetime.timedelta(days=3)))
        self.wait_text(SEWANIN, "東京交流会")
        for who in (TARO, MEGURO):
            mm = self.wait_mails(who, 1, lambda x: "東京交流会" in (
                x.decoded_subject() or ""))
            self.assertIn("tokyo-rsvp+", mm[-1].header("Reply-To"))
        self.settle()
        self.assertEqual(self.mails(KITA), [])

        # The events command lists both for a setagaya member.
        self.send(REQUEST, TARO, "", "イベント\n")
        r = self.wait_text(TARO, "これからのイベント")
        self.assertIn("忘年会", r.body_text())
        self.assertIn("東京交流会", r.body_text())
        self.assertIn("残り 30 席", r.body_text())
        out = self.d.ctl("events", "setagaya", check=True).stdout
        self.assertIn(ref, out)
        self.assertIn("東京交流会", out)
        js = json.loads(self.d.ctl("--json", "events", check=True).stdout)
        self.assertEqual(js[0]["event"], ref)
        self.assertEqual(js[0]["capacity"], 30)

    def test_rsvp_waitlist_roster_update_cancel(self):
        ref, when = self.announce(extra="定員: 3\n")
        uid = calendar_of(self.announcement(TARO, ref))[0].get("UID")
        rsvp = self.rsvp_addr(ref)

        # 1. The command, in Japanese, with a guest.
        self.send(REQUEST, TARO, "", "参加 %s +1\n" % ref)
        r = self.wait_text(TARO, "> 参加 %s +1" % ref)
        self.assertIn("参加を受け付けました（ご本人を含め 2 名）",
            r.body_text())
        self.assertIn("別のメールでお送りしました", r.body_text())
        m, cal = self.personal(TARO, "ご回答、ありがとうございます",
            "REQUEST")
        params, value = self.attendee(cal)
        self.assertEqual(value.lower(), "mailto:" + TARO)
        self.assertEqual(params["PARTSTAT"], "ACCEPTED")
        self.assertEqual(params["RSVP"], "TRUE")
        self.assertEqual(params["CN"], "山田太郎")
        self.assertEqual(cal.get("UID"), uid)
        self.assertEqual(m.header("From").split("<")[1].rstrip(">"), rsvp)
        self.assertEqual(m.header("Reply-To"), "<%s>" % rsvp)

        # 2. A one-line reply to the rsvp address: the last seat.
        self.send(rsvp, HANAKO, "Re: [世田谷] 【ご案内】忘年会",
            "参加します。\n\n> 参加のご回答のお願い\n> 不参加\n")
        m, cal = self.personal(HANAKO, "参加を受け付けました", "REQUEST")
        self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], "ACCEPTED")
        # She has a seat, and is told plainly that the seats are gone;
        # the waitlist is not hers.
        self.assertIn("参加を受け付けました（ご本人を含め 1 名）。"
            "これで定員に達しました。", m.body_text())
        self.assertIn("定員: 3名（満席）", m.body_text())
        self.assertNotIn("キャンセル待ち", m.body_text())

        # 3. A Gmail calendar REPLY: full, so the waitlist.
        self.send(rsvp, JIRO, None, None, raw=calendar_reply(JIRO, uid,
            "ACCEPTED", "gmail", guests=0, name="Jiro Suzuki",
            organizer=rsvp))
        m, cal = self.personal(JIRO, "キャンセル待ち", "REQUEST")
        self.assertIn("1 番目", m.body_text())
        self.assertNotIn("これで定員に達しました", m.body_text())
        self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], "TENTATIVE")
        # Outlook.com: no ORGANIZER, the address in capitals; maybe.
        self.send(rsvp, SABURO, None, None, raw=calendar_reply(SABURO, uid,
            "TENTATIVE", "outlook"))
        m, cal = self.personal(SABURO, "「未定」として受け付けました",
            "REQUEST")
        self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], "TENTATIVE")

        # A stranger may not answer; an unreadable answer is asked again.
        self.send(rsvp, STRANGER, "Re: 忘年会", "参加\n")
        self.wait_text(STRANGER, "メンバーの方から受け付けて")
        self.send(rsvp, TARO, "Re: 忘年会", "たぶん行けると思います\n")
        self.wait_text(TARO, "ご回答を読み取れませんでした")
        # A calendar answer for someone else is refused.
        self.send(rsvp, SABURO, None, None, raw=calendar_reply(HANAKO, uid,
            "DECLINED", "gmail", organizer=rsvp, from_=SABURO))
        self.wait_text(SABURO, "受け付けられませんでした")

        # The last answer wins: Hanako cannot come after all; Jiro is
        # promoted and told.
        self.send(rsvp, HANAKO, "Re: 忘年会", "不参加\n")
        m, cal = self.personal(HANAKO, "不参加として受け付けました",
            "REQUEST")
        self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], "DECLINED")
        m, cal = self.personal(JIRO, "参加を確定しました", "REQUEST")
        self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], "ACCEPTED")
        self.assertIn("auto-generated", m.header("Auto-Submitted"))
        # More guests than seats: the seat stays as it was.
        self.send(REQUEST, TARO, "", "rsvp %s yes +5\n" % ref)
        r = self.wait_text(TARO, "> rsvp %s yes +5" % ref)
        self.assertIn("人数の変更はお受けできませんでした", r.body_text())
        self.send(REQUEST, JIRO, "", "status %s\n" % ref)
        r = self.wait_text(JIRO, "> status %s" % ref)
        self.assertIn("へのご回答: 参加（ご本人を含め 1 名）", r.body_text())

        # The roster: refused to a member; for the organizer, attached
        # to the one reply to the command mail, named in Japanese.
        self.send(REQUEST, TARO, "", "名簿 %s\n" % ref)
        self.wait_text(TARO, "世話人またはモデレーターの方だけがご請求")
        mid = "<roster-1@%s>" % MEMBER_DOMAIN
        self.send(REQUEST, SEWANIN, None, None, raw=make_message(SEWANIN,
            REQUEST, "", "名簿 %s\n" % ref, message_id=mid))
        m = self.wait_text(SEWANIN, "の名簿を CSV ファイル（名簿_%s.csv）で"
            "添付しました" % ref)
        self.assertIn("> 名簿 %s\n" % ref, m.body_text())
        self.settle()
        self.assertEqual(len(self.mails(SEWANIN,
            lambda x: x.header("In-Reply-To") == mid)), 1)
        self.assertEqual(m.header("In-Reply-To"), mid)
        self.assertEqual(m.headers.get_content_type(), "multipart/mixed")
        part = [p for p in m.parts()
            if p.get_filename() == "名簿_%s.csv" % ref][0]
        self.assertEqual(part.get_content_type(), "text/csv")
        self.assertIn(b"filename*=UTF-8''%E5%90%8D%E7%B0%BF_", m.raw)
        data = part.get_payload(decode=True)
        self.assertTrue(data.startswith(b"\xef\xbb\xbf"), data[:10])
        rows = data[3:].decode("utf-8").split("\r\n")
        self.assertEqual(rows[0], "氏名,メールアドレス,回答,同伴者数,"
            "回答日時,キャンセル待ち順位")
        cells = [r.split(",") for r in rows[1:] if r]
        self.assertEqual([c[1] for c in cells], [TARO, JIRO, SABURO,
            HANAKO])
        self.assertEqual(cells[0][:4], ["山田太郎", TARO, "参加", "1"])
        # The name on the member list, before the calendar's CN.
        self.assertEqual(cells[1][:4], ["鈴木次郎", JIRO, "参加", "0"])
        self.assertEqual(cells[2][2], "未定")
        self.assertEqual(cells[3][2], "不参加")
        self.assertRegex(cells[0][4], r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        self.assertEqual([c[5] for c in cells], ["", "", "", ""])
        ctl = self.d.ctl("roster", ref, check=True)
        self.assertEqual(ctl.stdout_bytes, data)

        # A newcomer fills the waitlist again, for the update below.
        self.send(REQUEST, SEWANIN, "", "参加 %s\n" % ref)
        self.wait_text(SEWANIN, "キャンセル待ちとして受け付けました")

        # Update: the place changes; yes, maybe and waitlisted are told
        # with a REQUEST of a higher SEQUENCE; the one who said no is not.
        self.send(EVENTS, SEWANIN, "変更", "イベント: %s\n場所: 世田谷区民会館 "
            "大ホール\n\n会場が広くなりました。\n" % ref)
        r = self.wait_text(SEWANIN, "を変更し")
        self.assertIn("4 名にお知らせしました", r.body_text())
        for who, partstat in ((TARO, "ACCEPTED"), (JIRO, "ACCEPTED"),
                (SABURO, "TENTATIVE"), (SEWANIN, "TENTATIVE")):
            m, cal = self.personal(who, "変更になりました", "REQUEST")
            self.assertEqual(cal.get("SEQUENCE"), "1")
            self.assertEqual(cal.get("UID"), uid)
            self.assertEqual(cal.get("LOCATION"),
                "世田谷区民会館 大ホール")
            self.assertEqual(self.attendee(cal)[0]["PARTSTAT"], partstat)
            self.assertIn("会場が広くなりました", m.body_text())
        self.settle()
        self.assertEqual(len(self.mails(HANAKO,
            lambda x: "変更になりました" in x.body_text())), 0)

        # Cancel: METHOD:CANCEL, SEQUENCE 2, to the same people.
        self.send(EVENTS, SEWANIN, "中止", "イベント: %s\n中止: はい\n" % ref)
        r = self.wait_text(SEWANIN, "を中止とし")
        for who in (TARO, JIRO, SABURO, SEWANIN):
            m, cal = self.personal(who, "中止となりました", "CANCEL")
            self.assertEqual(cal.get("SEQUENCE"), "2")
            self.assertEqual(cal.get("STATUS"), "CANCELLED")
            self.assertEqual(cal.get("UID"), uid)
        self.settle()
        self.assertEqual(len(self.mails(HANAKO,
            lambda x: "中止となりました" in x.body_text())), 0)
        # No answers any more.
        self.send(rsvp, TARO, "Re: 忘年会", "参加\n")
        self.wait_text(TARO, "中止になったか、すでに始まっている")
        self.assertIn("(cancelled)", self.d.ctl("events").stdout)

    def test_capacity_change_promotes_and_deadline(self):
        deadline = datetime.datetime.now(JST) + datetime.timedelta(
            seconds=8)
        ref, _ = self.announce(extra="定員: 1\n締切: %s\n" %
            deadline.strftime("%Y-%m-%d %H:%M:%S"))
        rsvp = self.rsvp_addr(ref)
        self.send(rsvp, TARO, "Re", "yes\n")
        self.personal(TARO, "参加を受け付けました", "REQUEST")
        self.send(rsvp, HANAKO, "Re", "参加 +1\n")
        self.personal(HANAKO, "キャンセル待ち", "REQUEST")
        # More capacity: the waitlist is promoted by the update.
        self.send(EVENTS, SEWANIN, "定員変更", "Event: %s\nCapacity: 5\n" % ref)
        self.wait_text(SEWANIN, "定員を変更し")
        m, cal = self.personal(HANAKO, "参加を確定しました", "REQUEST")
        self.assertIn("ご本人を含め 2 名", m.body_text())
        self.assertEqual(cal.get("SEQUENCE"), "1")
        # Past the deadline answers are refused politely.
        wait_until(lambda: datetime.datetime.now(JST) > deadline +
            datetime.timedelta(seconds=1.5), 15)
        self.send(rsvp, JIRO, "Re", "参加\n")
        m = self.wait_text(JIRO, "を過ぎているため")
        self.assertIn("お受けできませんでした", m.body_text())
        self.assertIsNone(calendar_of(m)[0])
        roster = self.d.ctl("roster", ref, check=True).stdout
        self.assertNotIn(JIRO, roster)

    def test_english_list(self):
        lists = []
        for l in default_lists():
            l = dict(l)
            if l["name"] == "setagaya":
                l["language"] = "en"
            lists.append(l)
        self.d.write_config(dict(self.d.config, lists=tuple(lists)))
        self.d.reload()
        wait_until(lambda: "reloaded" in self.d.log(), 10, what="reload")
        when = (datetime.datetime.now(JST) + datetime.timedelta(
            days=30)).replace(hour=14, minute=0, second=0, microsecond=0)
        self.send(EVENTS, SEWANIN, "Year-end party",
            "Date: %s\nEnd: %s\nPlace: Community Hall\nCapacity: 2\n\n"
            "Bring a dish to share.\n" % (when.strftime("%b %-d %Y %H:00"),
            (when + datetime.timedelta(hours=3)).strftime("%H:00")))
        r = self.wait_text(SEWANIN, "has been announced")
        ref = "E" + EVENT_RE.search(r.body_text()).group(1)
        m = self.announcement(TARO, ref)
        text = m.body_text()
        self.assertIn("invites you to an event", text)
        self.assertIn("Where: Community Hall", text)
        self.assertIn("Places: 2 (2 left)", text)
        self.assertIn(when.strftime("%A %-d %B %Y"), text)
        self.assertIn('"yes +1"', text)
        self.assertIn("Once you answer, you will get a confirmation with "
            "an invitation for your calendar", text)
        self.send(self.rsvp_addr(ref), TARO, "Re: Year-end party",
            "yes +2\n")
        m, cal = self.personal(TARO, "Thank you for your answer", "REQUEST")
        self.assertIn("on the waiting list at number 1", m.body_text())
        self.assertIn("Your answer:", m.decoded_subject())
        self.send(self.rsvp_addr(ref), JIRO, "Re: Year-end party",
            "yes +1\n")
        m, cal = self.personal(JIRO, "Thank you for your answer", "REQUEST")
        self.assertIn("You are registered (party of 2). With your answer, "
            "the event is now full.", m.body_text())
        self.assertIn("Places: 2 (all taken)", m.body_text())
        self.assertNotIn("waiting list", m.body_text())
        self.send(REQUEST, HANAKO, "", "rsvp %s maybe\n" % ref)
        r = self.wait_text(HANAKO, "> rsvp %s maybe" % ref)
        self.assertIn('You are registered as "maybe"', r.body_text())
        self.send(REQUEST, HANAKO, "", "events\n")
        self.wait_text(HANAKO, "Upcoming events (1)")
        self.send(EVENTS, SEWANIN, "x", "Date: 2027-02-30 10:00\n")
        r = self.wait_text(SEWANIN, "could not be read")
        self.assertIn("There is no such date or time.", r.body_text())
        # Two changes read as a list, not "the date, place changed".
        self.send(EVENTS, SEWANIN, "x", "Event: %s\nDate: %s\n"
            "Place: Town Hall\n" % (ref, (when + datetime.timedelta(
            days=1)).strftime("%Y-%m-%d %H:%M")))
        r = self.wait_text(SEWANIN, "has been changed")
        self.assertIn('"Year-end party", has been changed (date, place), '
            "and the 3 people who answered have been told.", r.body_text())
        m = self.wait_text(JIRO, "Some details of")
        self.assertIn("Some details of Year-end party (%s) have changed "
            "(date, place). Here they are as they stand now:" % ref,
            m.body_text())


class Charset(Base):
    """A list with charset = "iso-2022-jp" (older phones) gets its event
    mail in ISO-2022-JP like the rest of the server's mail: the text part
    7bit with the NEC and IBM extensions as Japanese clients write them,
    the Subject and names as ISO-2022-JP words; the calendar stays UTF-8
    (RFC 5545)."""

    TITLE = "第①回 髙橋先生を囲む会"
    PLACE = "髙島屋 ①番会議室"

    def setUp(self):
        lists = [dict(lst) for lst in default_lists()]
        for lst in lists:
            if lst["name"] == "setagaya":
                lst["charset"] = "iso-2022-jp"
        Base.setUp(self, {"lists": tuple(lists)})

    def jis_text(self, m):
        """The text/plain part, checked to be ISO-2022-JP in 7bit, as
        text."""
        parts = [p for p in m.parts() if p.get_content_type() == "text/plain"]
        self.assertEqual(len(parts), 1, m.raw[:2000])
        part = parts[0]
        self.assertEqual(part.get_content_charset(), "iso-2022-jp")
        self.assertEqual(part["Content-Transfer-Encoding"], "7bit")
        body = part.get_payload(decode=True)
        self.assertTrue(all(b < 0x80 for b in body), "8-bit octets")
        return cp50220_decode(body)

    def jis_words(self, m, field):
        raw = m.headers[field]
        self.assertIn("=?ISO-2022-JP?B?", raw)
        self.assertNotIn("UTF-8", raw.upper())
        for w in re.findall(r"=\?[^?]+\?[BQ]\?[^?]*\?=", raw):
            self.assertLessEqual(len(w), 75)

    def test_announcement_and_confirmation_in_iso_2022_jp(self):
        when = (datetime.datetime.now(JST) + datetime.timedelta(
            days=20)).replace(hour=14, minute=0, second=0, microsecond=0)
        self.send(EVENTS, SEWANIN, self.TITLE, "日時: %s\n場所: %s\n"
            "定員: 先着30名\n\n①から順にご案内します。\n" % (jst(when),
            self.PLACE))
        reply = self.wait_text(SEWANIN, "を登録し")
        ref = "E" + EVENT_RE.search(reply.body_text()).group(1)

        m = self.announcement(TARO, ref)
        self.assertTrue(all(b < 0x80 for b in m.raw), "8-bit octets")
        text = self.jis_text(m)
        for needle in (self.TITLE, "場所: " + self.PLACE,
                "定員: 30名（残り 30 席）", "①から順にご案内します",
                self.rsvp_addr(ref)):
            self.assertIn(needle, text)
        self.jis_words(m, "Subject")
        self.assertEqual(m.decoded_subject(), "[世田谷] 【ご案内】%s（%s）"
            % (self.TITLE, "%d/%d(%s)" % (when.month, when.day,
            WEEKDAYS[when.weekday()])))
        self.jis_words(m, "From")
        self.assertEqual(m.header("From"), "世田谷パートナーズの会 <%s>"
            % self.rsvp_addr(ref))
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, m.header("List-Id"))
        cal, method = calendar_of(m)
        self.assertEqual(method, "PUBLISH")
        self.assertEqual(cal.get("SUMMARY"), self.TITLE)
        self.assertEqual(cal.get("LOCATION"), self.PLACE)
        part = [p for p in m.parts()
            if p.get_content_type() == "text/calendar"][0]
        self.assertEqual(part.get_content_charset(), "utf-8")

        # The personal confirmation: the same, and the person's name.
        self.send(self.rsvp_addr(ref), TARO, "Re", "参加\n")
        m, cal = self.personal(TARO, "参加を受け付けました", "REQUEST")
        text = self.jis_text(m)
        self.assertIn("山田太郎 様", text)
        self.assertIn(self.TITLE, text)
        self.jis_words(m, "Subject")
        self.assertIn(self.TITLE, m.decoded_subject())
        self.jis_words(m, "To")
        self.assertEqual(m.header("To"), "山田太郎 <%s>" % TARO)
        self.assertEqual(cal.get("SUMMARY"), self.TITLE)

        # The reply with the roster: its text too; the CSV stays UTF-8
        # with a BOM.
        self.send(REQUEST, SEWANIN, "", "名簿 %s\n" % ref)
        m = self.wait_mails(SEWANIN, 1, lambda x: any(
            p.get_filename() == "名簿_%s.csv" % ref for p in x.parts()))[-1]
        self.assertIn("名簿_%s.csv）で添付しました" % ref, self.jis_text(m))
        csv = [p for p in m.parts()
            if p.get_filename() == "名簿_%s.csv" % ref][0]
        self.assertTrue(csv.get_payload(decode=True).startswith(
            b"\xef\xbb\xbf"))

    def test_other_lists_stay_utf8(self):
        # A region event is the region list's mail: UTF-8, even to a
        # member of the ISO-2022-JP chapter list.
        self.send("tokyo-events@" + LIST_DOMAIN, SEWANIN, self.TITLE,
            "日時: %s\n" % jst(datetime.datetime.now(JST) +
            datetime.timedelta(days=20)))
        self.wait_text(SEWANIN, "を登録し")
        m = self.wait_mails(MEGURO, 1, lambda x: x.header("List-Id"))[-1]
        part = [p for p in m.parts()
            if p.get_content_type() == "text/plain"][0]
        self.assertEqual(part.get_content_charset(), "utf-8")
        self.assertIn(self.TITLE, m.body_text())


class Reminders(Base):
    """Reminders from the daemon's own scheduler, with a lead of seconds
    so that the test runs in seconds."""

    def setUp(self):
        Base.setUp(self, {"reminders": ["8s", "1d"]})

    def test_reminder_once_across_restart(self):
        start = datetime.datetime.now(JST) + datetime.timedelta(seconds=20)
        self.send(EVENTS, SEWANIN, "朝の清掃活動",
            "日時: %s\n場所: 駅前広場\n" % start.strftime(
            "%Y-%m-%d %H:%M:%S"))
        r = self.wait_text(SEWANIN, "を登録し")
        ref = "E" + EVENT_RE.search(r.body_text()).group(1)
        rsvp = self.rsvp_addr(ref)
        self.send(rsvp, TARO, "Re", "参加 +1\n")
        self.send(rsvp, HANAKO, "Re", "不参加\n")
        self.send(rsvp, JIRO, "Re", "未定\n")
        self.personal(TARO, "参加を受け付けました")
        self.personal(JIRO, "未定")
        m = self.wait_text(TARO, "近づいて", timeout=30)
        self.assertIn("リマインダー", m.decoded_subject())
        self.assertIn("ご本人を含め 2 名", m.body_text())
        self.assertIn("駅前広場", m.body_text())
        # Only those attending; once, even across a restart.
        self.d.stop()
        self.d.restart()
        time.sleep(4)
        reminders = [x for x in self.sink.messages()
            if "近づいて" in x.body_text()]
        self.assertEqual([x.rcpts for x in reminders], [[TARO]])
        self.assertIn("reminder (8 s before) to 1 attending", self.d.log())


class Config(unittest.TestCase):

    def test_check_reports_bad_reminders_and_timezone(self):
        d = Daemon(25, config={"reminders": ["24h", "soon"],
            "timezone": "Asia/Atlantis"}, start=False)
        self.addCleanup(d.close)
        r = d.ctl("check")
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"mlserver\.conf:\d+: .*reminders")
        self.assertRegex(r.stderr, r"mlserver\.conf:\d+: unknown timezone")


if __name__ == "__main__":
    unittest.main(verbosity=2)
