#!/bin/sh
# tools/fuzz.sh [SECONDS] [TARGET...]: build the libFuzzer targets of tests/fuzz/
# (clang, AddressSanitizer + UndefinedBehaviorSanitizer, in build-fuzz/) and run
# each for SECONDS (default 60) from its seed corpus in tests/data/fuzz/TARGET/.
# Targets: json pth safetensors (default: all). Exits non-zero on any crash, leak,
# sanitizer report, timeout or out-of-memory; the input that did it is kept in
# build-fuzz/fuzz-artifacts/ — fix the bug, then add the input to
# tests/data/crashers/ so the engine suite replays it forever.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-json pth safetensors}
build=${FUZZ_BUILDDIR:-build-fuzz}

command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
if [ ! -f "$build/meson-private/coredata.dat" ]; then
  CC=clang meson setup "$build" \
    -Dfuzz=true -Dgui=false \
    --buildtype=debugoptimized \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args=-fno-sanitize-recover=all
fi
for t in $targets; do
  ninja -C "$build" "tests/fuzz/fuzz-$t"
done

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export G_SLICE=always-malloc OPENBLAS_NUM_THREADS=1
mkdir -p "$build/fuzz-artifacts"
status=0
summary=""
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"      # grows across runs; the seeds stay as committed
  mkdir -p "$corpus"
  dict=""
  [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
  log="$build/fuzz-$t.log"
  echo "== fuzz-$t: $secs s =="
  if "$build/tests/fuzz/fuzz-$t" $dict \
       -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$build/fuzz-artifacts/$t-" -print_final_stats=1 \
       "$corpus" "tests/data/fuzz/$t" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 60 "$log" >&2
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  summary="$summary
fuzz-$t: $result, ${runs:-?} executions in $secs s (log: $log)"
done
echo "$summary"
exit $status
