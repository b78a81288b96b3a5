/**
 * Published ports for clients on the host itself, at the socket: a cgroup connect4 program on the
 * root of the cgroup2 hierarchy sends a TCP connect() from the host's network namespace to a
 * published address (127.0.0.1:8080, say) straight to the container's address and port. The
 * connection then needs no NAT at all: no DNAT and reroute on its first packet, no masquerade of
 * 127.0.0.1, no per-packet rewriting, and it leaves from the gateway's address as a masqueraded
 * one would. A getpeername4 program gives the client back the address it connected to. A port
 * published on every address is also reached at [::1] (as Docker serves it on [::]): connect6
 * sends such a connection to the container's address as an IPv4-mapped one (a dual-stack socket
 * then speaks IPv4), and getpeername6 reports [::1]. Clients
 * elsewhere (other hosts, containers) and UDP still go through the DNAT rules (firewall.ts),
 * which stay in place for every port; this is an addition, and where it cannot be loaded
 * (no cgroup2, an older kernel, berth not in the host's network namespace) nothing changes.
 *
 * Maps (found again through the attached programs, see native/bpf.c):
 *  - berth_ports: host address . port → container address . port (each 4 + 4 bytes, network order;
 *    the value's byte after the port is 1 where the port was published on every address);
 *  - berth_revnat: socket cookie → the address . port the socket connected to (LRU).
 * The programs are detached when the last published port is removed.
 */
import { readFileSync, statSync } from 'node:fs';
import { assemble, Fn, I, type Item, type Reg } from '../sys/ebpf.js';
import { runFsPlanSync } from '../sys/fsops.js';
import type { PlanOp } from '../sys/helper-ops.js';
import { parseIPv4 } from './cidr.js';
import type { PublishedPort } from './firewall.js';

const PROG_TYPE_CGROUP_SOCK_ADDR = 18;
const ATTACH_CONNECT4 = 10;
const ATTACH_CONNECT6 = 11;
const ATTACH_GETPEERNAME4 = 29;
const ATTACH_GETPEERNAME6 = 30;
const MAP_HASH = 1;
const MAP_LRU_HASH = 9;
const F_NO_PREALLOC = 1;
const IPPROTO_TCP = 6;
// struct bpf_sock_addr
const USER_IP4 = 4;
const USER_IP6 = 8;
const USER_PORT = 24;
const PROTOCOL = 36;

const CONNECT4 = 'berth_connect4';
const GETPEER4 = 'berth_getpeer4';
const CONNECT6 = 'berth_connect6';
const GETPEER6 = 'berth_getpeer6';
/** The value's byte after the port: 1 where the port was published on every address. */
const ALL_ADDRESSES = 6;
// ::1 and ::ffff:0:0/96 as the four 32-bit words of user_ip6 read little-endian.
const LOOPBACK6_LAST = 0x01000000;
const V4MAPPED_THIRD = 0xffff0000 | 0;

// Pieces both programs share. r6 holds the context throughout.
/** r6 = the context; TCP only, else to `out`. */
const tcpOnly: Item[] = [I.mov(6, 1), I.ldxW(2, 6, PROTOCOL), I.jne(2, { imm: IPPROTO_TCP }, 'out')];
/** r0 = lookup(map `slot`, key at fp+off); none: to `out`. */
const lookup = (slot: number, off: number): Item[] => [I.ldMap(1, slot), I.mov(2, 10), I.addImm(2, off), I.call(Fn.mapLookup), I.jeq(0, { imm: 0 }, 'out')];
/** The context's address and port := the 8 bytes at `r`. */
const setAddress = (r: Reg): Item[] => [I.ldxW(1, r, 0), I.stxW(6, USER_IP4, 1), I.ldxW(1, r, 4), I.stxW(6, USER_PORT, 1)];
const allow: Item[] = ['out', I.movImm(0, 1), I.exit()];
/** Only sockets of the initial network namespace (the host's), else to `out`. */
const initialNetnsOnly: Item[] = [
  I.mov(1, 6),
  I.call(Fn.getNetnsCookie), // the socket's namespace
  I.mov(7, 0),
  I.movImm(1, 0),
  I.call(Fn.getNetnsCookie), // NULL: the initial namespace
  I.jne(0, { src: 7 }, 'out'),
];
/** berth_revnat[socket cookie] = the 8 bytes at fp-8 (what the socket asked for), for getpeername. */
const rememberAsked: Item[] = [I.mov(1, 6), I.call(Fn.getSocketCookie), I.stxDW(10, -16, 0), I.ldMap(1, 1), I.mov(2, 10), I.addImm(2, -16), I.mov(3, 10), I.addImm(3, -8), I.movImm(4, 0), I.call(Fn.mapUpdate)];
/** r0 = berth_revnat[socket cookie]; none: to `out`. */
const asked: Item[] = [I.mov(1, 6), I.call(Fn.getSocketCookie), I.stxDW(10, -8, 0), ...lookup(1, -8)];

