#!/usr/bin/env bash
# The seed example of the build issue: a Debian base image made locally (scripts/debian-base.sh),
# the Dockerfile in seed/ built with berth (RUN apt-get from the host's Debian mirror), the image
# run with its port 80 published on the host's loopback, and its page fetched from there: no
# traffic leaves the host but the package downloads.
#   npm run seed      (BERTH_ROOT/BERTH_RUNROOT as berth reads them)
set -euo pipefail
cd "$(dirname "$0")/.."
berth=./bin/berth
command -v curl >/dev/null || bash scripts/setup.sh --seed
if ! $berth image inspect debian:bookworm >/dev/null 2>&1; then bash scripts/debian-base.sh debian:bookworm; fi
echo "seed: berth build -t berth-seed:nginx seed/"
time $berth build --progress plain -t berth-seed:nginx seed/
$berth history berth-seed:nginx
name=berth-seed-$$
cleanup() { $berth rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
# Published on a free port of the host's loopback, and fetched from there.
$berth run -d --name "$name" -p 127.0.0.1::80 berth-seed:nginx >/dev/null
addr=$($berth port "$name" 80/tcp)
page=
for _ in $(seq 50); do
  page=$(curl -fsS "http://$addr/" 2>/dev/null) && break
  sleep 0.2
done
echo "seed: GET http://$addr/ (the container's port 80, published on the host's loopback):"
echo "$page"
echo "$page" | grep -q 'built by berth' || { echo "seed: FAILED: the page did not come back" >&2; $berth logs "$name" >&2 || true; exit 1; }
echo "seed: OK"
