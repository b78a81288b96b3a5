import { readFileSync } from 'node:fs';
/** A container's /etc/hosts and /etc/resolv.conf. Pure. */
import { invalidArgument } from '../lib/errors.js';
import { parseIPv4 } from './cidr.js';

/** `--add-host name:ip` (also name=ip) → [name, ip]. `host-gateway` is the gateway given. */
export function parseAddHost(v: string, gateway?: string): [string, string] {
  const i = v.search(/[:=]/);
  const name = i < 0 ? '' : v.slice(0, i);
  let ip = i < 0 ? '' : v.slice(i + 1);
  // The host as the container reaches it: its network's gateway (the host itself without one).
  if (ip === 'host-gateway') ip = gateway ?? '127.0.0.1';
  if (!name || !/^[a-zA-Z0-9][a-zA-Z0-9.-]*$/.test(name) || (parseIPv4(ip) === undefined && !/^[0-9a-fA-F:]+$/.test(ip) ) || !ip) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "--add-host" flag: use NAME:IP`);
  return [name, ip];
}

export function hostsFile(o: { ip?: string; hostname: string; aliases?: string[]; extra?: [string, string][] }): string {
  let s = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  for (const [name, ip] of o.extra ?? []) s += `${ip}\t${name}\n`;
  if (o.ip) s += `${o.ip}\t${[o.hostname, ...(o.aliases ?? [])].join(' ')}\n`;
  return s;
}

/**
 * resolv.conf: --dns servers, or berth's DNS server (user-defined networks), or the host's
 * resolvers without loopback ones (the default bridge: those would be the container's own
 * loopback), as Docker does; then --dns-search and --dns-option.
 */
export function resolvConf(o: { dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[]; embedded?: string; host: string }): string {
  for (const d of o.dns ?? []) if (parseIPv4(d) === undefined && !/^[0-9a-fA-F:]+$/.test(d)) throw invalidArgument(`invalid argument ${JSON.stringify(d)} for "--dns" flag: not an IP address`);
  const hostLines = o.host.split('\n');
  const servers = o.dns?.length ? o.dns : o.embedded ? [o.embedded] : hostLines.filter((l) => /^\s*nameserver\s/.test(l) && !/^\s*nameserver\s+(127\.|::1\b)/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  const search = o.dnsSearch?.length ? o.dnsSearch : hostLines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  const options = o.dnsOptions?.length ? o.dnsOptions : o.embedded ? [] : hostLines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let s = '';
  if (search.length && !(search.length === 1 && search[0] === '.')) s += `search ${search.join(' ')}\n`;
  for (const d of servers) s += `nameserver ${d}\n`;
  if (options.length) s += `options ${options.join(' ')}\n`;
  return s;
}

/** The host's /etc/resolv.conf, '' when it has none. */
export function hostResolvText(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
