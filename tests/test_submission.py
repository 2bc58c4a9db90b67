#!/usr/bin/python3
"""test_submission - sending through a provider's submission server.

What a chapter without its own mail server sets up from the README, run
for real:

    LMTP --> mlserverd --STARTTLS, AUTH--> Postfix smtpd (127.0.0.1:N)
                                             | SASL: Dovecot's auth
                                             |       service (inet)
                                             v
                                           virtual(8) --> Maildirs of
                                                          the members

The test makes its own CA and certificates with openssl: the server's
certificate names 127.0.0.1 in an iPAddress entry only (as a provider's
would name its host), and the daemon trusts only the test CA (ca_file),
so verification is really exercised.  Postfix relays only for
authenticated clients (permit_sasl_authenticated, reject), as a
provider's submission port does.

Checked: a post reaches every member over an authenticated TLS session;
a wrong password is logged once per attempt, clearly, the mail stays
queued (no bounce), and goes out after the password file is fixed and
SIGHUP; a certificate from another CA, or for another name, is refused
before AUTH and logged; max_messages_per_hour holds mail back, across a
restart, and releases it once the hour has passed; a provider's "450
4.7.1 too much mail" pauses the queue and the mail goes out later.

Skipped (exit 77) only when Postfix, Dovecot or openssl is missing.
"""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Postfix,  # noqa: E402
    free_port, make_message, wait_until)

DOVECOT = "/usr/sbin/dovecot"
OPENSSL = "/usr/bin/openssl"
for prog in (harness.POSTFIX, DOVECOT, OPENSSL):
    if not os.path.exists(prog):
        print("SKIP: %s is not installed; the submission test needs it"
            % prog)
        sys.exit(77)

TIMEOUT = 60
USER = "lists@example.jp"
PASSWORD = "Setagaya-2026-kaigi"
LIST = "setagaya"
LIST_ADDR = "%s@%s" % (LIST, LIST_DOMAIN)
MEMBERS = ["hanako@" + MEMBER_DOMAIN, "taro@" + MEMBER_DOMAIN,
    "jiro@" + MEMBER_DOMAIN]
# Every address the daemon may write to needs a mailbox at Postfix.
MAILBOXES = MEMBERS + ["sewanin@" + MEMBER_DOMAIN, "admin@" + MEMBER_DOMAIN]


