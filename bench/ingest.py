#!/usr/bin/python3
"""ingest - measure 3: 2,000 messages of 4 KB from 4 concurrent clients.

The same client, smtp-source (-s 4 -m 2000 -d, the message from a
file), sends to mlserverd over LMTP and to a private Postfix's smtpd
over SMTP; messages per second is 2,000 over smtp-source's wall-clock
time.  Both put every message on the same disk with fsync before the
250: mlserverd its spool file and spool/new (always), Postfix its queue
file (cleanup's default).  Each server carries on with its own work at
the same time, as it would in service: mlserverd processes the posts
(an open list without members), Postfix relays them by LMTP to an
smtp-sink (the README's set-up, with the sink in mlserverd's place).
"""

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (LIST_DOMAIN, Daemon, Postfix, Sink, median,  # noqa: E402
    member, post_message, repeat, report, say, smtp_source, spread,
    write_msgfile)
import harness  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_INGEST_MESSAGES", "2000"))
CLIENTS = 4


def msgfile(tmp):
    return write_msgfile(tmp, post_message(member(0), "meguro@"
        + LIST_DOMAIN, size=4096))


def run_mlserverd(tmp):
    sink = Sink()
    d = Daemon(sink.port)
    try:
        t0, t1 = smtp_source(d.port, MESSAGES, 1, CLIENTS, msgfile(tmp),
            "meguro@" + LIST_DOMAIN, member(0), lmtp=True)
        stored = d.log().count("(lmtp)")
        if stored < MESSAGES:
            raise RuntimeError("mlserverd logged %d stored messages, not %d"
                % (stored, MESSAGES))
        return MESSAGES / (t1 - t0)
    finally:
        d.close()
        sink.close()


def run_postfix(tmp):
    sink = Sink(lmtp=True)
    pf = Postfix(sink.port)
    try:
        t0, t1 = smtp_source(pf.smtp_port, MESSAGES, 1, CLIENTS,
            msgfile(tmp), "meguro@" + LIST_DOMAIN, member(0))
        return MESSAGES / (t1 - t0)
    finally:
        pf.close()
        sink.close()


def main():
    tmp = tempfile.mkdtemp(prefix="mls-bench-")
    try:
        mls, pf = [], []
        for _ in range(repeat()):
            mls.append(run_mlserverd(tmp))
            pf.append(run_postfix(tmp))
        say("ingest: mlserverd %s msg/s; postfix %s msg/s" % (
            ", ".join("%.0f" % r for r in mls),
            ", ".join("%.0f" % r for r in pf)))
    finally:
        harness._rmtree(tmp)
    m, p = median(mls), median(pf)
    what = "ingest, %s x 4 KB, %d clients, fsync" % (format(MESSAGES, ","),
        CLIENTS)
    report("3", what + ": mlserverd (LMTP)", int(m), "msg/s",
        ">= Postfix", m >= p, spread(mls, "%.0f"))
    report("3", what + ": Postfix smtpd into its queue", int(p), "msg/s",
        note=spread(pf, "%.0f"))


if __name__ == "__main__":
    main()
