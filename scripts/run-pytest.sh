#!/usr/bin/env bash
# Runs the whole pytest suite on a virtual X screen (Xvfb) when one can be had, offscreen
# otherwise. pytest's exit 5 ("no tests ran") is a failure here, not a success.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p tests/artifacts
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null; then
  xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest "$@"
fi
status=$?
if [ "$status" -eq 5 ]; then
  echo "run-pytest: no tests were collected; that is a failure" >&2
  exit 1
fi
exit "$status"
