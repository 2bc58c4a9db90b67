#!/usr/bin/python3
"""test_proposals - proposals by mail alone, over LMTP and smtp-sink.

A member of a chapter mails a proposal; a moderator approves it by
replying; the chapter discusses it (comments by mail, support by
command); the region forwards it with the other chapters' proposals to
the institution in one summary; a moderator records the answer; the
proposer, the supporters and the list are told.  Everything is checked
as the people involved would see it: the mails that arrive, decoded,
in Japanese.
"""

import collections
import datetime
import json
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    default_lists, make_message, wait_until)

YAMADA = "yamada@" + MEMBER_DOMAIN      # setagaya member, the proposer
HANAKO = "hanako@" + MEMBER_DOMAIN      # setagaya member
TARO = "taro@" + MEMBER_DOMAIN          # meguro member
STRANGER = "stranger@example.net"       # on no list
SEWANIN = "sewanin@" + MEMBER_DOMAIN    # moderates setagaya and tokyo
MEGURO_MOD = "meguro-mod@" + MEMBER_DOMAIN
OFFICE = "soshibu@office.example.jp"    # tokyo's forward_to

REF_RE = re.compile(r"P-\d{4}-\d{4}")
TITLE = "区民会館の夜間利用について"
BODY = ("テーマ: 施設\n"
    "区民会館の会議室を、平日は21時まで使えるようにしてください。\n"
    "仕事帰りに集まれる場所が足りません。\n")
TITLE2 = "公園にベンチを増やしてください"
BODY2 = "目黒川沿いの公園に、お年寄りが休めるベンチを増やしてほしいです。\n"


def lists_config():
    out = []
    for l in default_lists():
        l = dict(l)
        if l["name"] == "meguro":
            l["moderators"] = [MEGURO_MOD]
        if l["name"] == "tokyo":
            l["forward_to"] = [OFFICE]
        out.append(l)
    return tuple(out)


def tokyo_now():
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(
        hours=9)))


