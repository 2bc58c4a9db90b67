#!/usr/bin/python3
"""test_postfix - the README's end-to-end path through a real Postfix.

What an administrator sets up from the README, run for real:

    swaks --> Postfix smtpd (127.0.0.1:SMTP)
                | transport_maps: lists.example.org -> lmtp:inet:127.0.0.1:LMTP
                v
              mlserverd (listen 127.0.0.1:LMTP)
                | relay = { host = "127.0.0.1"; port = SMTP; }
                v
              the same Postfix --> virtual(8) --> Maildirs of
                                   *@members.example.jp

Checked: a post to setagaya@ reaches each member exactly once with the
list's subject prefix and RFC 2919/2369 headers; a subscription by mail
to setagaya-request@ works through the confirmation round trip.  The
same again with the README's pipe(8) entry in place of LMTP
(mlserver-receive run by Postfix as nobody, who owns the state
directory), where an unknown list address bounces at once (exit 67).

Skipped (exit 77, automake's SKIP) only when Postfix is not installed.
On failure the daemon's log and Postfix's maillog are printed.
"""

import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Postfix,  # noqa: E402
    confirm_address, free_port, make_message, swaks, wait_until)

if not os.path.exists(harness.POSTFIX):
    print("SKIP: Postfix is not installed (%s); the end-to-end test "
        "needs it" % harness.POSTFIX)
    sys.exit(77)

TIMEOUT = 60

LIST = "setagaya"
LIST_ADDR = "%s@%s" % (LIST, LIST_DOMAIN)
REQUEST_ADDR = "%s-request@%s" % (LIST, LIST_DOMAIN)

MEMBERS = [
    ("hanako@" + MEMBER_DOMAIN, "佐藤花子"),
    ("taro@" + MEMBER_DOMAIN, "鈴木太郎"),
    ("jiro@" + MEMBER_DOMAIN, "高橋次郎"),
]
NEWCOMER = "yamada@" + MEMBER_DOMAIN
# Every address that may be written to needs a mailbox, or Postfix
# rejects the daemon's mail to it (and the test would hang on a bounce).
MAILBOXES = [a for a, _ in MEMBERS] + [NEWCOMER,
    "sewanin@" + MEMBER_DOMAIN, "admin@" + MEMBER_DOMAIN]


class PostfixEndToEnd(unittest.TestCase):
    """One private Postfix and one mlserverd per test."""

    def setUp(self):
        self.postfix = None
        self.daemon = None
        lmtp_port = free_port()
        try:
            self.postfix = Postfix(lmtp_port, members=MAILBOXES)
            self.addCleanup(self.postfix.close)
            self.daemon = Daemon(relay_port=self.postfix.smtp_port,
                port=lmtp_port, start=False)
            self.addCleanup(self.daemon.close)
            self.daemon.start()
        except BaseException:
            self.print_logs("setUp")
            raise

    def run_checked(self, body):
        """Run body(); on any failure print the logs, then re-raise."""
        try:
            body()
        except BaseException:
            self.print_logs(self.id())
            raise

    def print_logs(self, where):
        out = ["", "===== %s failed: logs =====" % where]
        if self.daemon is not None:
            out += ["----- mlserverd (%s) -----" % self.daemon.logfile,
                self.daemon.log(),
                "----- %s -----" % self.daemon.conf,
                self.daemon.config_text()]
        if self.postfix is not None:
            out += ["----- postfix maillog (%s) -----"
                % self.postfix.logfile, self.postfix.log(),
                "----- postqueue -p -----", self.postfix.queue()]
        print("\n".join(out), file=sys.stderr, flush=True)

    def add_members(self):
        for addr, name in MEMBERS:
            self.daemon.ctl("add", LIST, addr, name, check=True)
        listed = self.daemon.ctl("members", LIST, check=True).stdout
        for addr, _ in MEMBERS:
            self.assertIn(addr, listed.lower())

    # ------------------------------------------------------------ tests

    def test_post_reaches_each_member_once(self):
        self.run_checked(self._post)

    def _post(self):
        self.add_members()
        subject = "来週の定例会について"
        body = ("皆さま\n\n来週土曜日 14時から、区民会館で定例会を開きます。\n"
            "資料は当日配ります。\n\n佐藤花子\n")
        sender = MEMBERS[0][0]
        msg = make_message("佐藤花子 <%s>" % sender, LIST_ADDR, subject,
            body)
        swaks(self.postfix.smtp_port, sender, LIST_ADDR, data=msg)

        def is_post(m):
            return subject in (m.decoded_subject() or "")
        for addr, _ in MEMBERS:
            self.postfix.wait_maildir(addr, 1, TIMEOUT, is_post)
        # A duplicate would come right behind the first copy: let the
        # daemon and Postfix finish what they have, then count.
        self.settle()

        for addr, _ in MEMBERS:
            posts = [m for m in self.postfix.maildir_messages(addr)
                if is_post(m)]
            self.assertEqual(len(posts), 1, "%s got %d copies"
                % (addr, len(posts)))
            m = posts[0]
            subj = m.decoded_subject()
            self.assertEqual(subj.count("[世田谷]"), 1, subj)
            self.assertTrue(subj.startswith("[世田谷]"), subj)
            self.assertIn(subject, subj)
            self.assertIn("setagaya.lists.example.org",
                m.header("List-Id") or "", "List-Id")
            self.assertIn("mailto:setagaya-leave@lists.example.org",
                m.header("List-Unsubscribe") or "", "List-Unsubscribe")
            self.assertEqual((m.header("Precedence") or "").strip()
                .lower(), "list")
            self.assertIn("区民会館で定例会", m.body_text())
        # Nobody outside the list got the post.
        for addr in ("sewanin@" + MEMBER_DOMAIN, NEWCOMER):
            self.assertFalse([m for m in
                self.postfix.maildir_messages(addr) if is_post(m)], addr)

    def test_subscribe_by_mail(self):
        self.run_checked(self._subscribe)

    def _subscribe(self):
        self.add_members()
        # The command in the body ("subscribe 山田太郎" in Japanese);
        # an empty Subject, so that it holds no second command.
        msg = make_message("山田太郎 <%s>" % NEWCOMER, REQUEST_ADDR, "",
            "登録 山田太郎\n")
        swaks(self.postfix.smtp_port, NEWCOMER, REQUEST_ADDR, data=msg)

        def has_confirm(m):
            return confirm_address(m, LIST) is not None
        msgs = self.postfix.wait_maildir(NEWCOMER, 1, TIMEOUT, has_confirm)
        confirm = [m for m in msgs if has_confirm(m)][0]
        addr = confirm_address(confirm, LIST)
        self.assertNotIn(NEWCOMER, self.daemon.members(LIST),
            "subscribed before confirming")
        self.assertTrue((confirm.header("Auto-Submitted") or "")
            .lower().startswith("auto-"), "Auto-Submitted on the "
            "confirmation request")

        reply = make_message(NEWCOMER, addr, "Re: " +
            (confirm.decoded_subject() or ""), "確認します。\n",
            extra_headers={"In-Reply-To":
            confirm.headers.get("Message-ID", "")})
        swaks(self.postfix.smtp_port, NEWCOMER, addr, data=reply)

        def welcomed(m):
            return m.path != confirm.path and not has_confirm(m)
        self.postfix.wait_maildir(NEWCOMER, 1, TIMEOUT, welcomed)
        wait_until(lambda: NEWCOMER in self.daemon.members(LIST),
            TIMEOUT, 0.5, "%s in `mlserverctl members %s`"
            % (NEWCOMER, LIST))

    # ------------------------------------------------------------ helpers

    def settle(self, quiet=3):
        """Wait until Postfix's queue is empty and no Maildir changed
        for `quiet` seconds (at most TIMEOUT)."""
        def snapshot():
            return sum(len(self.postfix.maildir_messages(a))
                for a in MAILBOXES)
        deadline = time.monotonic() + TIMEOUT
        last = snapshot()
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = snapshot()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet and \
                self.postfix.queue_empty():
                return


