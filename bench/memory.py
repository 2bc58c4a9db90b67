#!/usr/bin/python3
"""memory - measure 4: mlserverd's peak RSS against the list's size.

The fan-out of measure 1 (batches of 100) on a fresh daemon with 10,000
and then 100,000 members; the peak resident set (VmHWM from
/proc/PID/status) once the last recipient is at the sink.  The queue
streams rows from SQLite batch by batch, so the peak should not follow
the list: "flat" here means the 100,000-member peak exceeds the
10,000-member one by at most 25% or 4 MiB.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import report, say  # noqa: E402
import fanout  # noqa: E402


def main():
    small = fanout.run_mlserverd(10000)[1]
    big = fanout.run_mlserverd(100000)[1]
    say("memory: VmHWM %.1f MiB at 10,000, %.1f MiB at 100,000"
        % (small / 2**20, big / 2**20))
    report("4", "peak RSS of mlserverd, 10,000 members",
        round(small / 2**20, 1), "MiB", "<= 32 MiB", small <= 32 * 2**20)
    flat = big <= small * 1.25 or big - small <= 4 * 2**20
    report("4", "peak RSS of mlserverd, 100,000 members",
        round(big / 2**20, 1), "MiB", "<= 32 MiB, flat",
        big <= 32 * 2**20 and flat,
        "+%.1f MiB for 10x the members" % ((big - small) / 2**20))


if __name__ == "__main__":
    main()