/** connect4: for TCP in the initial network namespace, a published address becomes the container's. */
function connectProgram(): Buffer {
  return assemble([
    ...tcpOnly,
    ...initialNetnsOnly,
    // key (and, below, the value remembered): the address and port asked for, at fp-8
    I.ldxW(2, 6, USER_IP4),
    I.stxW(10, -8, 2),
    I.ldxW(2, 6, USER_PORT),
    I.stxW(10, -4, 2),
    ...lookup(0, -8),
    I.mov(8, 0),
    ...rememberAsked,
    ...setAddress(8),
    ...allow,
  ]);
}

/** getpeername4: a socket connect4 redirected reports the address it asked for. */
function getpeerProgram(): Buffer {
  return assemble([...tcpOnly, ...asked, ...setAddress(0), ...allow]);
}

/** The context's IPv6 address := ::1 (r1 is clobbered). */
const setLoopback6: Item[] = [I.movImm(1, 0), I.stxW(6, USER_IP6, 1), I.stxW(6, USER_IP6 + 4, 1), I.stxW(6, USER_IP6 + 8, 1), I.movImm(1, LOOPBACK6_LAST), I.stxW(6, USER_IP6 + 12, 1)];

/**
 * connect6: [::1]:PORT, where PORT was published on every address (Docker serves it on [::] too),
 * becomes the container's address as an IPv4-mapped one (::ffff:10.89.0.2), which a dual-stack
 * socket reaches over IPv4; the same map, keyed by 127.0.0.1.
 */
function connect6Program(): Buffer {
  return assemble([
    ...tcpOnly,
    ...initialNetnsOnly,
    // ::1?
    I.ldxW(2, 6, USER_IP6),
    I.jne(2, { imm: 0 }, 'out'),
    I.ldxW(2, 6, USER_IP6 + 4),
    I.jne(2, { imm: 0 }, 'out'),
    I.ldxW(2, 6, USER_IP6 + 8),
    I.jne(2, { imm: 0 }, 'out'),
    I.ldxW(2, 6, USER_IP6 + 12),
    I.jne(2, { imm: LOOPBACK6_LAST }, 'out'),
    I.movImm(2, 0x0100007f), // 127.0.0.1, as it lies in memory
    I.stxW(10, -8, 2),
    I.ldxW(2, 6, USER_PORT),
    I.stxW(10, -4, 2),
    ...lookup(0, -8),
    I.mov(8, 0),
    I.ldxB(2, 8, ALL_ADDRESSES),
    I.jne(2, { imm: 1 }, 'out'),
    ...rememberAsked,
    I.movImm(1, 0),
    I.stxW(6, USER_IP6, 1),
    I.stxW(6, USER_IP6 + 4, 1),
    I.movImm(1, V4MAPPED_THIRD),
    I.stxW(6, USER_IP6 + 8, 1),
    I.ldxW(1, 8, 0),
    I.stxW(6, USER_IP6 + 12, 1),
    I.ldxW(1, 8, 4),
    I.stxW(6, USER_PORT, 1),
    ...allow,
  ]);
}

/** getpeername6: a socket connect6 redirected reports [::1] and the port it asked for. */
function getpeer6Program(): Buffer {
  return assemble([...tcpOnly, ...asked, I.mov(8, 0), ...setLoopback6, I.ldxW(1, 8, 4), I.stxW(6, USER_PORT, 1), ...allow]);
}

/**
 * The programs, in the order they are attached: each getpeername before its connect, so that no
 * socket is redirected while its peer name would not be given back.
 */
const PROGRAMS: readonly (readonly [attach: number, name: string, code: () => Buffer])[] = [
  [ATTACH_GETPEERNAME4, GETPEER4, getpeerProgram],
  [ATTACH_GETPEERNAME6, GETPEER6, getpeer6Program],
  [ATTACH_CONNECT4, CONNECT4, connectProgram],
  [ATTACH_CONNECT6, CONNECT6, connect6Program],
];

/** The cgroup2 hierarchy's root as mounted here, or undefined. */
export function cgroup2Root(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (!pre || !post || post.split(' ')[0] !== 'cgroup2') continue;
      const f = pre.split(' ');
      if (f[3] === '/') return f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    }
  } catch {
    /* no /proc */
  }
  return undefined;
}

