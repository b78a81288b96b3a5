#!/usr/bin/env bash
# berth's main job: run a container from an image. The image is the busybox starter image that
# berth makes itself from the host's busybox-static; state goes to a temporary root.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
berth() { ./bin/berth --root "$work/root" --runroot "$work/run" "$@"; }
# Everything of the temporary root goes, its default bridge and rules too.
trap 'berth system reset -f >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
run() { echo "+ berth $*"; berth "$@"; }
run starter
run images
run run --rm busybox echo hello
run run --rm -h demo busybox sh -c 'echo "pid $$ in $(hostname), network links: $(ls /sys/class/net | tr "\n" " ")"'
