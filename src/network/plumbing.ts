/**
 * The kernel side: bridges, a persistent network namespace per container (a file under the run
 * directory on which the namespace is bind-mounted, so it outlives no process and needs none), and
 * a veth pair per attachment: the host end on the bridge, the other end renamed eth0.. inside the
 * namespace with its address, MAC, MTU and routes. Each step is one shell script run by one spawn.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { internal, unavailable } from '../lib/errors.js';
import { execTool, haveTool } from '../sys/exec.js';
import { mask, parseIPv4 } from './cidr.js';
import { addBridgeRules, firewallBackend, removeBridgeRules } from './firewall.js';

export interface BridgeConfig {
  name: string;
  subnet: string;
  gateway: string;
  prefix: number;
  mtu: number;
  internal: boolean;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function sh(script: string, what: string): void {
  const r = execTool('sh', ['-ec', script]);
  if (r.status === 0) return;
  // The scripts are ip and tc commands: a host without them is told which package brings them.
  if (!haveTool('ip')) throw unavailable(`${what}: the ip command is missing (install the Debian package iproute2)`);
  throw internal(`${what}: ${r.stderr.trim().split('\n').pop() || `exit ${r.status}`}`);
}

export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

function writeSysctl(path: string, value: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
  } catch (e) {
    throw internal(`setting ${path} to ${value}: ${(e as Error).message}`);
  }
}

/** Makes the bridge (addressed with the gateway, up) and its firewall elements, when missing. */
export function ensureBridge(b: BridgeConfig): void {
  if (!linkExists(b.name)) {
    try {
      sh(
        [`ip link add ${q(b.name)} type bridge`, `ip link set ${q(b.name)} mtu ${b.mtu}`, `ip addr add ${b.gateway}/${b.prefix} dev ${q(b.name)}`, `ip link set ${q(b.name)} up`].join('\n'),
        `creating bridge ${b.name}`,
      );
      // 127.0.0.1:PORT on the host, DNAT'ed to a container, leaves through the bridge.
      writeSysctl(`/proc/sys/net/ipv4/conf/${b.name}/route_localnet`, '1');
      // Forwarding, for masqueraded traffic out; not without a firewall (nothing would keep the
      // networks apart then).
      if (!b.internal && firewallBackend() !== 'none') writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
    } catch (e) {
      execTool('ip', ['link', 'del', b.name]);
      throw e;
    }
  }
  try {
    addBridgeRules({ bridge: b.name, subnet: b.subnet, gateway: b.gateway, internal: b.internal });
  } catch (e) {
    execTool('ip', ['link', 'del', b.name]);
    throw e;
  }
}

export function removeBridge(b: Pick<BridgeConfig, 'name' | 'subnet' | 'gateway' | 'internal'>): void {
  execTool('ip', ['link', 'del', b.name]);
  removeBridgeRules({ bridge: b.name, subnet: b.subnet, gateway: b.gateway, internal: b.internal });
}

function isMounted(path: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
  } catch {
    return false;
  }
}

/**
 * A new network namespace bound on `path` (nothing when it is there already). Where the directory
 * sits on a shared mount the bind cannot be made; then the directory becomes a private mount of
 * itself first, as `ip netns` does with /run/netns.
 */
