#!/usr/bin/python3
"""perrcpt - measure 2: per-recipient delivery to 10,000 members.

One post to a list of 10,000 members, each recipient in a transaction
of its own: recipients per second from the LMTP 250 to the last
recipient written into smtp-sink's dump.

mlserverd: with per-recipient VERP (bounce = { verp = "always"; }) when
the build knows that setting; otherwise with relay.max_recipients = 1,
the closest equivalent (one transaction per recipient, one envelope
sender); the table says which.  Beside it: smtp-source sending 10,000
one-recipient transactions over 4 sessions (what the sink takes; the
daemon gets relay.sessions = 4 too), and
mlmmj's default delivery (control/verp absent: per-recipient VERP),
which is slow enough that it is timed over its first
BENCH_MLMMJ_VERP_SECONDS seconds (default 30) only.
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (LIST_DOMAIN, Daemon, Mlmmj, RcptCounter,  # noqa: E402
    Sink, fill_members, lmtp_post, median, member, post_message, repeat,
    report, say, smtp_source, spread, write_msgfile, M)
import harness  # noqa: E402

N = int(os.environ.get("BENCH_PERRCPT_MEMBERS", "10000"))
MLMMJ_SECONDS = float(os.environ.get("BENCH_MLMMJ_VERP_SECONDS", "30"))
# smtp-source's sessions, and mlserverd's relay.sessions for the run (the
# daemon's default is 1; see README Performance).
SESSIONS = int(os.environ.get("BENCH_PERRCPT_SESSIONS", "4"))
VERP_CONFIG = {"bounce": {"verp": "always"}, "relay": {"sessions": SESSIONS}}


def has_verp():
    """Whether this mlserverd takes bounce.verp = "always"."""
    d = Daemon(1, config=VERP_CONFIG, start=False)
    try:
        return d.ctl("check").returncode == 0
    finally:
        d.close()


def run_mlserverd(verp):
    sink = Sink()
    if verp:
        d = Daemon(sink.port, config=VERP_CONFIG)
    else:
        d = Daemon(sink.port, max_recipients=1,
            config={"relay": {"sessions": SESSIONS}})
    try:
        fill_members(d.db_path, "meguro", N)
        c = RcptCounter(sink)
        post = "meguro@" + LIST_DOMAIN
        t0 = lmtp_post(d, post, post_message(member(0), post), member(0))
        t1 = c.wait(N, 600)
        if c.unique() != N:
            raise RuntimeError("sink has %d distinct recipients, not %d"
                % (c.unique(), N))
        first = sink.messages()[:2]
        if len(first[0].rcpts) != 1 or (verp and first[0].sender
                == first[1].sender):
            raise RuntimeError("not one transaction per recipient with "
                "its own sender: %r" % (first,))
        return N / (t1 - t0)
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
        t0, _ = smtp_source(sink.port, N, 1, SESSIONS, f, "u@" + M,
            member(0))
        t1 = c.wait(N, 120)
        return N / (t1 - t0)
    finally:
        sink.close()
        harness._rmtree(tmp)


def run_mlmmj():
    """mlmmj's default per-recipient VERP; (rate, recipients, seconds)."""
    sink = Sink()
    ml = Mlmmj(sink.port, N, verp=None)
    try:
        c = RcptCounter(sink)
        t0 = ml.post(post_message(member(0), "bench@" + LIST_DOMAIN),
            member(0))
        try:
            t1 = c.wait(N, MLMMJ_SECONDS)
            n = N
        except TimeoutError:
            n = c.poll()
            t1 = c.mtime()
        if n == 0:
            raise RuntimeError("mlmmj delivered nothing in %gs"
                % MLMMJ_SECONDS)
        return n / (t1 - t0), n, t1 - t0
    finally:
        ml.close()
        sink.close()


def main():
    verp = has_verp()
    rates = [run_mlserverd(verp) for _ in range(repeat())]
    say("perrcpt: mlserverd %s rcpt/s" % ", ".join("%.0f" % r
        for r in rates))
    mls = median(rates)
    src_runs = [run_smtp_source() for _ in range(repeat())]
    src = median(src_runs)
    say("perrcpt: smtp-source %s rcpt/s" % ", ".join("%.0f" % r
        for r in src_runs))
    mrate, mn, msec = run_mlmmj()
    say("perrcpt: mlmmj %d rcpt in %.1f s" % (mn, msec))
    what = "per-recipient delivery, %s members" % format(N, ",")
    how = ("per-recipient VERP (bounce.verp = always)" if verp else
        "no VERP in this build: relay.max_recipients = 1, the closest "
        "equivalent")
    report("2", what + ": mlserverd, %d sessions" % SESSIONS, int(mls),
        "rcpt/s", ">= 5,000",
        mls >= 5000, "%s; %s" % (how, spread(rates, "%.0f")))
    report("2", what + ": smtp-source, 1 rcpt/txn, %d sessions" % SESSIONS,
        int(src), "rcpt/s", note="what the sink takes; %s"
        % spread(src_runs, "%.0f"))
    report("2", what + ": mlmmj default VERP", round(mrate, 1), "rcpt/s",
        note="%d recipients in the first %.0f s" % (mn, msec))


if __name__ == "__main__":
    main()
