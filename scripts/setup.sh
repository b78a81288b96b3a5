#!/usr/bin/env bash
# Installs what berth needs on a Debian host, then its npm dependencies and its build.
#   scripts/setup.sh [--for demo|test]          install what that path needs (default: test)
#   scripts/setup.sh --ensure [--for demo|test] the same, quietly, doing only what is missing
#   scripts/setup.sh --list demo|test           print the Debian packages that path ensures, one a
#                                               line, and install nothing
#   scripts/setup.sh --seed                     also debootstrap, for the seed example (npm run seed)
# `npm run demo` ensures only what berth itself uses; `npm test` and `npm run bench` also the tools
# berth is tested and measured against.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
seed=0
for_path=test
list=
while [ $# -gt 0 ]; do
  case "$1" in
    --ensure) quiet=1 ;;
    --seed) seed=1 ;;
    --for) for_path="${2-}"; shift ;;
    --list) list="${2-}"; shift ;;
    *) echo "setup: unknown argument \"$1\" (--ensure, --for demo|test, --list demo|test, --seed)" >&2; exit 2 ;;
  esac
  shift
done
say() { [ $quiet = 1 ] || echo "setup: $*"; }

# What berth itself uses: busybox-static for the starter image; iproute2 and nftables (iptables
# where nftables cannot be used) for networks; gcc, make and libc6-dev to build the C helper.
BERTH_PKGS=(busybox-static iproute2 nftables iptables make gcc libc6-dev)
# What its tests and benchmarks use besides: the anchors berth is measured and checked against
# (crun, runc, podman with conmon, docker.io, skopeo), uidmap for podman's user namespaces, zstd for
# test layers, hyperfine and iperf3 for the benchmarks, bpftool to look at the socket programs berth
# attaches for published ports, docker-registry (distribution 2.8) for the registry client's tests
# (they start their own on 127.0.0.1; the package's own service is not wanted running).
TEST_PKGS=(zstd crun runc podman conmon skopeo uidmap hyperfine docker.io iperf3 bpftool docker-registry)

packages() {
  case "$1" in
    demo) printf '%s\n' "${BERTH_PKGS[@]}" ;;
    test) printf '%s\n' "${BERTH_PKGS[@]}" "${TEST_PKGS[@]}" ;;
    *) echo "setup: unknown path \"$1\" (demo or test)" >&2; return 2 ;;
  esac
}
if [ -n "$list" ]; then
  packages "$list"
  exit 0
fi
mapfile -t PKGS < <(packages "$for_path")
[ $seed = 1 ] && PKGS+=(debootstrap curl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's docker-registry enables (and may start) a service on :5000: the tests start their own.
  if printf '%s\n' "${missing[@]}" | grep -qx docker-registry && command -v systemctl >/dev/null; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
fi

# Docker's default seccomp profile, as the installed docker.io was built with it, for the test that
# holds berth's defaults against Docker's: taken from Debian's package of moby's sources
# (golang-github-docker-docker-dev, the same version) without installing it, which would bring
# some 260 Go library packages. Kept under .setup/ (not in git).
docker_profile=.setup/docker-default-seccomp.json
if [ "$for_path" = test ] && [ ! -s "$docker_profile" ] && [ "$(id -u)" = 0 ]; then
  say "extracting Docker's default seccomp profile"
  dl=$(mktemp -d)
  chmod 755 "$dl"
  if ! (cd "$dl" && apt-get download -qq golang-github-docker-docker-dev >/dev/null 2>&1); then
    apt-get update -qq
    (cd "$dl" && apt-get download -qq golang-github-docker-docker-dev >/dev/null 2>&1) || true
  fi
  mkdir -p .setup
  if ls "$dl"/*.deb >/dev/null 2>&1 && dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -xO ./usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json > "$docker_profile.tmp" 2>/dev/null && [ -s "$docker_profile.tmp" ]; then
    mv "$docker_profile.tmp" "$docker_profile"
  else
    rm -f "$docker_profile.tmp"
    echo "setup: could not get Docker's default seccomp profile (golang-github-docker-docker-dev): its comparison test will skip" >&2
  fi
  rm -rf "$dl"
fi

if [ ! -d node_modules/esbuild ] || [ ! -d node_modules/typescript ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
# The build is incremental for the C helper and takes a fraction of a second for the bundles.
node scripts/build.mjs
say "done"
