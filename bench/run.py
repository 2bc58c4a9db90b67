#!/usr/bin/python3
"""run - every benchmark in bench/, one table.

Runs each measure's script in turn (fanout, perrcpt, ingest, memory,
commands; or those named on the command line), collects the JSON lines
they print and prints one table, with the machine it ran on.  Exits 1
if a script failed; a missed target is shown in the table, not an
error (the bench measures, the test suite judges).

Environment: top_builddir, top_srcdir (set by `make bench`);
BENCH_REPEAT (default 5: quick runs are repeated, the median counts);
BENCH_MLMMJ_VERP_SECONDS (default 30); BENCH_FANOUT_SESSIONS (10) and
BENCH_PERRCPT_SESSIONS (4), the SMTP sessions of smtp-source and
mlserverd's relay.sessions in 1 and 2; MLS_TEST_KEEP=1 keeps the
temporary directories.
"""

import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["fanout", "perrcpt", "ingest", "memory", "commands"]


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    disk = "?"
    try:
        cp = subprocess.run(["df", "-PT", os.environ.get("TMPDIR", "/tmp")],
            capture_output=True, text=True)
        dev, fstype = cp.stdout.splitlines()[1].split()[:2]
        name = os.path.basename(os.path.realpath(dev))
        disk = fstype
        jt = "/sys/fs/%s/%s/journal_task" % (fstype, name)
        if os.path.exists(jt):
            with open(jt) as f:
                if f.read().strip() == "<none>":
                    disk += " without a journal"
        disk += " on " + dev
        drv = "/sys/block/%s/device/driver" % name
        if os.path.exists(drv):
            disk += " (%s)" % os.path.basename(os.path.realpath(drv))
    except (OSError, IndexError, ValueError):
        pass
    return "%d CPUs, %s; /tmp on %s; Linux %s" % (os.cpu_count(), model,
        disk, platform.release())


def fmt(v):
    if isinstance(v, float) and v >= 100:
        v = int(round(v))
    if isinstance(v, int):
        return format(v, ",")
    return str(v)


def table(rows):
    head = ("#", "What", "Result", "Target", "Met", "Note")
    body = []
    for r in sorted(rows, key=lambda r: r["measure"]):
        met = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        body.append((r["measure"], r["what"], "%s %s" % (fmt(r["value"]),
            r["unit"]), r["target"], met, r["note"]))
    w = [max(len(head[i]), *(len(b[i]) for b in body)) if body
        else len(head[i]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w[i])
        for i, c in enumerate(cells)).rstrip()
    out = [line(head), line(["-" * x for x in w])]
    out += [line(b) for b in body]
    return "\n".join(out)


def main():
    names = sys.argv[1:] or SCRIPTS
    rows = []
    failed = []
    load = os.getloadavg()[0]
    start = time.time()
    for name in names:
        print("bench: %s ..." % name, file=sys.stderr, flush=True)
        t = time.time()
        cp = subprocess.run([sys.executable, os.path.join(HERE, name
            + ".py")], stdout=subprocess.PIPE, text=True)
        for line in cp.stdout.splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                print(line, file=sys.stderr)
        print("bench: %s: %s in %.0f s" % (name, "ok" if cp.returncode == 0
            else "FAILED (%d)" % cp.returncode, time.time() - t),
            file=sys.stderr, flush=True)
        if cp.returncode != 0:
            failed.append(name)
    print()
    print("mlserver benchmarks, %s (loopback; Postfix's smtp-sink as the "
        "relay, recipients counted from its dump)" % time.strftime(
        "%Y-%m-%d %H:%M %Z"))
    print("Machine: %s; load average %.2f at the start; %.0f s in all"
        % (machine(), load, time.time() - start))
    print()
    print(table(rows))
    if failed:
        print("\nFAILED: %s (see the messages above)" % ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
