/** IPv4 addresses and subnets: parsing, overlap, the n-th address. Pure. */
import { invalidArgument } from '../lib/errors.js';

export interface Subnet {
  /** network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
}

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `a.b.c.d/n`; the address must be the network's (10.1.2.0/24, not 10.1.2.5/24), as Docker asks. */
export function parseCidr(s: string, what = 'subnet'): Subnet {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) throw invalidArgument(`invalid ${what} ${JSON.stringify(s)}: not an IPv4 CIDR like 10.90.0.0/24`);
  if (((ip & mask(prefix)) >>> 0) !== ip) throw invalidArgument(`invalid ${what} ${JSON.stringify(s)}: the address has bits outside the prefix (the network is ${formatIPv4((ip & mask(prefix)) >>> 0)}/${prefix})`);
  if (prefix > 30) throw invalidArgument(`invalid ${what} ${JSON.stringify(s)}: a /${prefix} has no room for a gateway and containers (use /30 or larger)`);
  return { base: ip, prefix };
}

export function formatCidr(s: Subnet): string {
  return `${formatIPv4(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & mask(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/**
 * The next address a container may get (all but the network, broadcast and the taken ones), after
 * `after` when given, wrapping around: addresses are handed out in turn, so that one just given
 * back is not at once given again (its conntrack entries, ARP entries and peers' caches may still
 * point at the container that had it).
 */
export function firstFree(s: Subnet, taken: Set<number>, after?: number): number | undefined {
  const size = 2 ** (32 - s.prefix);
  const start = after !== undefined && contains(s, after) ? after - s.base : 0;
  for (let k = 1; k < size - 1; k++) {
    const i = ((start + k - 1) % (size - 2)) + 1;
    const ip = (s.base + i) >>> 0;
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}

/** A MAC address from the IP, as Docker makes them (02:42 and the four bytes). */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * A MAC address given by the user (`--mac-address`), lower case with colons; six hex octets, and
 * not a multicast one (the low bit of the first octet), which no interface can have.
 */
export function parseMac(s: string): string {
  const m = s.toLowerCase().replace(/-/g, ':');
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) || (parseInt(m.slice(0, 2), 16) & 1) === 1) throw invalidArgument(`invalid MAC address ${JSON.stringify(s)} (--mac-address): six hex octets like 92:d0:c6:0a:29:33, and not a multicast one`);
  return m;
}
