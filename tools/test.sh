#!/bin/sh
# tools/test.sh [MESON-TEST-ARGS...]: install what is missing, build (release,
# in build/), and run the whole test suite (engine and ui) on a private X
# server (Xvfb) and D-Bus session. Exits non-zero if any test fails.
set -e
. "$(dirname "$0")/setup.sh"
gradlens_setup

export GSK_RENDERER=cairo
exec xvfb-run -a -s "-screen 0 1600x1200x24" \
  dbus-run-session -- \
  meson test -C build --print-errorlogs "$@"
