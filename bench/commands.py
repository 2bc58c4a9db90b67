#!/usr/bin/python3
"""commands - measure 5: 10,000 subscribe mails to LIST-request.

10,000 people each send "subscribe" to setagaya-request@ (4 concurrent
LMTP connections, pipelined); each must get its confirmation request.
Total time: from the first LMTP command to the write of the last
confirmation into smtp-sink's dump.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import (LIST_DOMAIN, Daemon, RcptCounter, Sink,  # noqa: E402
    make_message, report, say, send_many, M)

N = int(os.environ.get("BENCH_COMMANDS", "10000"))


def run():
    sink = Sink()
    d = Daemon(sink.port)
    try:
        c = RcptCounter(sink)
        req = "setagaya-request@" + LIST_DOMAIN
        items = []
        for i in range(N):
            s = "s%06d@%s" % (i, M)
            m = make_message(s, req, "subscribe", "subscribe\n")
            items.append((s, req, re.sub(rb"(?m)^\.", b"..", m)))
        t0, t1 = send_many(d.port, items, 4)
        say("commands: %d sent in %.2f s" % (N, t1 - t0))
        te = c.wait(N, 900)
        say("commands: last confirmation after %.2f s" % (te - t0))
        if c.unique() != N:
            raise RuntimeError("%d distinct people answered, not %d"
                % (c.unique(), N))
        m = sink.messages()[0]
        if "setagaya-confirm+" not in (m.header("Reply-To") or ""):
            raise RuntimeError("not a confirmation request: %r" % (m,))
        return te - t0, t1 - t0
    finally:
        d.close()
        sink.close()


def main():
    total, sent = run()
    report("5", "%s subscribe mails -> confirmations at the sink"
        % format(N, ","), round(total, 1), "s", "<= 10 s", total <= 10,
        "all sent (LMTP 250) after %.1f s" % sent)


if __name__ == "__main__":
    main()
