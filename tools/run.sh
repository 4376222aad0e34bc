#!/bin/sh
# tools/run.sh [ARGS...]: install what is missing, build (release, in build/),
# and start GradLens. Fast when nothing changed.
set -e
. "$(dirname "$0")/setup.sh"
gradlens_setup

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "run: no display (DISPLAY/WAYLAND_DISPLAY unset); try: xvfb-run -a $0" >&2
  exit 1
fi
# GtkApplication wants a session bus; give it a private one if there is none.
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null 2>&1; then
  exec dbus-run-session -- build/app/gradlens "$@"
fi
exec build/app/gradlens "$@"
