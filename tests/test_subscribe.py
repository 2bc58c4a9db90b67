#!/usr/bin/python3
"""test_subscribe - command mail over LMTP, answered through smtp-sink.

The daemon runs for real with a real SQLite file; commands arrive over
LMTP as real (Japanese) messages; replies are read from smtp-sink's dump.
Checked as a member would: the reply arrives, says the right thing in the
list's language, a reply to it confirms, and the member list changes.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    confirm_address, make_message, wait_until)

REQ = "setagaya-request@" + LIST_DOMAIN
YAMADA = "yamada@" + MEMBER_DOMAIN
MOD = "sewanin@" + MEMBER_DOMAIN


class Subscribe(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)
        self.d = Daemon(self.sink.port, config={"reply_limit": 5})
        self.addCleanup(self.d.close)

    def fail_with_logs(self, msg):
        self.fail("%s\n--- daemon log ---\n%s" % (msg, self.d.log()))

    def send(self, rcpt, sender, subject, body, charset="utf-8", extra=None,
             env_sender=None):
        msg = make_message(sender, rcpt, subject, body, charset=charset,
            extra_headers=extra or {})
        replies = self.d.lmtp_send([rcpt], msg,
            sender=sender if env_sender is None else env_sender)
        self.assertEqual(replies[rcpt][0], 250, replies)

    def replies_to(self, addr, n, timeout=20):
        try:
            self.sink.wait_for(lambda ms: len([m for m in ms
                if addr in m.rcpts]) >= n, timeout=timeout)
        except Exception:
            self.fail_with_logs("expected %d replies to %s" % (n, addr))
        return [m for m in self.sink.messages() if addr in m.rcpts]

    def members(self):
        r = self.d.ctl("members", "setagaya")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_subscribe_confirm_unsubscribe(self):
        # A Japanese client: ISO-2022-JP body, the command in Japanese.
        self.send(REQ, YAMADA, "", "登録 山田太郎\n", charset="iso-2022-jp")
        first = self.replies_to(YAMADA, 1)[0]
        self.assertIn("auto-replied", first.header("Auto-Submitted"))
        self.assertIn("処理結果", first.decoded_subject())
        text = first.body_text()
        self.assertIn("登録のお申し込みを受け付けました", text)
        self.assertIn("> 登録 山田太郎", text)
        confirm = confirm_address(first, "setagaya")
        self.assertTrue(confirm.startswith("setagaya-confirm+"), confirm)
        self.assertIn(confirm, first.header("Reply-To"))
        self.assertNotIn(YAMADA, self.members())

        # Replying to it (any body) confirms.
        self.send(confirm, YAMADA, "Re: " + first.decoded_subject(),
            "> 登録のお申し込みを受け付けました\n")
        welcome = self.replies_to(YAMADA, 2)[1]
        self.assertIn("登録が完了しました", welcome.body_text())
        wait_until(lambda: YAMADA in self.members(), 10, what="member")
        self.assertIn("山田太郎", self.members())

        # The token is single use.
        self.send(confirm, YAMADA, "", "")
        again = self.replies_to(YAMADA, 3)[2]
        self.assertIn("確認コードが無効です", again.body_text())

        # Leaving: LIST-leave, then confirm with the command line.
        self.send("setagaya-leave@" + LIST_DOMAIN, YAMADA, "", "")
        leave = self.replies_to(YAMADA, 4)[3]
        self.assertIn("退会のお申し込み", leave.body_text())
        token = confirm_address(leave, "setagaya").split("+")[1].split("@")[0]
        self.send(REQ, YAMADA, "", "confirm %s\n" % token)
        done = self.replies_to(YAMADA, 5)[4]
        self.assertIn("退会の手続きが完了しました", done.body_text())
        self.assertNotIn(YAMADA, self.members())

    def test_one_failure_does_not_hold_back_its_batch(self):
        """Messages found in new/ together are handled in one
        transaction, each in a savepoint: one whose handling fails (a
        trigger refuses its token) is rolled back alone and kept, the
        others are answered; after a restart it is handled, alone."""
        import sqlite3
        self.d.stop()
        db = sqlite3.connect(self.d.db_path)
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON tokens "
            "WHEN NEW.addr = 'bad@%s' BEGIN SELECT RAISE(ABORT, "
            "'refused by the test'); END" % MEMBER_DOMAIN)
        db.commit()
        people = ["p%d@%s" % (i, MEMBER_DOMAIN) for i in range(3)]
        bad = "bad@" + MEMBER_DOMAIN
        for who in people[:2] + [bad] + people[2:]:
            r = self.d.receive(REQ, make_message(who, REQ, "", "登録\n"),
                sender=who)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.d.start()
        for who in people:
            self.replies_to(who, 1)
        log = self.d.log()
        self.assertIn("processing for <%s> failed; will retry" % REQ, log)
        self.assertEqual(len(os.listdir(os.path.join(self.d.dir, "spool",
            "new"))), 1)
        self.assertNotIn(bad, [r for m in self.sink.messages()
            for r in m.rcpts])
        db.execute("DROP TRIGGER refuse")
        db.commit()
        db.close()
        self.d.stop()
        self.d.restart()
        self.replies_to(bad, 1)
        for who in people:
            self.assertEqual(len(self.replies_to(who, 1)), 1)
        self.assertEqual(os.listdir(os.path.join(self.d.dir, "spool",
            "new")), [])

    def test_join_address_and_full_width(self):
        self.send("setagaya-join@" + LIST_DOMAIN,
            "\"佐藤 花子\" <hanako@%s>" % MEMBER_DOMAIN, "", "本文は無視")
        r = self.replies_to("hanako@" + MEMBER_DOMAIN, 1)[0]
        self.assertIn("登録のお申し込み", r.body_text())
        self.send(REQ, "hanako@" + MEMBER_DOMAIN, "ＨＥＬＰ", "")
        r = self.replies_to("hanako@" + MEMBER_DOMAIN, 2)[1]
        self.assertIn("使い方", r.body_text())
        self.assertIn("> HELP", r.body_text())

    def test_token_only_for_its_address(self):
        self.send(REQ, YAMADA, "subscribe", "")
        confirm = confirm_address(self.replies_to(YAMADA, 1)[0], "setagaya")
        other = "intruder@" + MEMBER_DOMAIN
        self.send(confirm, other, "", "")
        r = self.replies_to(other, 1)[0]
        self.assertIn("確認コードが無効です", r.body_text())
        self.assertNotIn(YAMADA, self.members())
        # The rightful address can still use it.
        self.send(confirm, YAMADA, "", "")
        self.replies_to(YAMADA, 2)
        wait_until(lambda: YAMADA in self.members(), 10, what="member")

    def test_no_reply_to_automatic_mail(self):
        self.send(REQ, "vacation@" + MEMBER_DOMAIN, "subscribe", "",
            extra={"Auto-Submitted": "auto-replied"})
        self.send(REQ, "bulk@" + MEMBER_DOMAIN, "help", "",
            extra={"Precedence": "bulk"})
        self.send(REQ, "bounce@" + MEMBER_DOMAIN, "help", "", env_sender="")
        # A control message afterwards: when its reply is out, the
        # earlier ones had their turn.
        self.send(REQ, YAMADA, "help", "")
        self.replies_to(YAMADA, 1)
        rcpts = [r for m in self.sink.messages() for r in m.rcpts]
        self.assertEqual(rcpts, [YAMADA])
        self.assertNotIn("vacation@", self.members())

    def test_reply_cap_per_hour(self):
        for _ in range(7):
            self.send(REQ, YAMADA, "help", "")
        self.replies_to(YAMADA, 5)
        time.sleep(2)
        self.assertEqual(len(self.replies_to(YAMADA, 5)), 5)
        self.assertIn("replies in the last hour", self.d.log())

    def test_who_is_for_moderators(self):
        self.d.ctl("add", "setagaya", "a@" + MEMBER_DOMAIN, "甲")
        self.send(REQ, YAMADA, "who", "")
        self.assertIn("モデレーターの方だけ",
            self.replies_to(YAMADA, 1)[0].body_text())
        self.send(REQ, MOD, "", "名簿\n")
        text = self.replies_to(MOD, 1)[0].body_text()
        self.assertIn("a@" + MEMBER_DOMAIN, text)
        self.assertIn("甲", text)

    def test_set_mode_and_english(self):
        self.d.write_config({"lists": ({"name": "setagaya",
            "scope": "chapter:tokyo/setagaya", "language": "en"},)})
        self.d.reload()
        wait_until(lambda: "reloaded" in self.d.log(), 10, what="reload")
        self.d.ctl("add", "setagaya", YAMADA)
        self.send(REQ, YAMADA, "Set nomail", "")
        r = self.replies_to(YAMADA, 1)[0]
        self.assertIn("Results of your request", r.decoded_subject())
        self.assertIn('Your delivery mode is now "nomail"', r.body_text())
        self.assertIn("[nomail]", self.members())


if __name__ == "__main__":
    unittest.main(verbosity=2)
