#!/usr/bin/python3
"""test_mailbox - lists fed from mailboxes: Maildir, IMAP (IDLE), POP3.

A private Dovecot (imap and pop3 on loopback, one user whose Maildir the
test fills by hand, as an MTA would) stands in for a provider's hosted
mailbox; smtp-sink stands in for the relay, so every assertion is about
what members would receive and what is left in the mailbox.

The crash test sets MLSERVER_TEST_MAILBOX_DELAY (see mlserver/mailbox.c):
the daemon then pauses after each message is committed to its spool and
before it records it as taken, which is where a kill -9 hurts most.
"""

import os
import pwd
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    make_message, wait_until)

M = MEMBER_DOMAIN
DOVECOT = "/usr/sbin/dovecot"
USER = "lists"
PASSWORD = "kaigi-2026"
MEMBERS = ["tanaka@" + M, "suzuki@" + M, "sato@" + M]
SUBJECT = "12月の定例会のお知らせ"
BODY = "皆さま\n\n12月5日(土) 14時から世田谷区民会館で定例会を開きます。\n①資料をご持参ください。\n"


class Dovecot:
    """A private Dovecot with one user (USER/PASSWORD) and a Maildir.

    .imap_port, .pop3_port; .maildir (the user's Maildir); .log()."""

    def __init__(self, tls=False):
        self.dir = harness._mkdtemp("mls-dovecot-")
        self.tls = tls
        self.imap_port = harness.free_port()
        self.pop3_port = harness.free_port()
        self.imaps_port = harness.free_port()
        nobody = pwd.getpwnam("nobody")
        self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        self.home = os.path.join(self.dir, "home")
        self.maildir = os.path.join(self.home, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        for root, dirs, _ in os.walk(self.home):
            os.chown(root, self.uid, self.gid)
        self.logfile = os.path.join(self.dir, "dovecot.log")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s:%d:%d::%s::\n" % (USER, PASSWORD,
                self.uid, self.gid, self.home))
        if tls:
            self._make_cert()
        with open(self.conf, "w") as f:
            f.write(self._config())
        self.proc = None
        self.start()

    def _make_cert(self):
        """A self-signed certificate for localhost and 127.0.0.1."""
        self.cert = os.path.join(self.dir, "cert.pem")
        self.key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", self.key, "-out", self.cert], check=True,
            capture_output=True, timeout=60)

    def _config(self):
        d = self.dir
        ssl = "ssl = no\n"
        if self.tls:
            ssl = "ssl = required\nssl_cert = <%s\nssl_key = <%s\n" % (
                self.cert, self.key)
        return ssl + """
base_dir = %(d)s/run
state_dir = %(d)s/state
log_path = %(d)s/dovecot.log
info_log_path = %(d)s/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:~/Maildir
pop3_uidl_format = %%08Xu%%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(d)s/passwd
}
userdb {
  driver = passwd-file
  args = %(d)s/passwd
}
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
  inet_listener imaps {
    port = %(imaps)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
  }
  inet_listener pop3s {
    port = 0
  }
}
""" % {"d": d, "imap": self.imap_port, "pop3": self.pop3_port,
            "imaps": self.imaps_port if self.tls else 0}

    def start(self):
        # Its master detaches; its output goes to the log, not a pipe
        # that would stay open as long as it runs.
        with open(os.path.join(self.dir, "start.log"), "ab") as out:
            subprocess.run([DOVECOT, "-c", self.conf], check=True,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                timeout=30)
        harness._live.add(self)
        wait_until(lambda: harness.port_accepts(self.imap_port) and
            harness.port_accepts(self.pop3_port), 20, what="dovecot ports")

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "run", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        harness._live.discard(self)
        pid = self.master_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        wait_until(lambda: not harness._pid_alive(pid), 20,
            what="dovecot to stop")

    def close(self):
        self.stop()
        harness._rmtree(self.dir)

    def log(self):
        return harness._read_text(self.logfile)

    def messages(self):
        """File names in the Maildir's new/ and cur/."""
        return [n for sub in ("new", "cur")
            for n in os.listdir(os.path.join(self.maildir, sub))]


