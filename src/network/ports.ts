/** `-p`/`--publish` specs and host port checks. */
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { invalidArgument } from '../lib/errors.js';
import { parseIPv4 } from './cidr.js';

export interface PortMapping {
  /** '' for every address of the host */
  hostIp: string;
  /** 0: pick a free one */
  hostPort: number;
  containerPort: number;
  proto: 'tcp' | 'udp';
}

function range(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(a >= 1 && a <= 65535 && b >= a && b <= 65535)) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not a port or a range of ports (1-65535)`);
  return [a, b];
}

/** `[ip:][hostPort:]containerPort[/tcp|udp]`, ports or ranges (8000-8002:80-82). */
export function parsePublish(spec: string): PortMapping[] {
  let rest = spec;
  let proto: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: protocol ${JSON.stringify(p)} is not tcp or udp`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  const parts = rest.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && !(parts.length === 3 && i === 1))) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)} (use [ip:]hostPort:containerPort[/tcp|udp] or containerPort)`);
  let hostIp = '';
  let host = '';
  let ctr: string;
  if (parts.length === 3) [hostIp, host, ctr] = parts as [string, string, string];
  else if (parts.length === 2) [host, ctr] = parts as [string, string];
  else ctr = parts[0]!;
  if (hostIp === '0.0.0.0') hostIp = '';
  if (hostIp !== '' && parseIPv4(hostIp) === undefined) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: ${JSON.stringify(hostIp)} is not an IPv4 address`);
  const [c0, c1] = range(ctr, spec);
  const [h0, h1] = host === '' ? [0, 0] : range(host, spec);
  const n = c1 - c0 + 1;
  if (host !== '' && h1 - h0 + 1 !== n && !(n === 1)) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: the host range and the container range differ in size`);
  const out: PortMapping[] = [];
  for (let i = 0; i < n; i++) out.push({ hostIp, hostPort: host === '' ? 0 : h0 + i, containerPort: c0 + i, proto });
  return out;
}

/** The image's ExposedPorts keys ("80/tcp") as mappings to random host ports (`-P`). */
export function exposedToMappings(exposed: string[]): PortMapping[] {
  return exposed.flatMap((e) => parsePublish(e.includes('/') ? e : `${e}/tcp`));
}

/** Whether a host port can be bound now (nobody listens on it): TCP listen or UDP bind. */
export async function portFree(ip: string, port: number, proto: 'tcp' | 'udp'): Promise<boolean> {
  const host = ip || '0.0.0.0';
  if (proto === 'udp') {
    return new Promise((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, host, () => s.close(() => resolve(true)));
    });
  }
  return new Promise((resolve) => {
    const s: Server = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** `port`'s lines: "80/tcp -> 0.0.0.0:8080". */
export function formatMapping(m: PortMapping): string {
  return `${m.containerPort}/${m.proto} -> ${m.hostIp || '0.0.0.0'}:${m.hostPort}`;
}
