#!/usr/bin/python3
"""test_disk_full - the spool on a small file system that fills up.

STATE_DIR/spool (new/, tmp/, out/, ...) is a tmpfs of 8 MB mounted for
the test (a loop-mounted ext4 image where tmpfs cannot be mounted; the
test is skipped, exit 77, when neither can: it needs root).  The relay is
down at first, so what was accepted stays in the spool.  Then the file
system is filled:

  - LMTP: DATA is answered 452 4.3.1 when less than the margin (1 MB)
    is free, and 452 when the declared SIZE does not fit; a message that
    passes that check but does not fit gets 451 4.3.0 for each
    recipient after the data (nothing is acknowledged that is not on
    disk);
  - mlserver-receive exits 75 (the MTA keeps the mail and retries), for
    a small message on a full disk and for a big one that does not fit;
  - a message stored while the daemon was down, found when the disk is
    full, is not given up (not quarantined), and is processed once there
    is room;
  - nothing half-written is left in tmp/, the daemon stays up, and
    nothing refused is ever delivered;
  - when space returns, everything accepted before, during and after is
    delivered exactly once, and new mail is accepted again.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (LIST_DOMAIN, MEMBER_DOMAIN, Daemon, Sink,  # noqa: E402
    free_port, make_message, wait_until)

M = MEMBER_DOMAIN
LIST_ADDR = "meguro@" + LIST_DOMAIN
SENDER = "a@" + M
FS_SIZE = 8 * 1024 * 1024
MARGIN = 1024 * 1024		# spool.c: SPOOL_MARGIN_BYTES


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True)


def mount_small_fs(where):
    """Mount a FS_SIZE file system on where; return how, or None."""
    r = run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0700" % FS_SIZE,
        "tmpfs", where])
    if r.returncode == 0:
        return "tmpfs"
    img = where + ".img"
    if shutil.which("mkfs.ext4"):
        with open(img, "wb") as f:
            f.truncate(FS_SIZE)
        if run(["mkfs.ext4", "-q", "-F", img]).returncode == 0 and \
                run(["mount", "-o", "loop", img, where]).returncode == 0:
            return "ext4 on a loop device"
        os.unlink(img)
    return None


def unmount(where):
    for _ in range(50):
        if run(["umount", where]).returncode == 0:
            break
        time.sleep(0.1)
    if os.path.exists(where + ".img"):
        os.unlink(where + ".img")


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class DiskFull(unittest.TestCase):

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small file system")
        self.relay_port = free_port()
        self.d = Daemon(self.relay_port, config={
            "max_message_size": 6 * 1024 * 1024,
            "queue": {"retry_first": 1, "retry_max": 2, "lifetime": 600},
        }, start=False)
        self.addCleanup(self.d.close)
        self.spool = os.path.join(self.d.dir, "spool")
        os.mkdir(self.spool, 0o700)
        self.how = mount_small_fs(self.spool)
        if self.how is None:
            self.skipTest("cannot mount a tmpfs or a loop device here")
        self.addCleanup(unmount, self.spool)
        self.filler = os.path.join(self.spool, "filler")
        self.d.start()
        for i in range(3):
            self.d.ctl("add", "meguro", "m%d@%s" % (i, M))
        self.members = ["m%d@%s" % (i, M) for i in range(3)]

    def fill(self, leave):
        """Grow the filler file until `leave` octets are free."""
        have = os.path.getsize(self.filler) if os.path.exists(
            self.filler) else 0
        want = have + free_bytes(self.spool) - leave
        with open(self.filler, "ab") as f:
            f.truncate(max(0, want))
            # truncate() makes a sparse file on ext4: write the octets.
            f.seek(have)
            left = max(0, want - have)
            while left > 0:
                n = f.write(b"\0" * min(left, 1 << 20))
                left -= n
        os.sync()

    def post(self, subject, size=None, rcpts=(LIST_ADDR,), options=None):
        body = "本文\n"
        if size:
            body += ("x" * 76 + "\n") * (size // 77)
        msg = make_message(SENDER, LIST_ADDR, subject, body)
        r = self.d.lmtp_send(list(rcpts), msg, sender=SENDER,
            mail_options=options)
        return r[rcpts[0]]

    def receive(self, subject, size=None):
        body = "パイプ\n" + (("y" * 76 + "\n") * (size // 77) if size
            else "")
        msg = make_message(SENDER, LIST_ADDR, subject, body)
        return subprocess.run([harness.MLSERVER_RECEIVE, "-c", self.d.conf,
            "-f", SENDER, LIST_ADDR], input=msg.replace(b"\r\n", b"\n"),
            capture_output=True)

    def test_full_spool_refuses_keeps_and_recovers(self):
        print("small file system:", self.how, file=sys.stderr)
        d = self.d
        # Accepted before the disk fills; the relay is down, so they wait
        # in out/.
        for s in ("受理1", "受理2"):
            code, text = self.post(s)
            self.assertEqual(code, 250, text)
        wait_until(lambda: "status=deferred" in d.log(), 20,
            what="a deferral")

        # Less than the margin free: refused before the data.
        self.fill(MARGIN // 2)
        code, text = self.post("拒否452")
        self.assertEqual(code, 452, text)
        self.assertTrue(text.startswith("4.3.1"), text)
        r = self.receive("拒否75")
        self.assertEqual(r.returncode, 75, r.stderr)

        # Room for the margin, not for the message: SIZE says so at once;
        # without SIZE the data is read, then 451 for each recipient.
        self.fill(MARGIN + 256 * 1024)
        code, text = self.post("拒否SIZE", size=3 * 1024 * 1024,
            options=["SIZE=%d" % (3 * 1024 * 1024)])
        self.assertEqual(code, 452, text)
        replies = self.d.lmtp_send([LIST_ADDR, "meguro-request@"
            + LIST_DOMAIN], make_message(SENDER, LIST_ADDR, "拒否451",
            "z\n" + ("z" * 76 + "\n") * 40000), sender=SENDER)
        for rcpt, (code, text) in replies.items():
            self.assertEqual(code, 451, (rcpt, text))
            self.assertTrue(text.startswith("4.3.0"), text)
        r = self.receive("拒否75大", size=3 * 1024 * 1024)
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertEqual(os.listdir(os.path.join(self.spool, "tmp")), [])

        # A message stored while the daemon was down (there was room for
        # it), met by a full disk when the daemon starts.
        self.assertEqual(d.stop(), 0)
        os.unlink(self.filler)
        r = self.receive("停止中に受理")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.fill(0)
        d.start()
        wait_until(lambda: "waiting for space" in d.log(), 10,
            what="the processor to wait for space")
        time.sleep(3)
        # Waiting is not failing: no attempt counted (three would
        # quarantine it), the message still in new/.
        waiting = os.listdir(os.path.join(self.spool, "new"))
        self.assertEqual(len(waiting), 1)
        db = d.db()
        row = db.execute("SELECT attempts FROM processed WHERE id = ?",
            (waiting[0],)).fetchone()
        db.close()
        self.assertIn(row, (None, (0,)))
        self.assertEqual(os.listdir(os.path.join(self.spool,
            "quarantine")), [])
        self.assertTrue(d.running())

        # Space returns, the relay comes up: everything accepted goes
        # out once, nothing refused does, and new mail is taken again.
        os.unlink(self.filler)
        wait_until(lambda: "%s: meguro: post from" % waiting[0] in d.log(),
            10, what="the waiting message processed")
        code, text = self.post("回復後")
        self.assertEqual(code, 250, text)
        r = self.receive("回復後パイプ")
        self.assertEqual(r.returncode, 0, r.stderr)
        sink = Sink(port=self.relay_port)
        self.addCleanup(sink.close)
        accepted = ["受理1", "受理2", "停止中に受理", "回復後", "回復後パイプ"]

        def all_there(msgs):
            got = {}
            for m in msgs:
                got.setdefault(m.decoded_subject(), []).extend(m.rcpts)
            return all(sorted(got.get(s, [])) == self.members
                for s in accepted)
        try:
            d.ctl("flush")
            sink.wait_for(all_there, timeout=60)
        except TimeoutError:
            self.fail("accepted mail not delivered\n--- log ---\n"
                + d.log())
        time.sleep(1.5)
        subjects = [m.decoded_subject() for m in sink.messages()]
        self.assertEqual(sorted(subjects), sorted(accepted), subjects)
        self.assertEqual(os.listdir(os.path.join(self.spool,
            "quarantine")), [])
        self.assertEqual(os.listdir(os.path.join(self.spool, "tmp")), [])
        self.assertNotIn("quarantined", d.log())


if __name__ == "__main__":
    # automake counts exit 77 as SKIP: say so when nothing could run.
    prog = unittest.main(verbosity=2, exit=False)
    r = prog.result
    if r.skipped and len(r.skipped) == r.testsRun:
        print("SKIP: %s" % r.skipped[0][1])
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)
