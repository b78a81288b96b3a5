/**
 * Docker's short syntaxes (flags of `run`, compose's short forms) → the request models of
 * models.ts: sizes, durations, ports, mounts, restart policies, ulimits, devices. Each throws
 * InvalidArgument with berth's wording for what it cannot read; checks that need the host (does a
 * device exist, is a port free) or the image are left to the engine.
 */
import { invalidArgument } from '../lib/errors.js';
import { parseGoDuration } from '../lib/duration.js';
import { parseBytes } from '../lib/units.js';
import type { DeviceMapping, Mount, PortBinding, PortMap, Propagation, RestartPolicy, RestartPolicyName, ThrottleDevice, Ulimit } from './models.js';

// The Go duration syntax lives in lib/ (Dockerfiles have it too); offered here with the other parsers.
export { parseGoDuration };

/** A duration flag's value in nanoseconds; it must be positive (berth's rule for --health-*). */
export function positiveDurationNs(v: string, flag: string): number {
  const ns = parseGoDuration(v);
  if (ns === undefined || !(ns > 0)) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "${flag}" flag: time: invalid duration`);
  return ns;
}

/** --cpus 1.5 → NanoCpus 1500000000. */
export function parseNanoCpus(v: string): number {
  const n = Number(v);
  const nano = Math.round(n * 1e9);
  if (v.trim() === '' || !(n > 0) || !(nano > 0)) throw invalidArgument(`invalid argument ${JSON.stringify(v)} for "--cpus" flag: must be a positive number`);
  return nano;
}

/** -m 64m, --memory-swap -1 (unlimited): bytes, as Docker's RAMInBytes reads them. */
export function parseMemoryBytes(v: string, what: 'memory' | 'memory-swap' | 'memory-reservation' | 'shm-size'): number {
  if (what === 'memory-swap' && v.trim() === '-1') return -1;
  return parseBytes(v, what);
}

/** `--restart` values: no, always, unless-stopped, on-failure[:N]. */
export function parseRestartPolicy(v: string | undefined): Required<RestartPolicy> & { Name: RestartPolicyName } {
  if (v === undefined || v === '' || v === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const m = /^(always|unless-stopped|on-failure)(?::(\d+))?$/.exec(v);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) throw invalidArgument(`invalid restart policy ${JSON.stringify(v)} (no, always, unless-stopped, on-failure[:max-retries])`);
  return { Name: m[1] as 'always', MaximumRetryCount: m[2] ? Number(m[2]) : 0 };
}

function portRange(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const a = m ? Number(m[1]) : NaN;
  const b = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(a >= 1 && a <= 65535 && b >= a && b <= 65535)) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not a port or a range of ports (1-65535)`);
  return [a, b];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * `-p [ip:][hostPort:]containerPort[/tcp|udp]` (ports or ranges) → ExposedPorts and
 * PortBindings, as Docker's CLI builds them: a range on both sides is published pairwise; one
 * container port with a host range takes any free port of the range ("8000-8010").
 */
