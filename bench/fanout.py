#!/usr/bin/python3
"""fanout - measure 1: one post to 100,000 members, batches of 100.

mlserverd: time from the LMTP 250 for the post to the write of the last
recipient into smtp-sink's dump (relay.max_recipients = 100, and as many
SMTP sessions at once as smtp-source uses, relay.sessions = 10).  Beside
it the limit of the machine, smtp-source sending 100,000 recipients in
1,000 transactions of 100 over 10 sessions into the same kind of sink,
and Debian's mlmmj on the same addresses (control/verp empty,
control/maxverprecips 100).  Also reports mlserverd's peak RSS (VmHWM)
during its fan-out (measure 4).

The mlserverd and smtp-source runs are repeated BENCH_REPEAT times
(default 5) and the median is reported; mlmmj runs once.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (LIST_DOMAIN, Daemon, Mlmmj, RcptCounter,  # noqa: E402
    Sink, fill_members, lmtp_post, median, member, post_message, repeat,
    report, say, smtp_source, spread, vm_hwm, write_msgfile, M)
import harness  # noqa: E402

N = int(os.environ.get("BENCH_FANOUT_MEMBERS", "100000"))
BATCH = 100
# smtp-source's sessions, and mlserverd's relay.sessions for the run (the
# daemon's default is 1; see README Performance).
SESSIONS = int(os.environ.get("BENCH_FANOUT_SESSIONS", "10"))


def run_mlserverd(n=N):
    """One fan-out to n members; returns (seconds, peak RSS bytes)."""
    sink = Sink()
    d = Daemon(sink.port, max_recipients=BATCH,
        config={"relay": {"sessions": SESSIONS}})
    try:
        fill_members(d.db_path, "meguro", n)
        c = RcptCounter(sink)
        post = "meguro@" + LIST_DOMAIN
        msg = post_message(member(0), post)
        t0 = lmtp_post(d, post, msg, member(0))
        t1 = c.wait(n, 600)
        rss = vm_hwm(d.pid())
        if c.unique() != n:
            raise RuntimeError("sink has %d distinct recipients, not %d"
                % (c.unique(), n))
        return t1 - t0, rss
    finally:
        d.close()
        sink.close()


def run_smtp_source():
    sink = Sink()
    tmp = tempfile.mkdtemp(prefix="mls-bench-")
    try:
        c = RcptCounter(sink)
        f = write_msgfile(tmp, post_message(member(0), "meguro@"
            + LIST_DOMAIN))
        t0, _ = smtp_source(sink.port, N // BATCH, BATCH, SESSIONS, f,
            "u@" + M, member(0))
        t1 = c.wait(N, 120)
        return t1 - t0
    finally:
        sink.close()
        harness._rmtree(tmp)


def run_mlmmj():
    sink = Sink()
    ml = Mlmmj(sink.port, N, verp="", maxverprecips=BATCH)
    try:
        c = RcptCounter(sink)
        t0 = ml.post(post_message(member(0), "bench@" + LIST_DOMAIN),
            member(0))
        t1 = c.wait(N, 1800)
        return t1 - t0
    finally:
        ml.close()
        sink.close()


def main():
    runs = [run_mlserverd() for _ in range(repeat())]
    for t, rss in runs:
        say("fanout: mlserverd %.3f s, VmHWM %.1f MiB" % (t, rss / 2**20))
    mls_runs = [t for t, _ in runs]
    mls = median(mls_runs)
    rss = max(r for _, r in runs)
    src_runs = [run_smtp_source() for _ in range(repeat())]
    src = median(src_runs)
    say("fanout: smtp-source %s s" % ", ".join("%.3f" % t
        for t in src_runs))
    mlmmj = run_mlmmj()
    say("fanout: mlmmj %.3f s" % mlmmj)
    what = "fan-out, %s members, %d/txn" % (format(N, ","), BATCH)
    report("1", what + ": mlserverd, %d sessions" % SESSIONS, round(mls, 2),
        "s", note="%s rcpt/s; %s s" % (format(int(N / mls), ","),
        spread(mls_runs)))
    report("1", what + ": smtp-source, %d sessions (the limit)" % SESSIONS,
        round(src, 2), "s", note="%s rcpt/s; %s s" % (format(int(N / src),
        ","), spread(src_runs)))
    report("1", what + ": mlmmj %s" % mlmmj_version(), round(mlmmj, 1),
        "s", note="%s rcpt/s" % format(int(N / mlmmj), ","))
    report("1", "mlserverd time / smtp-source time", round(mls / src, 2),
        "x", "<= 2x", mls / src <= 2)
    report("1", "mlmmj time / mlserverd time", round(mlmmj / mls, 1), "x",
        ">= 20x", mlmmj / mls >= 20)
    report("4", "peak RSS of mlserverd during measure 1",
        round(rss / 2**20, 1), "MiB", "<= 32 MiB", rss <= 32 * 2**20)


def mlmmj_version():
    import subprocess
    cp = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "mlmmj"],
        capture_output=True, text=True)
    return cp.stdout.strip() or "?"


if __name__ == "__main__":
    main()
