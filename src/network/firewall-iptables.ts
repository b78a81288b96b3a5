/**
 * The iptables fallback (hosts without nft): berth's own chains, jumped to from the built-in ones
 * (as Docker and netavark do), and one rule per network or published port, each added and removed
 * by its exact spec (`iptables-restore --noflush`, one batch per change, so no rule handles):
 *   raw    BERTH-RAW          container-to-container traffic untracked (gateways excepted)
 *   nat    BERTH-DNAT         published ports, for traffic to a local address (outside and host)
 *   nat    BERTH-POSTROUTING  masquerade out of non-internal subnets, from 127.0.0.1, hairpin
 *   filter BERTH-FORWARD      a bridge to itself: accepted; to another berth bridge: dropped;
 *                             an internal bridge to or from anything else: dropped
 */
import { failedPrecondition, internal } from '../lib/errors.js';
import { execTool } from '../sys/exec.js';

const PREFIX = 'berth';

function restore(text: string): string {
  const r = execTool('iptables-restore', ['--noflush', '-w'], text);
  return r.status === 0 ? '' : (r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`);
}

type Rules = Partial<Record<'raw' | 'nat' | 'filter', string[]>>;

function batchText(rules: Rules, op: '-A' | '-D'): string {
  return Object.entries(rules)
    .filter(([, lines]) => lines && lines.length)
    .map(([table, lines]) => `*${table}\n${lines!.map((l) => `${op} ${l}`).join('\n')}\nCOMMIT\n`)
    .join('');
}

export function iptablesEnsure(): void {
  if (execTool('iptables', ['-w', '-t', 'nat', '-S', 'BERTH-DNAT']).status === 0) return;
  const text = [
    '*raw',
    ':BERTH-RAW - [0:0]',
    '-A PREROUTING -j BERTH-RAW',
    'COMMIT',
    '*nat',
    ':BERTH-DNAT - [0:0]',
    ':BERTH-POSTROUTING - [0:0]',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j BERTH-DNAT',
    '-A OUTPUT -m addrtype --dst-type LOCAL -j BERTH-DNAT',
    '-A POSTROUTING -j BERTH-POSTROUTING',
    `-A BERTH-POSTROUTING -s 127.0.0.0/8 -o ${PREFIX}+ -j MASQUERADE`,
    'COMMIT',
    '*filter',
    ':BERTH-FORWARD - [0:0]',
    '-I FORWARD 1 -j BERTH-FORWARD',
    'COMMIT',
    '',
  ].join('\n');
  const err = restore(text);
  if (err) throw internal(`creating berth's iptables chains: ${err}`);
}

function apply(rules: Rules): string {
  let err = restore(batchText(rules, '-A'));
  if (err && /No chain|does not exist|Couldn't load target/i.test(err)) {
    iptablesEnsure();
    err = restore(batchText(rules, '-A'));
  }
  return err;
}

function removeRules(rules: Rules): void {
  if (restore(batchText(rules, '-D')) === '') return;
  for (const [table, lines] of Object.entries(rules)) for (const l of lines ?? []) restore(batchText({ [table]: [l] }, '-D'));
}

function bridgeRules(b: { bridge: string; subnet: string; gateway: string; internal: boolean }): Rules {
  const filter = [`BERTH-FORWARD -i ${b.bridge} -o ${b.bridge} -j ACCEPT`, `BERTH-FORWARD -i ${b.bridge} -o ${PREFIX}+ -j DROP`];
  if (b.internal) filter.push(`BERTH-FORWARD -i ${b.bridge} -j DROP`, `BERTH-FORWARD -o ${b.bridge} -j DROP`);
  const nat = [`BERTH-POSTROUTING -s ${b.subnet} -o ${PREFIX}+ -m conntrack --ctstate DNAT -j MASQUERADE`];
  if (!b.internal) nat.push(`BERTH-POSTROUTING -s ${b.subnet} ! -o ${PREFIX}+ -j MASQUERADE`);
  const raw = [`BERTH-RAW -s ${b.gateway}/32 -j RETURN`, `BERTH-RAW -d ${b.gateway}/32 -j RETURN`, `BERTH-RAW -s ${b.subnet} -d ${b.subnet} -j CT --notrack`];
  return { raw, nat, filter };
}

export function iptablesAddBridge(b: { bridge: string; subnet: string; gateway: string; internal: boolean }): void {
  const err = apply(bridgeRules(b));
  if (err) throw internal(`iptables rules for bridge ${b.bridge}: ${err}`);
}

export function iptablesRemoveBridge(b: { bridge: string; subnet: string; gateway: string; internal: boolean }): void {
  removeRules(bridgeRules(b));
}

interface Port {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: 'tcp' | 'udp';
  containerIp: string;
}

const portRule = (p: Port) => `BERTH-DNAT -p ${p.proto}${p.hostIp ? ` -d ${p.hostIp}/32` : ''} -m ${p.proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`;

export function iptablesAddPorts(ports: Port[]): void {
  const existing = execTool('iptables', ['-w', '-t', 'nat', '-S', 'BERTH-DNAT']).stdout;
  for (const p of ports) {
    const same = existing.split('\n').find((l) => l.includes(` -p ${p.proto} `) && l.includes(` --dport ${p.hostPort} `) && (!p.hostIp || !/ -d /.test(l) || l.includes(` -d ${p.hostIp}/32 `)));
    if (same) throw failedPrecondition(`driver failed programming external connectivity: Bind for ${p.hostIp || '0.0.0.0'}:${p.hostPort} failed: port is already allocated`);
  }
  const err = apply({ nat: ports.map(portRule) });
  if (err) throw internal(`iptables rules for published ports: ${err}`);
}

export function iptablesRemovePorts(ports: Port[]): void {
  removeRules({ nat: ports.map(portRule) });
}

/** berth's rules as iptables-save prints them. */
export function iptablesList(): string {
  return execTool('iptables-save', [])
    .stdout.split('\n')
    .filter((l) => l.includes('BERTH'))
    .join('\n');
}