_seq = [0]


def drop(maildir, message, uid=None, gid=None):
    """Deliver message into maildir as an MTA does (tmp/, then new/)."""
    _seq[0] += 1
    name = "%d.M%dP%dQ%d.test" % (time.time(), time.time_ns() % 1000000,
        os.getpid(), _seq[0])
    tmp = os.path.join(maildir, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(message)
    if uid is not None:
        os.chown(tmp, uid, gid)
    os.rename(tmp, os.path.join(maildir, "new", name))
    return name


def post(to_header, delivered_to=None, subject=SUBJECT, sender=MEMBERS[0]):
    extra = [("Return-Path", "<%s>" % sender)]
    if delivered_to:
        extra.insert(0, ("Delivered-To", delivered_to))
    msg = make_message("田中太郎 <%s>" % sender, to_header, subject, BODY,
        charset="iso-2022-jp", extra_headers=extra)
    return msg


class MailboxBase(unittest.TestCase):

    def setUp(self):
        self.sink = Sink()
        self.addCleanup(self.sink.close)

    def daemon(self, mailboxes, env=None):
        d = Daemon(self.sink.port, config={"mailboxes": tuple(mailboxes)},
            env=env)
        self.addCleanup(d.close)
        for a in MEMBERS:
            r = d.ctl("add", "meguro", a)
            self.assertEqual(r.returncode, 0, r.stderr)
        return d

    def assert_posted_once(self, d, subject=SUBJECT, timeout=20):
        try:
            self.sink.wait_rcpts(len(MEMBERS), timeout=timeout)
        except Exception:
            self.fail("members got nothing\n--- log ---\n" + d.log())
        time.sleep(1)
        counts = self.sink.rcpt_counts()
        self.assertEqual(sorted(counts), sorted(MEMBERS), d.log())
        self.assertTrue(all(c == 1 for c in counts.values()), counts)
        m = self.sink.messages()[0]
        self.assertEqual(m.decoded_subject(), subject)
        self.assertIn("世田谷区民会館", m.body_text())
        self.assertIn("①", m.body_text())
        return m


class MaildirTest(MailboxBase):

    def test_maildir_post_reaches_members_and_leaves_the_box(self):
        box = harness._mkdtemp("mls-maildir-")
        self.addCleanup(harness._rmtree, box)
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(box, sub))
        d = self.daemon([{"type": "maildir", "path": box, "interval": 1}])
        # Routed by Delivered-To: the mailbox has no address of its own.
        drop(box, post("地域の皆さま <lists@hosted.example.jp>",
            delivered_to="meguro@" + LIST_DOMAIN))
        # Not for any list, and no address to fall back on: left alone.
        stray = drop(box, post("someone@hosted.example.jp",
            subject="関係のないメール"))
        self.assert_posted_once(d)
        wait_until(lambda: os.listdir(os.path.join(box, "new")) == [stray]
            and os.listdir(os.path.join(box, "cur")) == [], 10,
            what="the post removed from the Maildir")
        time.sleep(2.5)   # two more polls: the stray is not logged again
        self.assertEqual(d.log().count("left in the mailbox"), 1, d.log())
        self.assertEqual(os.listdir(os.path.join(box, "new")), [stray])
        # Given an address and reloaded, the stray one is taken.
        d.reload({"mailboxes": ({"type": "maildir", "path": box,
            "interval": 1, "address": "kita@" + LIST_DOMAIN},)})
        wait_until(lambda: os.listdir(os.path.join(box, "new")) == [], 10,
            what="the stray taken after the reload")
        wait_until(lambda: "kita: post from" in d.log(), 10,
            what="the stray posted to kita")

    def test_mailbox_added_by_sighup(self):
        box = harness._mkdtemp("mls-maildir-")
        self.addCleanup(harness._rmtree, box)
        for sub in ("cur", "new", "tmp"):
            os.mkdir(os.path.join(box, sub))
        d = self.daemon([])
        drop(box, post("meguro@" + LIST_DOMAIN,
            delivered_to="meguro@" + LIST_DOMAIN))
        d.reload({"mailboxes": ({"type": "maildir", "path": box,
            "interval": 1},)})
        self.assert_posted_once(d)
        wait_until(lambda: os.listdir(os.path.join(box, "new")) == [], 10,
            what="the Maildir emptied")