let usable: string | false | undefined;
/** Where the programs go, or false: no cgroup2 root, or berth is not in the initial network namespace. */
function target(): string | false {
  if (usable !== undefined) return usable;
  if (process.env.BERTH_SOCKET_PORTS === '0') return (usable = false);
  // (the programs act only in the initial namespace anyway: this spares the work elsewhere)
  try {
    if (statSync('/proc/self/ns/net').ino !== statSync('/proc/1/ns/net').ino) return (usable = false);
  } catch {
    /* pid 1 out of reach: try */
  }
  return (usable = cgroup2Root() ?? false);
}

/** The cgroup the programs go on, or undefined where the host's connections are left to DNAT. */
export const localPortsCgroup = (): string | undefined => target() || undefined;

const addrPort = (ip: string, port: number): Buffer | undefined => {
  const n = parseIPv4(ip);
  if (n === undefined) return undefined;
  const b = Buffer.alloc(8);
  b.writeUInt32BE(n >>> 0, 0);
  b.writeUInt16BE(port, 4);
  return b;
};

/** The map entry of a published port: key and value, and whether it only fills a gap. */
function entryOf(p: PublishedPort): { key: Buffer; value: Buffer; weak: boolean } | undefined {
  if (p.proto !== 'tcp') return undefined;
  const wildcard = !p.hostIp || p.hostIp === '0.0.0.0';
  // A port published on every address is reached at 127.0.0.1 here; an address of its own wins.
  const key = addrPort(wildcard ? '127.0.0.1' : p.hostIp, p.hostPort);
  const value = addrPort(p.containerIp, p.containerPort);
  if (value && wildcard) value[ALL_ADDRESSES] = 1;
  return key && value ? { key, value, weak: wildcard } : undefined;
}

function maps(dir: string): PlanOp[] {
  return [
    { op: 'BPF_MAP', fields: [MAP_HASH, 8, 8, 65536, F_NO_PREALLOC, 'berth_ports', dir, ATTACH_CONNECT4, CONNECT4], what: 'the published ports map' },
    { op: 'BPF_MAP', fields: [MAP_LRU_HASH, 8, 8, 16384, 0, 'berth_revnat', dir, ATTACH_CONNECT4, CONNECT4], what: 'the connected addresses map' },
  ];
}

const prog = (dir: string, attach: number, name: string, code: Buffer): PlanOp => ({
  op: 'BPF_PROG',
  fields: [PROG_TYPE_CGROUP_SOCK_ADDR, attach, dir, name, 'Apache-2.0', code.length, code],
  what: `the ${name} program on ${dir}`,
});

const update = (mode: 0 | 1 | 2, key: Buffer, value: Buffer): PlanOp => ({ op: 'BPF_UPDATE', fields: [0, mode, key.length, key, value.length, value], what: 'a published port' });

/**
 * Adds the ports' entries (loading and attaching the programs when they are not there). With
 * `save`, the ports that will get one are marked (`local`) and saved first, so that a crash
 * half-way leaves nothing the record does not name; the mark is taken back (and saved) on
 * failure. Best effort: on any failure the DNAT rules serve them. `dir`: the cgroup the programs
 * go on (tests use one of their own).
 */
export function addLocalPorts(ports: PublishedPort[], save: () => void = () => {}, dir: string | false = target()): void {
  if (!dir) return;
  const todo = ports.map((p) => [p, entryOf(p)] as const).filter(([, e]) => e);
  if (todo.length === 0) return;
  for (const [p] of todo) p.local = true;
  save();
  try {
    runFsPlanSync([
      ...maps(dir),
      ...PROGRAMS.map(([attach, name, code]) => prog(dir, attach, name, code())),
      ...todo.map(([, e]) => update(e!.weak ? 1 : 0, e!.key, e!.value)),
    ]);
  } catch {
    usable = false;
    for (const [p] of todo) delete p.local;
    save();
  }
}

/** Removes the entries `addLocalPorts` made; the programs go with the last one. */
export function removeLocalPorts(ports: PublishedPort[], dir: string | false | undefined = target() || cgroup2Root()): void {
  const todo = ports.filter((p) => p.local).map(entryOf);
  if (!dir || todo.length === 0) return;
  try {
    runFsPlanSync([
      ...maps(dir),
      ...todo.map((e) => update(2, e!.key, e!.value)),
      ...[...PROGRAMS].reverse().map(([attach, name]): PlanOp => ({ op: 'BPF_DETACH', fields: [0, attach, dir, name], what: `the ${name} program on ${dir}` })),
    ]);
  } catch {
    /* gone already */
  }
}