class PostfixPipe(PostfixEndToEnd):
    """The same tests with the README's pipe(8) entry instead of LMTP:
    Postfix runs mlserver-receive as an unprivileged user, which owns the
    state directory, as the README says."""

    def setUp(self):
        self.postfix = None
        self.daemon = None
        try:
            self.daemon = Daemon(relay_port=0, start=False)
            self.addCleanup(self.daemon.close)
            # The program where that user can run it (the build tree
            # may be in a directory only root can enter).
            receive = os.path.join(self.daemon.dir, "mlserver-receive")
            shutil.copy(harness.MLSERVER_RECEIVE, receive)
            self.postfix = Postfix(0, members=MAILBOXES, pipe={
                "user": harness.NOBODY.pw_name,
                "argv": "%s -c %s -f ${sender} ${recipient}"
                    % (receive, self.daemon.conf)})
            self.addCleanup(self.postfix.close)
            self.daemon.relay_port = self.postfix.smtp_port
            self.daemon.write_config()
            self.daemon.start()
            for root, dirs, files in os.walk(self.daemon.dir):
                for name in [root] + [os.path.join(root, f) for f in
                        dirs + files]:
                    os.chown(name, harness.NOBODY.pw_uid,
                        harness.NOBODY.pw_gid)
        except BaseException:
            self.print_logs("setUp")
            raise

    def _post(self):
        super()._post()
        # It came through pipe(8), not LMTP.
        self.assertRegex(self.postfix.log(),
            r"to=<setagaya@lists\.example\.org>, relay=mlserver,.* "
            r"status=sent")

    def test_unknown_list_bounces(self):
        self.run_checked(self._unknown)

    def _unknown(self):
        # Exit 67 from mlserver-receive: Postfix bounces at once.
        rcpt = "nosuchlist@" + LIST_DOMAIN
        sender = MEMBERS[0][0]
        swaks(self.postfix.smtp_port, sender, rcpt,
            data=make_message(sender, rcpt, "宛先違い", "本文\n"))
        msgs = self.postfix.wait_maildir(sender, 1, TIMEOUT,
            lambda m: "nosuchlist" in m.body_text())
        self.assertTrue(msgs)
        self.assertRegex(self.postfix.log(), r"to=<nosuchlist@lists\."
            r"example\.org>, relay=mlserver,.* status=bounced")


if __name__ == "__main__":
    unittest.main(verbosity=2)