HAVE_DOVECOT = os.access(DOVECOT, os.X_OK)


@unittest.skipUnless(HAVE_DOVECOT, "dovecot is not installed (.ci/deps.sh)")
class DovecotTest(MailboxBase):

    def setUp(self):
        super().setUp()
        self.dc = Dovecot()
        self.addCleanup(self.dc.close)
        self.pwfile = os.path.join(self.dc.dir, "password")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")

    def box(self, kind, **kw):
        b = {"type": kind, "host": "127.0.0.1",
            "port": self.dc.imap_port if kind == "imap" else
            self.dc.pop3_port, "user": USER, "password_file": self.pwfile,
            "address": "meguro@" + LIST_DOMAIN}
        b.update(kw)
        return b

    def drop(self, msg):
        return drop(self.dc.maildir, msg, self.dc.uid, self.dc.gid)

    def wait_empty(self, d, timeout=15):
        wait_until(lambda: self.dc.messages() == [], timeout,
            what="the mailbox emptied\n" + d.log())

    def test_imap_idle_picks_up_at_once(self):
        # A poll every 10 minutes: only IDLE can be this quick.
        d = self.daemon([self.box("imap", interval=600)])
        wait_until(lambda: "Login: user=<%s>" % USER in self.dc.log(), 10,
            what="imap login")
        time.sleep(1)   # the first look is over; now it idles
        start = time.time()
        self.drop(post("lists@hosted.example.jp"))
        self.assert_posted_once(d, timeout=10)
        took = time.time() - start
        harness._say("IMAP IDLE: drop to members in %.2f s" % took)
        self.assertLess(took, 8, "picked up after %.1f s" % took)
        self.wait_empty(d)
        with d.db() as db:
            rows = db.execute("SELECT uid, state FROM mailbox_seen").fetchall()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][1], 2, rows)
        self.assertRegex(rows[0][0], r"^\d+:\d+$")
        # SIGTERM ends the IDLE at once, and cleanly.
        t = time.time()
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.time() - t, 5)

    def test_imap_move_to_folder(self):
        d = self.daemon([self.box("imap", interval=2, after="move",
            move_to="Archive")])
        # Dovecot creates no folder by itself; make Archive as a user would.
        arch = os.path.join(self.dc.maildir, ".Archive")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(arch, sub))
        for root, dirs, _ in os.walk(arch):
            os.chown(root, self.dc.uid, self.dc.gid)
        self.drop(post("lists@hosted.example.jp"))
        self.assert_posted_once(d)
        self.wait_empty(d)
        wait_until(lambda: len(os.listdir(os.path.join(arch, "cur"))) +
            len(os.listdir(os.path.join(arch, "new"))) == 1, 10,
            what="the post in Archive")

    def test_pop3(self):
        d = self.daemon([self.box("pop3", interval=1)])
        self.drop(post("lists@hosted.example.jp"))
        self.assert_posted_once(d)
        self.wait_empty(d)

    def kill_between_store_and_removal(self, kind):
        d = self.daemon([self.box(kind, interval=1)],
            env={"MLSERVER_TEST_MAILBOX_DELAY": "60"})
        self.drop(post("lists@hosted.example.jp"))
        wait_until(lambda: "test delay" in d.log(), 20,
            what="the take to reach the delay\n" + d.log())
        # Stored and posted, but still in the mailbox: the window.
        self.sink.wait_rcpts(len(MEMBERS), timeout=20)
        self.assertEqual(len(self.dc.messages()), 1)
        d.kill9()
        d.env = {}
        d.restart()
        self.wait_empty(d)
        self.assert_posted_once(d)
        self.assertIn("before a restart", d.log())
        # And a message after the restart still flows.
        self.sink.clear()
        self.drop(post("lists@hosted.example.jp", subject="再開後の連絡"))
        self.assert_posted_once(d, subject="再開後の連絡")

    def test_imap_kill9_no_loss_no_duplicate(self):
        self.kill_between_store_and_removal("imap")

    def test_pop3_kill9_no_loss_no_duplicate(self):
        self.kill_between_store_and_removal("pop3")

    def test_wrong_password_logged_once_then_recovers(self):
        with open(self.pwfile, "w") as f:
            f.write("wrong-secret\n")
        d = self.daemon([self.box("imap", interval=600)])
        self.drop(post("lists@hosted.example.jp"))
        # Retried after 5 s; by then two logins have failed.
        wait_until(lambda: self.dc.log().count("auth failed") +
            self.dc.log().count("Authentication failure") >= 2, 20,
            what="two failed logins\n" + self.dc.log())
        log = d.log()
        self.assertEqual(log.count("login refused"), 1, log)
        self.assertIn('login refused for user "%s"' % USER, log)
        self.assertIn(self.pwfile, log)
        self.assertNotIn("wrong-secret", log)
        self.assertEqual(self.sink.rcpt_total(), 0)
        # Mend the file: the next attempt (10 s later) works.
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        self.assert_posted_once(d, timeout=30)
        self.assertIn("working again", d.log())
        self.assertEqual(d.log().count("login refused"), 1)