def openssl(*args, cwd):
    subprocess.run([OPENSSL] + list(args), cwd=cwd, check=True,
        stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


class Certs:
    """A test CA, and certificates for Postfix: ca.crt; server.crt
    (signed by the CA, for 127.0.0.1); rogue.crt (same names, another
    CA); othername.crt (signed by the CA, for mail.example.net)."""

    def __init__(self):
        self.dir = harness._mkdtemp("mls-certs-")
        self.ca("ca", "mlserver test CA")
        self.ca("rogueca", "someone else's CA")
        self.leaf("server", "ca", "mta.example.test", "IP:127.0.0.1")
        self.leaf("rogue", "rogueca", "mta.example.test", "IP:127.0.0.1")
        self.leaf("othername", "ca", "mail.example.net",
            "DNS:mail.example.net")

    def path(self, name):
        return os.path.join(self.dir, name)

    def ca(self, name, cn):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            name + ".key", "-out", name + ".crt", "-days", "2", "-subj",
            "/CN=" + cn, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=self.dir)

    def leaf(self, name, ca, cn, san):
        with open(self.path(name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n" % san)
        openssl("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
            name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn,
            cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
            "-out", name + ".crt", "-extfile", name + ".ext", cwd=self.dir)

    def close(self):
        harness._rmtree(self.dir)


class DovecotAuth:
    """Dovecot running only its auth service, on an inet listener, with
    one user (USER/PASSWORD): Postfix's SASL backend, as at a provider."""

    def __init__(self):
        self.dir = harness._mkdtemp("mls-dovecot-auth-")
        self.port = free_port()
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.logfile = os.path.join(self.dir, "dovecot.log")
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s\n" % (USER, PASSWORD))
        with open(self.conf, "w") as f:
            f.write("""
base_dir = %(d)s/run
state_dir = %(d)s/state
log_path = %(d)s/dovecot.log
info_log_path = %(d)s/dovecot.log
listen = 127.0.0.1
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(d)s/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = %(port)d
  }
}
""" % {"d": self.dir, "port": self.port})
        with open(os.path.join(self.dir, "start.log"), "ab") as out:
            subprocess.run([DOVECOT, "-c", self.conf], check=True,
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                timeout=30)
        harness._live.add(self)
        wait_until(lambda: harness.port_accepts(self.port), 20,
            what="dovecot auth port")

    def stop(self):
        harness._live.discard(self)
        try:
            with open(os.path.join(self.dir, "run", "master.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
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


class SubmissionTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()
        cls.dovecot = DovecotAuth()

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.close()
        cls.certs.close()

    def setUp(self):
        self.postfix = None
        self.daemon = None

    def start(self, cert="server", password=PASSWORD, relay=None,
            extra_main=None):
        """Postfix as a submission server with cert, and mlserverd
        relaying to it as USER with password (in relay.pw beside its
        configuration, named relatively)."""
        lmtp_port = free_port()
        main = {
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.certs.path(cert + ".crt"),
            "smtpd_tls_key_file": self.certs.path(cert + ".key"),
            "smtpd_tls_auth_only": "yes",
            "smtpd_tls_loglevel": "1",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": "inet:127.0.0.1:%d" % self.dovecot.port,
            "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
            "smtpd_recipient_restrictions":
                "permit_sasl_authenticated, reject",
        }
        main.update(extra_main or {})
        self.postfix = Postfix(lmtp_port, members=MAILBOXES,
            extra_main=main)
        self.addCleanup(self.postfix.close)
        r = {"starttls": True, "user": USER, "password_file": "relay.pw",
            "ca_file": self.certs.path("ca.crt"), "max_recipients": 50}
        r.update(relay or {})
        self.daemon = Daemon(relay_port=self.postfix.smtp_port,
            port=lmtp_port, start=False, config={"relay": r,
            "queue": {"retry_first": 1, "retry_max": 2,
            "lifetime": 3600}})
        self.addCleanup(self.daemon.close)
        self.write_password(password)
        self.daemon.start()
        for addr in MEMBERS:
            self.daemon.ctl("add", LIST, addr, check=True)

    def write_password(self, password):
        with open(os.path.join(self.daemon.dir, "relay.pw"), "w") as f:
            f.write(password + "\n")

    def run_checked(self, body):
        try:
            body()
        except BaseException:
            self.print_logs()
            raise

    def print_logs(self):
        out = ["", "===== %s failed: logs =====" % self.id()]
        if self.daemon is not None:
            out += ["----- mlserverd -----", self.daemon.log(),
                "----- %s -----" % self.daemon.conf,
                self.daemon.config_text()]
        if self.postfix is not None:
            out += ["----- postfix maillog -----", self.postfix.log()]
        out += ["----- dovecot -----", self.dovecot.log()]
        print("\n".join(out), file=sys.stderr, flush=True)

    def post(self, subject):
        msg = make_message(MEMBERS[0], LIST_ADDR, subject,
            "皆さま\n\n次回の定例会は土曜日14時からです。\n")
        replies = self.daemon.lmtp_send([LIST_ADDR], msg, sender=MEMBERS[0])
        self.assertEqual(replies[LIST_ADDR][0], 250, replies)

    def delivered(self, addr, subject):
        return [m for m in self.postfix.maildir_messages(addr)
            if subject in (m.decoded_subject() or "")]

    def wait_delivered(self, subject, timeout=TIMEOUT):
        for addr in MEMBERS:
            wait_until(lambda: self.delivered(addr, subject), timeout,
                what="%r at %s" % (subject, addr))

    def wait_log(self, pattern, timeout=TIMEOUT):
        wait_until(lambda: re.search(pattern, self.daemon.log()),
            timeout, what="daemon log to show %r" % pattern)
        return re.search(pattern, self.daemon.log())

    def queued_posts(self):
        with self.daemon.db() as db:
            return db.execute("SELECT count(*) FROM outmsg WHERE done = 0 "
                "AND kind = 'post'").fetchone()[0]

    # ------------------------------------------------------------ tests

    def test_authenticated_post_reaches_members(self):
        self.run_checked(self._authenticated)

    def _authenticated(self):
        self.start()
        self.post("認証つき送信の確認")
        self.wait_delivered("認証つき送信の確認")
        log = self.postfix.log()
        self.assertRegex(log, r"sasl_method=(PLAIN|LOGIN), "
            r"sasl_username=%s" % re.escape(USER))
        self.assertIn("TLS connection established from", log)
        self.assertNotIn(PASSWORD, self.daemon.log())
        for addr in MEMBERS:
            self.assertEqual(len(self.delivered(addr, "認証つき送信の確認")),
                1, addr)

    def test_wrong_password_stays_queued_then_recovers(self):
        self.run_checked(self._wrong_password)

    def _wrong_password(self):
        wrong = "not-the-password"
        self.start(password=wrong)
        self.post("パスワード誤りの確認")
        m = self.wait_log(r"relay 127\.0\.0\.1:%d: authentication as "
            r"%s failed: 535 5\.7\.8 \S.*" % (self.postfix.smtp_port,
            re.escape(USER)))
        # Let a few retries pass: the mail must stay, not bounce.
        time.sleep(4)
        log = self.daemon.log()
        self.assertNotIn(wrong, log)
        self.assertNotIn("bounced", log)
        self.assertNotIn("expired", log)
        self.assertIn("status=deferred (relay 127.0.0.1:%d: authentication"
            % self.postfix.smtp_port, log)
        self.assertEqual(self.queued_posts(), 1)
        for addr in MEMBERS:
            self.assertEqual(self.delivered(addr, "パスワード誤りの確認"), [])
        # One warning per session that tried, not one per recipient.
        warnings = len(re.findall(r"mlserverd: relay \S+: authentication "
            r"as", log))
        self.assertGreaterEqual(warnings, 1)
        self.assertLessEqual(warnings, self.postfix.log().count(
            "TLS connection established from"))
        self.assertIn(m.group(0), log)

        self.write_password(PASSWORD)
        self.daemon.signal(signal.SIGHUP)
        self.wait_log(r"reloaded ")
        self.daemon.ctl("flush", check=True)
        self.wait_delivered("パスワード誤りの確認")
        wait_until(lambda: self.queued_posts() == 0, TIMEOUT,
            what="the queue to empty")
        # Nobody was taken for a bouncing address.
        self.assertEqual(sorted(self.daemon.members(LIST)),
            sorted(MEMBERS))
        for addr in MEMBERS:
            self.assertEqual(len(self.delivered(addr, "パスワード誤りの確認")),
                1, addr)

    def test_certificate_of_another_ca_refused(self):
        self.run_checked(lambda: self._bad_cert("rogue",
            r"TLS: certificate of 127\.0\.0\.1:%d not verified: "
            r"unable to get local issuer certificate"))

    def test_certificate_for_another_name_refused(self):
        self.run_checked(lambda: self._bad_cert("othername",
            r"TLS: certificate of 127\.0\.0\.1:%d is for "
            r"\"mail\.example\.net\""))

    def _bad_cert(self, cert, pattern):
        self.start(cert=cert)
        self.post("証明書の確認")
        self.wait_log(pattern % self.postfix.smtp_port)
        time.sleep(2)
        self.assertEqual(self.queued_posts(), 1)
        for addr in MEMBERS:
            self.assertEqual(self.delivered(addr, "証明書の確認"), [])
        # Refused before AUTH: the password never went to that server.
        self.assertNotIn("sasl_username", self.postfix.log())
        self.assertNotIn("authentication as", self.daemon.log())

    def test_hourly_limit_holds_and_releases(self):
        self.run_checked(self._hourly_limit)

    def _hourly_limit(self):
        self.start(relay={"max_messages_per_hour": 2})
        subjects = ["上限の確認 その%d" % i for i in range(1, 5)]
        for s in subjects:
            self.post(s)
        self.wait_delivered(subjects[0])
        self.wait_delivered(subjects[1])
        self.wait_log(r"2 messages sent in the last hour")
        time.sleep(3)
        for s in subjects[2:]:
            self.assertEqual(self.delivered(MEMBERS[0], s), [], s)
        self.assertEqual(self.queued_posts(), 2)

        # The hour is kept across a restart.
        self.daemon.stop()
        self.daemon.start()
        self.daemon.ctl("flush", check=True)
        time.sleep(3)
        for s in subjects[2:]:
            self.assertEqual(self.delivered(MEMBERS[0], s), [], s)

        # An hour later (the sends recorded are made an hour older).
        db = sqlite3.connect(self.daemon.db_path, timeout=10)
        with db:
            db.execute("UPDATE relay_sends SET ts = ts - 3600")
        db.close()
        self.daemon.ctl("flush", check=True)
        for s in subjects[2:]:
            self.wait_delivered(s)
        for s in subjects:
            for addr in MEMBERS:
                self.assertEqual(len(self.delivered(addr, s)), 1,
                    (s, addr))

    def test_provider_rate_limit_backs_off(self):
        self.run_checked(self._provider_limit)

    def _provider_limit(self):
        # Postfix's anvil: one message per 6 s from this client, then
        # "450 4.7.1 Error: too much mail from 127.0.0.1".
        self.start(extra_main={
            "smtpd_client_message_rate_limit": "1",
            "anvil_rate_time_unit": "6s",
            "smtpd_client_event_limit_exceptions": "",
        })
        self.post("送信制限の確認 その1")
        self.post("送信制限の確認 その2")
        self.wait_log(r"relay 127\.0\.0\.1:%d: sending limit reached "
            r"\(450 4\.7\.1 [^)]*too much mail[^)]*\); the queue waits"
            % self.postfix.smtp_port)
        self.wait_delivered("送信制限の確認 その1")
        self.wait_delivered("送信制限の確認 その2")
        log = self.daemon.log()
        self.assertNotIn("bounced", log)
        for n in (1, 2):
            for addr in MEMBERS:
                self.assertEqual(len(self.delivered(addr,
                    "送信制限の確認 その%d" % n)), 1, addr)


class CheckTest(unittest.TestCase):
    """mlserverctl check reports the relay's mistakes with FILE:LINE."""

    def test_check_reports_relay_mistakes(self):
        d = Daemon(relay_port=587, start=False, config={"relay": {
            "host": "2001:db8::25", "user": USER,
            "password_file": "missing.pw", "starttls": False,
            "max_messages_per_hour": -5, "tls_verify": "no"}})
        try:
            cp = d.ctl("check")
            self.assertNotEqual(cp.returncode, 0)
            err = cp.stdout + cp.stderr
            lines = d.config_text().splitlines()

            def line_of(key):
                for i, text in enumerate(lines, 1):
                    if re.match(r"\s*%s\s*=" % key, text) or \
                            re.search(r"[{;]\s*%s\s*=" % key, text):
                        return i
                self.fail("%s not in the config" % key)
            conf = os.path.basename(d.conf)
            for key, what in (
                    ("host", "IPv6 addresses cannot be used"),
                    ("user", "a password is sent only over TLS"),
                    ("password_file", "cannot read"),
                    ("max_messages_per_hour", "must be between 0 and"),
                    ("tls_verify", "must be true or false")):
                self.assertRegex(err, r"%s:%d: [^\n]*%s" % (re.escape(conf),
                    line_of(key), re.escape(what)), err)
        finally:
            d.close()

    def test_tls_verify_false_is_warned_at_start(self):
        d = Daemon(relay_port=free_port(), start=False, config={"relay": {
            "starttls": True, "tls_verify": False}})
        try:
            d.start()
            wait_until(lambda: "tls_verify = false" in d.log(), 20,
                what="the warning")
            self.assertIn("certificate is not checked", d.log())
        finally:
            d.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
