#!/usr/bin/env bash
# berth's main job at this stage: run a container from a starter bundle that berth makes itself
# from the host's busybox-static, with berth's own OCI runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "+ berth bundle $work/bundle echo hello from a berth container"
./bin/berth bundle "$work/bundle" sh -c 'echo hello from a berth container; echo "pid $$, hostname $(hostname), $(ls /sys/class/net | wc -l) network link(s)"' >/dev/null
echo "+ berth-runtime --root $work/state run demo-$$ --bundle $work/bundle"
./bin/berth-runtime --root "$work/state" run "demo-$$" --bundle "$work/bundle"