@unittest.skipUnless(HAVE_DOVECOT, "dovecot is not installed (.ci/deps.sh)")
class TlsTest(MailboxBase):

    def setUp(self):
        super().setUp()
        self.dc = Dovecot(tls=True)
        self.addCleanup(self.dc.close)
        self.pwfile = os.path.join(self.dc.dir, "password")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")

    def box(self, **kw):
        b = {"type": "imap", "host": "127.0.0.1", "port": self.dc.imaps_port,
            "tls": True, "user": USER, "password_file": self.pwfile,
            "address": "meguro@" + LIST_DOMAIN, "interval": 2}
        b.update(kw)
        return b

    def test_imaps_with_the_servers_ca(self):
        d = self.daemon([self.box(ca_file=self.dc.cert)])
        drop(self.dc.maildir, post("lists@hosted.example.jp"), self.dc.uid,
            self.dc.gid)
        self.assert_posted_once(d)

    def test_imaps_untrusted_certificate_is_refused(self):
        d = self.daemon([self.box()])
        drop(self.dc.maildir, post("lists@hosted.example.jp"), self.dc.uid,
            self.dc.gid)
        wait_until(lambda: "not trusted" in d.log(), 15,
            what="the refusal\n" + d.log())
        time.sleep(6)   # a second attempt, not logged again
        self.assertEqual(d.log().count("not trusted"), 1)
        self.assertEqual(self.sink.rcpt_total(), 0)
        self.assertNotIn("Login: user=", self.dc.log())


class CheckTest(unittest.TestCase):

    def test_check_reports_mistakes_with_line(self):
        sink = Sink()
        self.addCleanup(sink.close)
        d = Daemon(sink.port, start=False, config={"mailboxes": (
            {"type": "imap", "host": "127.0.0.1", "user": "x"},
            {"type": "pop4", "host": "h"},
            {"type": "maildir", "path": "/tmp/x", "address": "nobody@"
                + LIST_DOMAIN, "after": "move"},
        )})
        self.addCleanup(d.close)
        r = d.ctl("check")
        self.assertNotEqual(r.returncode, 0)
        out = r.stdout + r.stderr
        self.assertRegex(out, r"mlserver\.conf:\d+: .*password_file")
        self.assertRegex(out, r"mlserver\.conf:\d+: .*\"type\" must be")
        self.assertRegex(out, r"mlserver\.conf:\d+: .*nobody@%s.* not one "
            r"of the lists" % LIST_DOMAIN)
        self.assertRegex(out, r"mlserver\.conf:\d+: .*\"move\" is for imap")


if __name__ == "__main__":
    unittest.main(verbosity=2)