export function createNetns(path: string): void {
  if (isMounted(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
  let r = execTool('unshare', [`--net=${path}`, 'true']);
  if (r.status !== 0) {
    const dir = dirname(path);
    if (!isMounted(dir)) execTool('mount', ['--bind', dir, dir]);
    execTool('mount', ['--make-private', dir]);
    r = execTool('unshare', [`--net=${path}`, 'true']);
  }
  if (r.status !== 0) throw internal(`creating the network namespace ${path}: ${r.stderr.trim()}`);
}

export function deleteNetns(path: string): void {
  if (isMounted(path)) execTool('umount', ['-l', path]);
  execTool('rm', ['-f', path]);
}

export interface Endpoint {
  /** the host end, on the bridge */
  hostVeth: string;
  /** eth0, eth1, ... in the container */
  ifname: string;
  bridge: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  mtu: number;
  /** the container's default route goes through this one (its first non-internal network) */
  defaultRoute: boolean;
}

/**
 * The same-network shortcut of an endpoint: a tc filter, in a block shared by the host ends of
 * the bridge's veths, that sends IPv4 packets for the container's address straight to its host
 * end (mirred redirect) instead of through the bridge. Packets between containers of one network
 * then skip the bridge and, where br_netfilter is loaded (bridge-nf-call-iptables=1, as docker and
 * podman leave it), the IP hooks it would pass them through: that costs bridged traffic 10-20%
 * of its throughput here. Only unicast IPv4 to a container's own address takes it; ARP,
 * broadcasts and traffic to the gateway or beyond still cross the bridge, and nothing berth
 * filters is skipped (networks are isolated at routing, between bridges). The block is the
 * bridge's ifindex; the filter's place (prio, u32 item) follows from the address's host part, so
 * removing it needs no lookup and a stale one (after a crash) is replaced, not duplicated.
 */
export interface Shortcut {
  block: number;
  prio: number;
  handle: string;
}

function shortcutOf(e: Endpoint): Shortcut | undefined {
  const ip = parseIPv4(e.ip);
  let block: number;
  try {
    block = Number(readFileSync(`/sys/class/net/${e.bridge}/ifindex`, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (ip === undefined || !(block > 0)) return undefined;
  const host = (ip & ~mask(e.prefix)) >>> 0;
  // u32 items are 1..0xfff within one prio: 4095 addresses per prio.
  return { block, prio: 1 + Math.floor(host / 4095), handle: `800::${(1 + (host % 4095)).toString(16)}` };
}

const shortcutDel = (s: Shortcut) => `filter del block ${s.block} protocol ip prio ${s.prio} handle ${s.handle} u32`;

/** A veth pair from the bridge into the namespace, addressed and up; returns its shortcut, if set. */
export function attachEndpoint(netns: string, e: Endpoint): Shortcut | undefined {
  const inside = ['link set lo up', `addr add ${e.ip}/${e.prefix} dev ${e.ifname}`, `link set ${e.ifname} up`];
  if (e.defaultRoute) inside.push(`route add default via ${e.gateway} dev ${e.ifname}`);
  const cut = shortcutOf(e);
  const tc = cut
    ? [
        `qdisc add dev ${e.hostVeth} ingress_block ${cut.block} clsact`,
        `filter replace block ${cut.block} protocol ip prio ${cut.prio} handle ${cut.handle} u32 match ip dst ${e.ip}/32 action mirred egress redirect dev ${e.hostVeth}`,
      ]
    : [];
  try {
    sh(
      [
        `ip link add ${q(e.hostVeth)} mtu ${e.mtu} master ${q(e.bridge)} up type veth peer name ${q(e.ifname)} mtu ${e.mtu} address ${e.mac} netns ${q(netns)}`,
        // hairpin: a container reaching its own published port through the host comes back
        `ip link set dev ${q(e.hostVeth)} type bridge_slave hairpin on`,
        `nsenter --net=${q(netns)} ip -batch - <<'EOF'\n${inside.join('\n')}\nEOF`,
        // The shortcut is an optimisation: without tc (or u32/mirred in the kernel) the bridge
        // carries everything, as before.
        ...(tc.length ? [`tc -batch - <<'EOF' 2>/dev/null || true\n${tc.join('\n')}\nEOF`] : []),
      ].join('\n'),
      `connecting ${e.ifname} (${e.ip}) to bridge ${e.bridge}`,
    );
  } catch (err) {
    if (cut) execTool('tc', shortcutDel(cut).split(' '));
    execTool('ip', ['link', 'del', e.hostVeth]);
    throw err;
  }
  return cut;
}

/** Removes an endpoint's veth pair, and first its shortcut (its address may go to another). */
export function detachEndpoint(hostVeth: string, cut?: Shortcut): void {
  if (cut) execTool('tc', shortcutDel(cut).split(' '));
  if (linkExists(hostVeth)) execTool('ip', ['link', 'del', hostVeth]);
}
