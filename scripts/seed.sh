#!/usr/bin/env bash
# The seed example of the build issue: a Debian base image made locally (scripts/debian-base.sh),
# the Dockerfile in seed/ built with berth (RUN apt-get from the host's Debian mirror), the image
# run, and its page fetched over the container's own loopback (nsenter into its network
# namespace): no traffic leaves the host but the package downloads.
#   npm run seed      (BERTH_ROOT/BERTH_RUNROOT as berth reads them)
set -euo pipefail
cd "$(dirname "$0")/.."
berth=./bin/berth
if ! $berth image inspect debian:bookworm >/dev/null 2>&1; then bash scripts/debian-base.sh debian:bookworm; fi
echo "seed: berth build -t berth-seed:nginx seed/"
time $berth build --progress plain -t berth-seed:nginx seed/
$berth history berth-seed:nginx
name=berth-seed-$$
cleanup() { $berth rm -f "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
$berth run -d --name "$name" --network none berth-seed:nginx >/dev/null
pid=$($berth inspect --format '{{.State.Pid}}' "$name")
# berth's --network none does not bring the loopback interface up yet (the networking issue will).
nsenter -t "$pid" -n ip link set lo up
page=
for _ in $(seq 50); do
  page=$(nsenter -t "$pid" -n busybox wget -q -O - http://127.0.0.1/ 2>/dev/null) && break
  sleep 0.2
done
echo "seed: GET http://127.0.0.1/ inside the container's network namespace:"
echo "$page"
echo "$page" | grep -q 'built by berth' || { echo "seed: FAILED: the page did not come back" >&2; $berth logs "$name" >&2 || true; exit 1; }
echo "seed: OK"
