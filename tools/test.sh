#!/bin/sh
# tools/test.sh [MESON-TEST-ARGS...]: install the Debian packages testing needs,
# build everything (release, in build/: programs, tests, benchmarks), and run
# the whole test suite (engine and ui) on a private X server (Xvfb) and D-Bus
# session. Exits non-zero if any test fails. test-stress runs for
# GRADLENS_STRESS_SECONDS (default 150) and prints its progress every 10 s in its
# log (meson test -v, or build/meson-logs/testlog.txt).
set -e
. "$(dirname "$0")/setup.sh"
gradlens_setup test

export GSK_RENDERER=cairo
exec xvfb-run -a -s "-screen 0 1600x1200x24" \
  dbus-run-session -- \
  meson test -C build --print-errorlogs "$@"
