#!/usr/bin/env bash
# Installs what berth needs on a Debian host, then its npm dependencies and its build.
#   scripts/setup.sh            install everything (Debian packages, npm dependencies, build)
#   scripts/setup.sh --ensure   the same, quietly, doing only what is missing (npm pre-scripts)
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0
seed=0
[ "${1-}" = "--ensure" ] && quiet=1
# --seed: also debootstrap, which scripts/debian-base.sh (npm run seed) uses to make a Debian base.
[ "${1-}" = "--seed" ] && seed=1
say() { [ $quiet = 1 ] || echo "setup: $*"; }

# busybox-static: the starter image. gcc/make/libc6-dev: the C helper. iproute2, nftables and
# iptables: networking. crun, runc, podman (with conmon), docker.io, skopeo, hyperfine: the anchors
# berth is measured and checked against. uidmap: podman's user namespaces. zstd: test layers.
# bpftool: tests look at the socket programs berth attaches for published ports.
PKGS=(busybox-static zstd make gcc libc6-dev iproute2 nftables iptables crun runc podman conmon skopeo uidmap hyperfine docker.io iperf3 bpftool)
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
fi

# podman without systemd: cgroupfs, file events, and this host's hard nofile limit.
# Podman asks for nofile and nproc limits of 1048576, above this kind of host's hard limits.
if command -v podman >/dev/null && ! grep -qs nproc /etc/containers/containers.conf.d/berth-host.conf && [ "$(id -u)" = 0 ]; then
  if ! pidof systemd >/dev/null 2>&1; then
    mkdir -p /etc/containers/containers.conf.d
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    # conmon runs the OCI runtime with nproc lowered to 32768 here
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    cat > /etc/containers/containers.conf.d/berth-host.conf <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    say "wrote /etc/containers/containers.conf.d/berth-host.conf (podman without systemd)"
  fi
fi

if [ ! -d node_modules/esbuild ] || [ ! -d node_modules/typescript ]; then
  say "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error >/dev/null
fi
# The build is incremental for the C helper and takes a fraction of a second for the bundles.
node scripts/build.mjs
say "done"