export function parsePortSpecs(specs: readonly string[]): { ExposedPorts: Record<string, Record<string, never>>; PortBindings: PortMap } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: PortMap = {};
  for (const spec of specs) {
    let rest = spec;
    let proto = 'tcp';
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
    if (hostIp !== '' && !IPV4.test(hostIp)) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: ${JSON.stringify(hostIp)} is not an IPv4 address`);
    const [c0, c1] = portRange(ctr, spec);
    const [h0, h1] = host === '' ? [0, 0] : portRange(host, spec);
    const n = c1 - c0 + 1;
    if (host !== '' && h1 - h0 + 1 !== n && n !== 1) throw invalidArgument(`invalid port specification: ${JSON.stringify(spec)}: the host range and the container range differ in size`);
    for (let i = 0; i < n; i++) {
      const key = `${c0 + i}/${proto}`;
      exposed[key] = {};
      const hostPort = host === '' ? '' : n === 1 && h1 !== h0 ? `${h0}-${h1}` : String(h0 + i);
      const b: PortBinding = { HostIp: hostIp, HostPort: hostPort };
      (bindings[key] ??= []).push(b);
    }
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

/** Propagation modes of bind mounts. */
export const PROPAGATIONS: readonly Propagation[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];

/**
 * `--mount type=bind|volume|tmpfs,source=..,target=..[,readonly][,...]`, as Docker reads it,
 * as the Mount it stands for.
 */
export function parseMountSpec(v: string): Mount {
  const bad = (why: string) => invalidArgument(`invalid argument ${JSON.stringify(v)} for "--mount" flag: ${why}`);
  const kv = new Map<string, string>();
  for (const field of v.split(',')) {
    if (field === '') continue;
    const i = field.indexOf('=');
    const k = (i < 0 ? field : field.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : field.slice(i + 1);
    if (['readonly', 'ro', 'volume-nocopy'].includes(k) && i < 0) kv.set(k === 'ro' ? 'readonly' : k, 'true');
    else if (i < 0) throw bad(`invalid field ${JSON.stringify(field)} must be a key=value pair`);
    else kv.set({ src: 'source', destination: 'target', dst: 'target', ro: 'readonly' }[k] ?? k, val);
  }
  const type = kv.get('type') ?? 'volume';
  const target = kv.get('target');
  const source = kv.get('source');
  const known: Record<string, string[]> = {
    bind: ['type', 'source', 'target', 'readonly', 'bind-propagation', 'consistency'],
    volume: ['type', 'source', 'target', 'readonly', 'volume-nocopy', 'consistency'],
    tmpfs: ['type', 'target', 'readonly', 'tmpfs-size', 'tmpfs-mode'],
  };
  if (!known[type]) throw bad(`unknown mount type ${JSON.stringify(type)} (bind, volume or tmpfs)`);
  for (const k of kv.keys()) if (!known[type]!.includes(k)) throw bad(`unexpected key ${JSON.stringify(k)} for a ${type} mount`);
  if (!target) throw bad('target is required');
  const flag = (k: string) => kv.has(k) && !['false', '0'].includes(kv.get(k)!);
  const m: Mount = { Type: type as 'bind' | 'volume' | 'tmpfs', ...(source ? { Source: source } : {}), Target: target };
  if (flag('readonly')) m.ReadOnly = true;
  if (kv.has('consistency')) m.Consistency = kv.get('consistency')!;
  if (type === 'tmpfs') {
    const size = kv.get('tmpfs-size');
    const mode = kv.get('tmpfs-mode');
    if (mode !== undefined && !/^[0-7]{1,4}$/.test(mode)) throw bad(`invalid tmpfs-mode ${JSON.stringify(mode)}`);
    if (size !== undefined || mode !== undefined) m.TmpfsOptions = { ...(size !== undefined ? { SizeBytes: parseBytes(size, 'tmpfs-size') } : {}), ...(mode !== undefined ? { Mode: parseInt(mode, 8) } : {}) };
    return m;
  }
  if (type === 'bind') {
    if (!source) throw bad('source is required for a bind mount');
    const prop = kv.get('bind-propagation');
    if (prop !== undefined && !(PROPAGATIONS as readonly string[]).includes(prop)) throw bad(`invalid bind-propagation ${JSON.stringify(prop)}`);
    if (prop) m.BindOptions = { Propagation: prop as Propagation };
    return m;
  }
  if (kv.has('volume-nocopy') && flag('volume-nocopy')) m.VolumeOptions = { NoCopy: true };
  return m;
}

/** --tmpfs /run[:opts] → [target, options] (Tmpfs' key and value). */
export function parseTmpfsSpec(v: string): [string, string] {
  const i = v.indexOf(':');
  return i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
}

/** The rlimits --ulimit knows (nofile, nproc, ...). */
export const ULIMIT_NAMES: readonly string[] = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as'];

/** `--ulimit name=soft[:hard]` (-1: unlimited). */
export function parseUlimit(u: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(u);
  if (!m || !ULIMIT_NAMES.includes(m[1]!)) throw invalidArgument(`invalid --ulimit ${JSON.stringify(u)} (name=soft[:hard], e.g. nofile=1024:2048)`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard) throw invalidArgument(`invalid --ulimit ${JSON.stringify(u)}: soft limit ${soft} is above the hard limit ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

/** Some of r, w and m, each once at most (Docker's validDeviceMode). */
function deviceMode(s: string): boolean {
  return /^[rwm]{1,3}$/.test(s) && new Set(s).size === s.length;
}

/** `--device /dev/x[:/dev/y][:rwm]` (the second field is the permissions when it is a mode, as Docker reads it). */
export function parseDeviceMapping(d: string): DeviceMapping {
  const parts = d.split(':');
  let host = parts[0]!;
  let ctr = '';
  let perms = 'rwm';
  if (parts.length === 3) {
    ctr = parts[1]!;
    perms = parts[2]!;
  } else if (parts.length === 2) {
    if (deviceMode(parts[1]!)) perms = parts[1]!;
    else ctr = parts[1]!;
  } else if (parts.length > 3) {
    host = d;
    perms = '';
  }
  if (!/^[rwm]+$/.test(perms)) throw invalidArgument(`invalid --device ${JSON.stringify(d)}: bad permissions ${JSON.stringify(perms)}`);
  return { PathOnHost: host, PathInContainer: ctr || host, CgroupPermissions: perms };
}

/** `--device-read-bps /dev/sda:1mb` (a size), `--device-read-iops /dev/sda:100` (a count). */
export function parseThrottleDevice(spec: string, flag: string, kind: 'bps' | 'iops'): ThrottleDevice {
  const i = spec.lastIndexOf(':');
  if (i <= 0) throw invalidArgument(`invalid value ${JSON.stringify(spec)} for ${flag}: use DEVICE:RATE`);
  const v = spec.slice(i + 1);
  const rate = kind === 'bps' ? parseBytes(v, 'rate') : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(rate >= 0)) throw invalidArgument(`invalid value ${JSON.stringify(spec)} for ${flag}: bad rate`);
  return { Path: spec.slice(0, i), Rate: rate };
}

/** `--cap-add net_admin` → CAP_NET_ADMIN, `all` → ALL (as Docker's CLI sends them). */
export function normalizeCapability(c: string): string {
  const u = c.trim().toUpperCase();
  return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
}

/** `-l key=value` (or `key`: an empty value), later ones winning. */
export function parseLabels(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    out[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  return out;
}

/**
 * -v specs split as Docker's CLI does: one with a source (a host path or a volume's name) is a
 * bind ("Binds"); a lone container path is a new anonymous volume ("Volumes").
 */
export function splitVolumeSpecs(specs: readonly string[]): { Binds: string[]; Volumes: Record<string, Record<string, never>> } {
  const Binds: string[] = [];
  const Volumes: Record<string, Record<string, never>> = {};
  for (const v of specs) {
    if (v.includes(':')) Binds.push(v);
    else Volumes[v] = {};
  }
  return { Binds, Volumes };
}

/** `--add-host name=ip` or `name:ip` → "name:ip" (ExtraHosts' form). */
export function normalizeExtraHost(v: string): string {
  const eq = v.indexOf('=');
  return eq < 0 ? v : `${v.slice(0, eq)}:${v.slice(eq + 1)}`;
}
