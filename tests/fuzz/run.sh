#!/bin/sh
# run.sh - build the libFuzzer targets and run each for a given time.
#
#   make fuzz [FUZZ_SECONDS=600] [FUZZ_JOBS=2] [FUZZ_TARGETS="message addr"]
#
# which calls
#
#   sh tests/fuzz/run.sh SRCDIR BUILDDIR LIBRARY_SOURCES...
#
# with CPPFLAGS and LIBS from the Makefile.  The library's sources are
# compiled again with clang -fsanitize=fuzzer-no-link,address,undefined
# (so coverage guides through our code; the system libraries are not
# instrumented), each target links them with -fsanitize=fuzzer.  Each
# target runs FUZZ_SECONDS, FUZZ_JOBS at a time, starting from the seeds
# in SRCDIR/tests/fuzz/corpus/NAME/ and a working corpus in
# BUILDDIR/tests/fuzz/work/NAME/ (kept between runs, never committed).
# A crashing input is written to BUILDDIR/tests/fuzz/crashes/NAME/; once
# the bug is fixed, copy it into the seed corpus, where tests/fuzz_replay
# (make check) replays it for good.  Needs clang and libclang-rt-14-dev
# (sh tests/fuzz/deps.sh installs them).  Prints executions and crashes
# per target and exits 1 if any target crashed.
set -u

srcdir=$1
builddir=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-"message command addr config encword ical"}
CC=${FUZZ_CC:-clang}
out=$builddir/tests/fuzz
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
# -D_GNU_SOURCE: what configure's AC_USE_SYSTEM_EXTENSIONS gives the build.
flags="-g -O1 -fno-omit-frame-pointer $san -std=gnu11 -pthread -D_GNU_SOURCE"

if [ "${1:-}" = "--run-one" ]; then
	name=$2
	mkdir -p "$out/work/$name" "$out/crashes/$name"
	log=$out/$name.log
	# -timeout: a single input slower than this is a bug (a hang).
	# -rss_limit_mb: the default 2 GB; -max_len: room for big headers.
	LSAN_OPTIONS=suppressions=$srcdir/tests/lsan.supp \
	"$out/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
	    -max_len=65536 -print_final_stats=1 -detect_leaks=1 \
	    -artifact_prefix="$out/crashes/$name/" \
	    $( [ -f "$srcdir/tests/fuzz/$name.dict" ] &&
	        echo "-dict=$srcdir/tests/fuzz/$name.dict" ) \
	    "$out/work/$name" "$srcdir/tests/fuzz/corpus/$name" \
	    >"$log" 2>&1
	echo "$?" >"$out/$name.rc"
	exit 0
fi

if ! command -v "$CC" >/dev/null 2>&1; then
	echo "fuzz: $CC not found: run sh tests/fuzz/deps.sh" >&2
	exit 77
fi
mkdir -p "$out/obj"
objs=""
for src in "$@"; do
	case $src in *.c) ;; *) continue ;; esac
	if [ -f "$builddir/$src" ]; then f=$builddir/$src; else f=$srcdir/$src; fi
	o=$out/obj/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')
	if [ ! -f "$o" ] || [ "$f" -nt "$o" ]; then
		# shellcheck disable=SC2086
		$CC $flags -fsanitize=fuzzer-no-link ${CPPFLAGS:-} -c "$f" \
		    -o "$o" || exit 1
	fi
	objs="$objs $o"
done
for name in $targets; do
	# shellcheck disable=SC2086
	$CC $flags -fsanitize=fuzzer ${CPPFLAGS:-} \
	    -I"$srcdir/tests/fuzz" "$srcdir/tests/fuzz/fuzz_$name.c" $objs \
	    ${LIBS:-} -o "$out/fuzz_$name" || exit 1
done
[ "$seconds" -gt 0 ] || exit 0

echo "fuzz: $targets, ${seconds}s each, $jobs at a time"
# shellcheck disable=SC2086
printf '%s\n' $targets | xargs -P "$jobs" -I{} \
    sh "$0" "$srcdir" "$builddir" --run-one {}

status=0
printf '%-8s %14s %10s %8s %s\n' target executions exec/s crashes corpus
for name in $targets; do
	log=$out/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	crashes=$(find "$out/crashes/$name" -type f | wc -l)
	corpus=$(find "$out/work/$name" -type f | wc -l)
	rc=$(cat "$out/$name.rc" 2>/dev/null || echo '?')
	printf '%-8s %14s %10s %8s %s\n' "$name" "${execs:-?}" "${speed:-?}" \
	    "$crashes" "$corpus"
	if [ "$rc" != 0 ]; then
		status=1
		echo "--- $name exited $rc; the end of $log:"
		tail -n 40 "$log"
	fi
done
exit $status
