#!/bin/sh
# validate.sh TOOL ARGS...: run a validator, or skip (exit 77) if it is missing.
tool="$1"
shift
if ! command -v "$tool" >/dev/null 2>&1; then
  echo "$tool is not installed: skipping"
  exit 77
fi
exec "$tool" "$@"