class ProposalCase(unittest.TestCase):

    config = {}

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        cfg = {"lists": lists_config(), "reply_limit": 100,
            "proposal_schedule": []}
        cfg.update(self.config)
        self.d = Daemon(self.sink.port, config=cfg)
        self.addCleanup(self.d.close)
        for lst, addr, name in (("setagaya", YAMADA, "山田太郎"),
                ("setagaya", HANAKO, "佐藤花子"),
                ("meguro", TARO, "鈴木太郎")):
            self.d.ctl("add", lst, addr, name, check=True)

    def fail_with_logs(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def send(self, rcpt, sender, subject, body, charset="utf-8",
             extra=None):
        msg = make_message(sender, rcpt, subject, body, charset=charset,
            extra_headers=extra or {})
        addr = re.sub(r".*<|>.*", "", sender)
        replies = self.d.lmtp_send([rcpt], msg, sender=addr)
        self.assertEqual(replies[rcpt][0], 250, replies)

    def mails_to(self, addr, n=1, timeout=20, where=None):
        """The first n mails to addr (matching where); waits for them."""
        def pick(ms):
            return [m for m in ms if addr in m.rcpts
                and (where is None or where(m))]
        try:
            ms = self.sink.wait_for(lambda ms: len(pick(ms)) >= n,
                timeout=timeout)
        except TimeoutError:
            self.fail_with_logs("expected %d mails to %s; got %r" % (
                n, addr, pick(self.sink.messages())))
        return pick(ms)

    def text_to(self, addr, needle, timeout=20):
        """The first mail to addr whose subject or text has needle."""
        return self.mails_to(addr, 1, timeout, lambda m: needle in
            (m.decoded_subject() or "") + m.body_text())[0]

    def reply_text(self, addr, needle, timeout=20):
        return self.text_to(addr, needle, timeout).body_text()

    def submit(self, sender=YAMADA, title=TITLE, body=BODY, lst="setagaya",
               charset="iso-2022-jp"):
        """Submit a proposal; return its reference from the reply."""
        self.send("%s-propose@%s" % (lst, LIST_DOMAIN), sender, title,
            body, charset=charset)
        r = self.mails_to(sender, 1, where=lambda m: "受け付けました" in
            (m.decoded_subject() or "") and title in m.body_text())[0]
        m = REF_RE.search(r.decoded_subject() + r.body_text())
        self.assertIsNotNone(m, r.body_text())
        return m.group(0)

    def approval_request(self, moderator, ref):
        return self.text_to(moderator, "承認のお願い（%s）" % ref)

    def approve_by_reply(self, moderator, ref):
        req = self.approval_request(moderator, ref)
        reply_to = req.header("Reply-To")
        self.assertRegex(reply_to, r"-confirm\+[a-z2-7]{26}@")
        self.send(re.sub(r".*<|>.*", "", reply_to), moderator,
            "Re: " + req.decoded_subject(), "承認します。\n")
        self.text_to(moderator, "を承認し")

    def ctl_json(self, *args):
        r = self.d.ctl("--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def proposals(self, *args):
        return {p["ref"]: p for p in self.ctl_json("proposals", *args)}

    def state_of(self, ref):
        return self.proposals()[ref]["state"]


class Cycle(ProposalCase):
    """From submission to a recorded, announced answer, by mail alone."""

    def test_submit_to_answer(self):
        # Submit: ISO-2022-JP, as a Japanese client sends it.
        ref = self.submit()
        self.assertRegex(ref, r"^P-%d-0001$" % tokyo_now().year)
        ack = self.text_to(YAMADA, "受け付けました")
        self.assertIn("auto-replied", ack.header("Auto-Submitted"))
        self.assertIn(TITLE, ack.body_text())
        self.assertIn("テーマ: 施設", ack.body_text())
        self.assertEqual(self.state_of(ref), "submitted")

        # The moderator is asked, with two token addresses.
        req = self.approval_request(SEWANIN, ref)
        text = req.body_text()
        self.assertIn("区民会館の会議室を、平日は21時まで", text)
        self.assertIn(YAMADA, text)
        self.assertIn("approve " + ref, text)
        self.assertEqual(len(set(re.findall(
            r"setagaya-confirm\+[a-z2-7]{26}@", text))), 2)
        # Nobody else hears of it before approval.
        self.assertEqual([m for m in self.sink.messages()
            if HANAKO in m.rcpts], [])
        self.send("setagaya-request@" + LIST_DOMAIN, HANAKO, "",
            "proposal %s\n" % ref)
        self.assertIn("見つかりませんでした",
            self.reply_text(HANAKO, "処理結果"))

        # Approve by replying to the request.
        self.approve_by_reply(SEWANIN, ref)
        self.assertEqual(self.state_of(ref), "open")
        opened = self.text_to(YAMADA, "承認されました")
        self.assertIn("setagaya-proposal+%s@" % ref, opened.body_text())
        ann = self.text_to(HANAKO, "【提案 %s】" % ref)
        self.assertEqual(ann.decoded_subject(),
            "[世田谷] 【提案 %s】%s" % (ref, TITLE))
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, ann.header("List-Id"))
        self.assertEqual(ann.header("Precedence"), "list")
        comment_addr = "setagaya-proposal+%s@%s" % (ref, LIST_DOMAIN)
        self.assertIn(comment_addr, ann.header("Reply-To"))
        self.assertIn("support " + ref, ann.body_text())
        self.assertIn("仕事帰りに集まれる場所が足りません。", ann.body_text())
        self.assertIn(YAMADA, ann.rcpts)

        # Comments: kept in order, sent to the list without the quote.
        self.send(comment_addr, "佐藤花子 <%s>" % HANAKO,
            "Re: " + ann.decoded_subject(),
            "賛成です。土曜の夜も使えると助かります。\n\n"
            "2026年11月22日 山田 wrote:\n> 区民会館の会議室を\n",
            charset="iso-2022-jp")
        c1 = self.text_to(YAMADA, "土曜の夜も")
        self.assertIn("佐藤花子", c1.body_text())
        self.assertNotIn("> 区民会館", c1.body_text())
        self.assertIn(comment_addr, c1.header("Reply-To"))
        self.assertEqual(c1.header("In-Reply-To"),
            ann.header("Message-ID"))
        self.send(comment_addr, "山田太郎 <%s>" % YAMADA, "Re: 提案",
            "補足します。利用料は今のままで構いません。\n")
        self.text_to(HANAKO, "利用料は今のままで")

        # Support: once per member, never one's own.
        req = "setagaya-request@" + LIST_DOMAIN
        self.send(req, HANAKO, "", "support %s\n" % ref)
        self.assertIn("賛同を登録しました（賛同者 1 名）",
            self.reply_text(HANAKO, "賛同を登録"))
        self.send(req, HANAKO, "", "support %s\n" % ref.lower())
        self.assertIn("すでに賛同いただいています",
            self.reply_text(HANAKO, "すでに賛同"))
        self.send(req, YAMADA, "", "support %s\n" % ref)
        self.assertIn("ご自身の提案", self.reply_text(YAMADA, "ご自身の提案"))

        # A second chapter's proposal, approved by command.
        ref2 = self.submit(TARO, TITLE2, BODY2, "meguro", "utf-8")
        self.approval_request(MEGURO_MOD, ref2)
        self.send("meguro-request@" + LIST_DOMAIN, MEGURO_MOD, "",
            "approve %s\n" % ref2)
        self.assertIn("を承認し", self.reply_text(MEGURO_MOD, "処理結果"))
        self.text_to(TARO, "【提案 %s】" % ref2)

        # Forward: the region compiles its chapters' proposals.
        self.sink.clear()
        r = self.d.ctl("forward", "tokyo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tokyo: 2 proposals forwarded", r.stdout)
        summary = self.text_to(OFFICE, "提案の取りまとめ")
        self.assertEqual(summary.rcpts, [OFFICE])
        self.assertIn("auto-generated", summary.header("Auto-Submitted"))
        self.assertIn("tokyo-owner@" + LIST_DOMAIN,
            summary.header("Reply-To"))
        s = summary.body_text()
        for needle in (ref, TITLE, "世田谷パートナーズの会", "テーマ: 施設",
                "平日は21時まで", "賛同者: 1 名", "コメント（2 件）",
                "佐藤花子", "土曜の夜も使える", "利用料は今のままで",
                ref2, TITLE2, "目黒パートナーズの会", "お年寄りが休める",
                "賛同者: 0 名",
                datetime.date.today().strftime("%Y-%m")):
            self.assertIn(needle, s)
        # Every comment, in the order it came.
        self.assertLess(s.index("土曜の夜も"), s.index("利用料は"))
        self.assertLess(s.index(ref), s.index(ref2))
        self.assertNotIn(YAMADA, s)   # addresses stay private
        # The list gets it too: the region's audience.
        copy = self.text_to(TARO, "提案の取りまとめ")
        self.assertIn(ref, copy.body_text())
        self.assertIn("<tokyo.%s>" % LIST_DOMAIN, copy.header("List-Id"))
        self.assertIn(HANAKO, copy.rcpts)
        self.assertEqual(self.state_of(ref), "forwarded")
        self.assertEqual(self.state_of(ref2), "forwarded")
        mine = self.text_to(YAMADA, "ご提案を提出先へ送付しました")
        self.assertIn("送付先: " + OFFICE, mine.body_text())
        self.assertIn(ref, mine.decoded_subject())
        self.text_to(TARO, "ご提案を提出先へ送付しました")
        # Forwarding again sends nothing: nothing is open.
        r = self.d.ctl("forward")
        self.assertIn("tokyo: no open proposals", r.stdout)

        # Comments still come while the institution considers it.
        self.send(comment_addr, HANAKO, "Re", "回答を待っています。\n")
        self.text_to(YAMADA, "回答を待っています")

        # Answer: a member may not; a moderator records it.
        self.send(req, HANAKO, "", "answer %s answered\n実施します\n" % ref)
        self.assertIn("モデレーターの方だけ",
            self.reply_text(HANAKO, "モデレーターの方だけ"))
        self.sink.clear()
        self.send("tokyo-request@" + LIST_DOMAIN, SEWANIN, "区からの回答",
            "answer %s answered\n"
            "区民会館の夜間利用は、来年4月から平日21時まで試行します。\n"
            "土曜日については引き続き検討します。\n"
            "以上\n"
            "support %s\n" % (ref, ref), charset="iso-2022-jp")
        done = self.reply_text(SEWANIN, "提出先からの連絡")
        self.assertIn("賛同者 1 名", done)
        self.assertNotIn("support", done)   # the answer ends the commands
        mine = self.text_to(YAMADA, "ご提案への回答")
        self.assertIn("回答済み", mine.decoded_subject())
        self.assertIn("来年4月から平日21時まで試行します", mine.body_text())
        self.assertNotIn("以上", mine.body_text())
        told = self.text_to(HANAKO, "回答済み")
        self.assertIn("土曜日については引き続き検討します", told.body_text())
        self.assertIn("<setagaya.%s>" % LIST_DOMAIN, told.header("List-Id"))
        self.assertEqual(self.state_of(ref), "answered")
        # Comments are closed now.
        self.send(comment_addr, HANAKO, "Re", "ありがとうございました。\n")
        self.assertIn("受け付けを終了",
            self.reply_text(HANAKO, "コメントをお受けできません"))

        # in_progress notes, then the answer, on the other proposal.
        self.send("meguro-request@" + LIST_DOMAIN, SEWANIN, "",
            "answer %s in_progress\n予算を要求中です。\n" % ref2)
        self.assertIn("対応中", self.text_to(TARO, "ご提案への回答")
            .decoded_subject())
        self.assertEqual(self.state_of(ref2), "forwarded")

        # The whole record, for anyone.
        self.send(req, STRANGER, "", "proposal %s\n" % ref)
        rec = self.reply_text(STRANGER, "処理結果")
        for needle in (TITLE, "状況: 回答済み", "賛同者: 1 名", "平日は21時まで",
                "提出", "承認・公開", "提出先へ送付", "提出先から回答",
                "来年4月から", "コメント（3 件）", "土曜の夜も",
                "回答を待っています"):
            self.assertIn(needle, rec)
        self.assertLess(rec.index("承認・公開"), rec.index("提出先へ送付"))
        # And the list of the scope.
        self.send("tokyo-request@" + LIST_DOMAIN, STRANGER, "", "提案一覧\n")
        lst = self.reply_text(STRANGER, "提案（2 件")
        self.assertIn("%s［回答済み］%s" % (ref, TITLE), lst)
        self.assertIn("%s［提出先へ送付済み］%s" % (ref2, TITLE2), lst)

        js = self.proposals("setagaya")
        self.assertEqual(list(js), [ref])
        self.assertEqual(js[ref]["supporters"], 1)
        self.assertEqual(js[ref]["comments"], 3)
        self.assertEqual(js[ref]["forwarded_by"], "tokyo")
        self.assertEqual(list(self.proposals("tokyo", "--state",
            "forwarded")), [ref2])
        r = self.d.ctl("proposals")
        self.assertIn("%s  setagaya" % ref, r.stdout)


class Refusals(ProposalCase):

    def test_non_member_cannot_propose(self):
        self.send("setagaya-propose@" + LIST_DOMAIN, STRANGER, TITLE, BODY)
        r = self.text_to(STRANGER, "お受けできませんでした")
        text = r.body_text()
        self.assertIn("setagaya-join@" + LIST_DOMAIN, text)
        self.assertIn("メンバーとして登録されていない", text)
        self.assertEqual(self.proposals(), {})
        self.assertEqual([m for m in self.sink.messages()
            if SEWANIN in m.rcpts], [])

    def test_empty_title_and_text(self):
        self.send("setagaya-propose@" + LIST_DOMAIN, YAMADA, "", BODY)
        self.text_to(YAMADA, "件名が空")
        self.send("setagaya-propose@" + LIST_DOMAIN, YAMADA, TITLE,
            "テーマ: 施設\n\n-- \n山田\n")
        self.text_to(YAMADA, "本文が空")
        self.assertEqual(self.proposals(), {})

    def test_who_may_do_what(self):
        ref = self.submit()
        req = "setagaya-request@" + LIST_DOMAIN
        # A member approves: refused, still submitted.
        self.send(req, HANAKO, "", "approve %s\n" % ref)
        self.assertIn("モデレーターの方だけ",
            self.reply_text(HANAKO, "処理結果"))
        self.assertEqual(self.state_of(ref), "submitted")
        # Someone else withdraws: refused.
        self.send(req, HANAKO, "", "withdraw %s\n" % ref)
        self.assertIn("提案者ご本人だけ",
            self.reply_text(HANAKO, "提案者ご本人だけ"))
        self.assertEqual(self.state_of(ref), "submitted")
        # A non-member supports an open proposal: refused.
        self.approve_by_reply(SEWANIN, ref)
        self.send(req, STRANGER, "", "support %s\n" % ref)
        self.assertIn("メンバーの方だけ",
            self.reply_text(STRANGER, "メンバーの方だけ"))
        self.assertEqual(self.proposals()[ref]["supporters"], 0)
        # The proposer withdraws: done, and no more comments.
        self.send(req, YAMADA, "", "withdraw %s\n" % ref)
        self.assertIn("取り下げました", self.reply_text(YAMADA, "取り下げ"))
        self.assertEqual(self.state_of(ref), "withdrawn")
        self.send(req, SEWANIN, "", "approve %s\n" % ref)
        self.assertIn("「取り下げ」のため",
            self.reply_text(SEWANIN, "「取り下げ」のため"))
        # A forwarded proposal cannot be withdrawn any more.
        ref2 = self.submit(title=TITLE2, body=BODY2)
        self.send(req, SEWANIN, "", "approve %s\n" % ref2)
        self.text_to(HANAKO, "【提案 %s】" % ref2)
        self.d.ctl("forward", check=True)
        wait_until(lambda: self.state_of(ref2) == "forwarded", 10)
        self.send(req, YAMADA, "", "withdraw %s\n" % ref2)
        self.assertIn("「提出先へ送付済み」のため",
            self.reply_text(YAMADA, "「提出先へ送付済み」のため"))
        # An answer without its text: told how.
        self.send(req, SEWANIN, "answer %s answered" % ref2, "")
        self.assertIn("回答の本文", self.reply_text(SEWANIN, "回答の本文"))
        self.assertEqual(self.state_of(ref2), "forwarded")

    def test_reject_with_reason_and_tokens(self):
        ref = self.submit()
        req = self.approval_request(SEWANIN, ref)
        reject = [a for a in re.findall(
            r"setagaya-confirm\+[a-z2-7]{26}@[\w.]+", req.body_text())
            if a not in req.header("Reply-To")][0]
        # A token works only for the moderator it was sent to.
        self.send(reject, HANAKO, "Re", "却下\n")
        self.assertIn("確認コードが無効", self.reply_text(HANAKO, "処理結果"))
        self.assertEqual(self.state_of(ref), "submitted")
        self.send(reject, SEWANIN, "Re: " + req.decoded_subject(),
            "営利目的の内容のため、承認を見送ります。\n\n> 元のメール\n")
        self.reply_text(SEWANIN, "承認しないことにし")
        told = self.text_to(YAMADA, "承認されませんでした")
        self.assertIn("理由: 営利目的の内容のため、承認を見送ります。",
            told.body_text())
        self.assertEqual(self.state_of(ref), "rejected")
        # The approve token, used after, finds it decided.
        approve = re.sub(r".*<|>.*", "", req.header("Reply-To"))
        self.send(approve, SEWANIN, "Re", "")
        self.assertIn("「不採用」のため",
            self.reply_text(SEWANIN, "「不採用」のため"))

    def test_comment_policy(self):
        ref = self.submit()
        self.approve_by_reply(SEWANIN, ref)
        addr = "setagaya-proposal+%s@%s" % (ref, LIST_DOMAIN)
        # setagaya is members-only: a stranger's comment is held.
        self.send(addr, STRANGER, "Re", "宣伝です。\n")
        self.text_to(STRANGER, "お預かりしました")
        held = self.text_to(SEWANIN, "コメントの承認のお願い")
        self.assertIn("宣伝です。", held.body_text())
        self.assertEqual(self.proposals()[ref]["comments"], 0)
        # Approved by replying: it reaches the list.
        self.send(re.sub(r".*<|>.*", "", held.header("Reply-To")), SEWANIN,
            "Re", "")
        self.text_to(HANAKO, "宣伝です。")
        self.assertEqual(self.proposals()[ref]["comments"], 1)
        # A comment on another list's address, or an unknown reference.
        self.send("meguro-proposal+%s@%s" % (ref, LIST_DOMAIN), TARO, "Re",
            "目黒からです。\n")
        self.text_to(TARO, "見つかりません")
        self.send("setagaya-proposal+P-2020-0009@" + LIST_DOMAIN, HANAKO,
            "Re", "どれ？\n")
        self.text_to(HANAKO, "見つかりません")
        # Automatic mail to the comment address is not a comment.
        self.send(addr, HANAKO, "不在", "不在にしています。\n",
            extra={"Auto-Submitted": "auto-replied"})
        self.send(addr, HANAKO, "Re", "> 引用だけ\n")
        self.text_to(HANAKO, "本文が空")
        self.assertEqual(self.proposals()[ref]["comments"], 1)


class Schedule(ProposalCase):
    """The scheduled forward: once per period, across restarts."""

    config = {"proposal_schedule": None}   # the default: quarterly

    def forwards(self):
        with self.d.db() as db:
            return db.execute("SELECT list, period, count FROM "
                "proposal_periods ORDER BY ts").fetchall()

    def schedule_log_lines(self):
        return self.d.log().count("proposals: forwarding period")

    def test_once_per_period_across_restart(self):
        # The default schedule: this quarter's period is recorded at
        # start, with nothing to forward.
        wait_until(lambda: self.schedule_log_lines() >= 1, 10,
            what="the first schedule tick")
        now = tokyo_now()
        quarter = "%d-%02d-01 09:00" % (now.year, (now.month - 1) // 3 * 3
            + 1)
        if now.strftime("%m-%d %H:%M") < quarter[5:]:
            quarter = None   # the first hours of a quarter: skip
        rows = wait_until(self.forwards, 10, what="a period row")
        if quarter:
            self.assertEqual(rows, [("tokyo", quarter, 0)])
        ref = self.submit()
        self.send("setagaya-request@" + LIST_DOMAIN, SEWANIN, "",
            "approve %s\n" % ref)
        self.text_to(HANAKO, "【提案 %s】" % ref)
        self.assertEqual(self.state_of(ref), "open")

        # A schedule whose latest point is this very minute: a new
        # period has begun, so the restarted daemon forwards at once.
        point = now.strftime("*-%d %H:%M")
        period = now.strftime("%Y-%m-%d %H:%M")
        self.d.stop()
        self.d.write_config(dict(self.d.config, proposal_schedule=[point]))
        self.d.restart()
        summary = self.text_to(OFFICE, "提案の取りまとめ", timeout=20)
        self.assertIn(ref, summary.body_text())
        self.assertEqual(self.state_of(ref), "forwarded")
        self.assertIn(("tokyo", period, 1), self.forwards())

        # A new proposal in the same period; restart: not forwarded.
        ref2 = self.submit(title=TITLE2, body=BODY2)
        self.send("setagaya-request@" + LIST_DOMAIN, SEWANIN, "",
            "approve %s\n" % ref2)
        self.text_to(HANAKO, "【提案 %s】" % ref2)
        before = self.schedule_log_lines()
        self.d.stop()
        self.d.restart()
        wait_until(lambda: self.schedule_log_lines() > before, 10,
            what="the schedule tick after the restart")
        time.sleep(2)
        self.assertEqual(len([m for m in self.sink.messages()
            if OFFICE in m.rcpts]), 1)
        self.assertEqual(self.state_of(ref2), "open")
        self.assertEqual([r for r in self.forwards() if r[1] == period],
            [("tokyo", period, 1)])
        # mlserverctl forward is outside the schedule: it sends now.
        r = self.d.ctl("forward", "tokyo")
        self.assertIn("1 proposal forwarded", r.stdout)
        second = self.mails_to(OFFICE, 1, where=lambda m:
            ref2 in m.body_text())[0]
        self.assertNotIn(ref, second.body_text())
        self.assertEqual(self.state_of(ref2), "forwarded")


class Reminder(ProposalCase):
    """Forwarded and unanswered after N days: the institution is
    reminded (here N is a few seconds)."""

    config = {"proposal_reminder_days": 3.0 / 86400}

    def test_unanswered_reminder(self):
        ref = self.submit()
        self.send("setagaya-request@" + LIST_DOMAIN, SEWANIN, "",
            "approve %s\n" % ref)
        self.text_to(HANAKO, "【提案 %s】" % ref)
        t0 = time.monotonic()
        self.d.ctl("forward", check=True)
        self.text_to(OFFICE, "提案の取りまとめ")
        rem = self.text_to(OFFICE, "ご回答のお願い", timeout=20)
        self.assertGreaterEqual(time.monotonic() - t0, 2.5)
        self.assertIn(ref, rem.body_text())
        self.assertIn(TITLE, rem.body_text())
        self.assertIn("世田谷パートナーズの会", rem.body_text())
        self.assertIn("auto-generated", rem.header("Auto-Submitted"))
        # Answered: no more reminders.
        self.send("tokyo-request@" + LIST_DOMAIN, SEWANIN, "",
            "answer %s rejected\n予算の都合により実施しません。\n" % ref)
        self.text_to(YAMADA, "ご提案への回答")
        time.sleep(1)
        n = len(self.mails_to(OFFICE, 1, where=lambda m:
            "ご回答のお願い" in m.decoded_subject()))
        time.sleep(5)
        self.assertEqual(len([m for m in self.sink.messages()
            if "ご回答のお願い" in (m.decoded_subject() or "")]), n)
        self.assertEqual(self.state_of(ref), "rejected")


class Config(unittest.TestCase):

    def test_check_reports_mistakes(self):
        with Sink() as sink:
            d = Daemon(sink.port, config={"proposal_schedule":
                ["04-01 09:00", "04-31 09:00"],
                "proposal_reminder_days": "90"}, start=False)
            try:
                r = d.ctl("check")
                self.assertNotEqual(r.returncode, 0)
                self.assertRegex(r.stderr, r"mlserver\.conf:\d+: "
                    r"\"proposal_schedule\": \"04-31 09:00\"")
                self.assertRegex(r.stderr, r"mlserver\.conf:\d+: "
                    r"\"proposal_reminder_days\" must be a number")
            finally:
                d.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
