#!/bin/sh
# tools/run.sh [ARGS...]: start GradLens from this tree. Checks for a display
# first, installs the Debian packages running needs, builds the two programs
# (build/app/gradlens and build/app/gradlens-cli, release, in build/; not the
# tests or benchmarks), and starts the window with ARGS. Fast when nothing changed.
#
# Without a session bus it gives the application a private one (dbus-run-session).
# A SIGTERM, SIGINT or SIGHUP sent to this script's process reaches the
# application as SIGTERM; its exit then ends the bus and what was started on it.
set -e

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display (DISPLAY and WAYLAND_DISPLAY are unset); without one, try:" >&2
  echo "run:   xvfb-run -a $0    (Debian package xvfb)" >&2
  exit 1
fi

. "$(dirname "$0")/setup.sh"
gradlens_setup run app/gradlens app/gradlens-cli
# The translations of this build (build/po/LANG/LC_MESSAGES), not installed ones.
export GRADLENS_LOCALEDIR="${GRADLENS_LOCALEDIR:-$PWD/build/po}"

# A session bus exists: the application is this process, signals reach it as they are.
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || ! command -v dbus-run-session >/dev/null 2>&1; then
  exec build/app/gradlens "$@"
fi

# No session bus: dbus-run-session starts one and the application on it, and stops
# the bus when the application exits; but a signal sent to dbus-run-session kills
# it alone, leaving the application and the bus (with at-spi-bus-launcher) running.
# So this shell stays, and sends SIGTERM to the application (dbus-run-session's
# child named gradlens; its other child is the bus). SIGTERM, not the signal
# received: a command started with & from a script ignores SIGINT.
dbus-run-session -- build/app/gradlens "$@" &
session=$!

forward () {
  pkill -TERM -x -P "$session" gradlens 2>/dev/null || true
}
trap forward TERM INT HUP

# wait returns early when a trapped signal arrives: wait again for the real exit.
status=0
while kill -0 "$session" 2>/dev/null; do
  wait "$session" && status=0 || status=$?
done
exit "$status"
