/**
 * berth's packet filtering and NAT: one nftables table (`table ip berth`) whose chains never
 * change; networks and published ports are elements of its sets and maps, so adding and
 * removing them is one atomic `nft -f -` batch, and removal never needs a rule handle.
 *
 *  - masq_nets: subnets whose traffic leaving through a non-berth interface is masqueraded;
 *  - same_bridge: "br . br" for every bridge; forwarding between two different berth bridges is
 *    dropped (networks are isolated), and an internal bridge forwards only within itself;
 *  - nets and gateways: traffic from container to container is not tracked: with br_netfilter
 *    loaded (bridge-nf-call-iptables=1, as podman and docker leave it) bridged packets pass the
 *    IP hooks, and conntrack would cost them a third of their throughput; nothing berth does to
 *    them needs state (isolation is stateless), and traffic to or from a gateway (the host: DNS,
 *    NAT'ed ports) is tracked as usual;
 *  - tcp_ports/udp_ports (and *_ip, keyed by host address too): published ports, DNAT'ed for
 *    traffic to any local address, from outside (prerouting) and from the host itself (output,
 *    including 127.0.0.1 thanks to route_localnet on the bridges and the masquerade below).
 */
import { failedPrecondition, internal } from '../lib/errors.js';
import { execTool, haveTool } from '../sys/exec.js';
import { iptablesAddBridge, iptablesAddPorts, iptablesEnsure, iptablesList, iptablesRemoveBridge, iptablesRemovePorts } from './firewall-iptables.js';
import type { PortMapping } from './ports.js';

export const TABLE = 'ip berth';
/** Every berth bridge's name starts with this. */
export const BRIDGE_PREFIX = 'berth';

const TABLE_TEXT = `table ${TABLE} {
  set masq_nets { type ipv4_addr; flags interval; }
  set nets { type ipv4_addr; flags interval; }
  set gateways { type ipv4_addr; }
  set bridges { type ifname; }
  set same_bridge { type ifname . ifname; }
  set internal_bridges { type ifname; }
  map tcp_ports { type inet_service : ipv4_addr . inet_service; }
  map udp_ports { type inet_service : ipv4_addr . inet_service; }
  map tcp_ports_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
  map udp_ports_ip { type ipv4_addr . inet_service : ipv4_addr . inet_service; }
  chain raw { type filter hook prerouting priority raw; policy accept;
    ip saddr @nets ip daddr @nets ip saddr != @gateways ip daddr != @gateways notrack
  }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; fib daddr type local jump ports; }
  chain output { type nat hook output priority -100; policy accept; fib daddr type local jump ports; }
  chain ports {
    meta l4proto tcp dnat ip addr . port to ip daddr . tcp dport map @tcp_ports_ip
    meta l4proto udp dnat ip addr . port to ip daddr . udp dport map @udp_ports_ip
    meta l4proto tcp dnat ip addr . port to tcp dport map @tcp_ports
    meta l4proto udp dnat ip addr . port to udp dport map @udp_ports
  }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    ip saddr 127.0.0.0/8 oifname "${BRIDGE_PREFIX}*" masquerade
    ct status dnat ip saddr @nets oifname "${BRIDGE_PREFIX}*" masquerade
    ip saddr @masq_nets oifname != "${BRIDGE_PREFIX}*" masquerade
  }
  chain forward { type filter hook forward priority filter; policy accept;
    iifname @bridges oifname @bridges iifname . oifname != @same_bridge drop
    iifname @internal_bridges iifname . oifname != @same_bridge drop
    oifname @internal_bridges iifname . oifname != @same_bridge drop
  }
}
`;

export type FirewallBackend = 'nftables' | 'iptables' | 'none';

let backendCache: FirewallBackend | undefined;
/**
 * Which tool berth drives: nftables when `nft` is there, else iptables (firewall-iptables.ts),
 * else none: then nothing is masqueraded or isolated by berth (it leaves ip_forward as the host
 * has it), and published ports go through a userland proxy (proxy-server.ts).
 * BERTH_FIREWALL=nftables|iptables|none chooses.
 */
