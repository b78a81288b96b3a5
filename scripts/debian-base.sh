#!/usr/bin/env bash
# Makes a debian:bookworm base image locally: debootstrap (minbase) from the Debian mirror this
# host's apt is configured for, imported with `berth import`. Nothing is pulled from a registry.
#   scripts/debian-base.sh [TAG]      (default debian:bookworm; BERTH_ROOT/BERTH_RUNROOT as berth reads them)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-debian:bookworm}
berth=./bin/berth
if ! command -v debootstrap >/dev/null; then
  bash scripts/setup.sh --seed
fi
# The mirror: the first deb URI of the host's own apt sources.
mirror=$(grep -h -m1 -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -h -m1 -E '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
[ -n "$mirror" ] || { echo "debian-base: no Debian mirror in the host's apt sources" >&2; exit 1; }
work=$(mktemp -d /var/tmp/berth-debian-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debian-base: debootstrap bookworm from $mirror (a few minutes)"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/log" 2>&1 || { tail -20 "$work/log" >&2; exit 1; }
# As the official image: no package lists, and apt keeps no caches in the image's layers.
rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
cat > "$work/rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
tar -C "$work/rootfs" --numeric-owner -c . | $berth import --change 'CMD ["bash"]' - "$tag"
echo "debian-base: $tag"