export function firewallBackend(): FirewallBackend {
  if (backendCache) return backendCache;
  const want = process.env.BERTH_FIREWALL;
  if (want === 'nftables' || want === 'iptables' || want === 'none') return (backendCache = want);
  return (backendCache = haveTool('nft') ? 'nftables' : haveTool('iptables') && haveTool('iptables-restore') ? 'iptables' : 'none');
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * One `nft -f -` batch. Another process changing the rule set at the same moment (any engine's,
 * or another berth's) can make a batch fail with a transient error: tried again a few times.
 */
function nft(text: string): { ok: boolean; err: string } {
  let err = '';
  for (let i = 0; i < 6; i++) {
    const r = execTool('nft', ['-f', '-'], text);
    if (r.status === 0) return { ok: true, err: '' };
    const lines = r.stderr.trim().split('\n');
    err = lines.find((l) => l.startsWith('Error')) ?? lines[0] ?? `exit ${r.status}`;
    if (!/Interrupted|busy|Try again|temporarily/i.test(r.stderr)) break;
    Atomics.wait(sleeper, 0, 0, 5 << i);
  }
  return { ok: false, err };
}

/** Makes berth's table when it is not there (the caller holds the network lock). */
export function ensureTable(): void {
  if (firewallBackend() === 'none') return;
  if (firewallBackend() === 'iptables') return iptablesEnsure();
  if (execTool('nft', ['list', 'table', ...TABLE.split(' ')]).status === 0) return;
  const r = nft(TABLE_TEXT);
  if (!r.ok) throw internal(`creating the nftables table ${TABLE}: ${r.err}`);
}

/** Runs a batch; makes the table first if it is missing. Returns nft's first error line, or ''. */
function batch(lines: string[]): string {
  if (lines.length === 0) return '';
  let r = nft(lines.join('\n') + '\n');
  if (!r.ok && /No such file or directory/.test(r.err)) {
    ensureTable();
    r = nft(lines.join('\n') + '\n');
  }
  return r.ok ? '' : r.err;
}

/** Removal: one batch, or line by line when some element is gone already. */
function removeAll(lines: string[]): void {
  if (batch(lines) === '') return;
  for (const l of lines) batch([l]);
}

export interface BridgeRules {
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
}

function bridgeLines(b: BridgeRules, op: 'add' | 'delete'): string[] {
  const out = [`${op} element ${TABLE} bridges { "${b.bridge}" }`, `${op} element ${TABLE} same_bridge { "${b.bridge}" . "${b.bridge}" }`, `${op} element ${TABLE} nets { ${b.subnet} }`, `${op} element ${TABLE} gateways { ${b.gateway} }`];
  if (b.internal) out.push(`${op} element ${TABLE} internal_bridges { "${b.bridge}" }`);
  else out.push(`${op} element ${TABLE} masq_nets { ${b.subnet} }`);
  return out;
}

export function addBridgeRules(b: BridgeRules): void {
  if (firewallBackend() === 'iptables') return iptablesAddBridge(b);
  if (firewallBackend() === 'none') return;
  const err = batch(bridgeLines(b, 'add'));
  if (err) throw internal(`nftables rules for bridge ${b.bridge}: ${err}`);
}

export function removeBridgeRules(b: BridgeRules): void {
  if (firewallBackend() === 'iptables') return iptablesRemoveBridge(b);
  if (firewallBackend() === 'none') return;
  removeAll(bridgeLines(b, 'delete'));
}

export interface PublishedPort extends PortMapping {
  containerIp: string;
  /** also redirected at connect() for clients on the host (socklb.ts) */
  local?: boolean;
}

function portKey(p: PublishedPort): { map: string; key: string } {
  return p.hostIp ? { map: `${p.proto}_ports_ip`, key: `${p.hostIp} . ${p.hostPort}` } : { map: `${p.proto}_ports`, key: String(p.hostPort) };
}

/**
 * DNATs published ports, all or none. A host port another berth container has published (in any
 * berth root on this host) makes it fail with the port named.
 */
export function addPorts(ports: PublishedPort[]): void {
  if (firewallBackend() === 'iptables') return iptablesAddPorts(ports);
  if (firewallBackend() === 'none') throw failedPrecondition('publishing ports needs nftables or iptables (or the userland proxy)');
  const lines = ports.map((p) => {
    const { map, key } = portKey(p);
    return `create element ${TABLE} ${map} { ${key} : ${p.containerIp} . ${p.containerPort} }`;
  });
  const err = batch(lines);
  if (!err) return;
  if (/File exists/.test(err)) {
    const taken = ports.find((p) => {
      const { map, key } = portKey(p);
      return execTool('nft', ['get', 'element', ...TABLE.split(' '), map, `{ ${key} }`]).status === 0;
    });
    const p = taken ?? ports[0]!;
    throw failedPrecondition(`driver failed programming external connectivity: Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
  }
  throw internal(`nftables rules for published ports: ${err}`);
}

export function removePorts(ports: PublishedPort[]): void {
  if (firewallBackend() === 'iptables') return iptablesRemovePorts(ports);
  if (firewallBackend() === 'none') return;
  removeAll(
    ports.map((p) => {
      const { map, key } = portKey(p);
      return `delete element ${TABLE} ${map} { ${key} }`;
    }),
  );
}

/** The table as nft prints it (for tests and `info`), or '' when it is not there. */
export function listTable(): string {
  if (firewallBackend() === 'iptables') return iptablesList();
  const r = execTool('nft', ['list', 'table', ...TABLE.split(' ')]);
  return r.status === 0 ? r.stdout : '';
}
