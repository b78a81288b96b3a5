/**
 * `run`/`create` options → an OCI runtime spec, with Docker's defaults: its capability set, new
 * pid/ipc/uts/mount/cgroup namespaces, masked /proc paths, read-only /sys.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import type { Mount, Seccomp, Spec } from '../oci/runtime-spec.js';
import type { DeviceMapping, ThrottleDevice, Ulimit } from './models.js';
import { processUser, resolveUser, type ProcessUser, type UserIds } from '../oci/user.js';
import { secureJoin } from '../sys/securejoin.js';
import { CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../runtime/index.js';
import { defaultSeccomp } from './seccomp-profile.js';
import { mergeEnv, processEnv } from './containers/config.js';

/** Docker's default capability set. */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * What buildSpec needs, structured (bytes, nano-CPUs, the request models' devices, throttles and
 * ulimits): the engine's own form of a create request (containers/request.ts makes it from a
 * ContainerCreateRequest), and of a build's RUN step.
 */
export interface ContainerOptions {
  image: string;
  /** --userns: host (the default) or remap (uid and gid 0 of the container an unprivileged range of the host's). */
  userns?: string;
  /** Config.Cmd: empty, the image's (unless an entrypoint is given). */
  command?: string[];
  name?: string;
  /** "NAME=value" over the image's; a bare "NAME" removes NAME (as Docker). */
  env?: string[];
  /** A terminal: TERM=xterm in the environment (unless Env sets it). */
  tty?: boolean;
  workdir?: string;
  user?: string;
  hostname?: string;
  /** Config.Entrypoint: undefined, the image's; [], none (and no Cmd from the image). */
  entrypoint?: string[];
  /** Bytes (0 or undefined: no limit). */
  memory?: number;
  /** Memory plus swap, bytes; -1: unlimited. */
  memorySwap?: number;
  /** CPUs in units of 1e-9. */
  nanoCpus?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  /** none, host, container:NAME, or a network's name (default: the default `bridge` network) */
  network?: string;
  /** The network namespace the engine made for a container on a network (bridge mode). */
  netnsPath?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  readOnly?: boolean;
  /** Mounts the engine resolved (binds, volumes). */
  resolvedMounts?: Mount[];
  /** HostConfig.Tmpfs: container path → mount options ("size=64m,mode=1777"). */
  tmpfs?: Record<string, string>;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** no-new-privileges[:true|false], seccomp=unconfined, seccomp=<profile JSON> (or a profile's path: berth's). */
  securityOpt?: string[];
  ulimits?: Ulimit[];
  /** Over the image's labels. */
  labels?: Record<string, string>;
  stopSignal?: string;
  stopTimeout?: number;
  /** `--init`: berth-helper as PID 1 (reaps zombies, forwards signals), mounted at /dev/init. */
  init?: string;
  devices?: DeviceMapping[];
  blkioWeight?: number;
  deviceReadBps?: ThrottleDevice[];
  deviceWriteBps?: ThrottleDevice[];
  deviceReadIops?: ThrottleDevice[];
  deviceWriteIops?: ThrottleDevice[];
}

/** Major and minor numbers of a host device node. */
function deviceNumbers(path: string, flag: string): { major: number; minor: number; type: 'c' | 'b' } {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw invalidArgument(`${flag}: error gathering device information while adding custom device ${JSON.stringify(path)}: no such file or directory`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw invalidArgument(`${flag}: ${JSON.stringify(path)} is not a device node`);
  const rdev = st.rdev;
  const major = ((rdev >> 8) & 0xfff) | ((rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >> 12) & ~0xff);
  return { major, minor, type: st.isCharacterDevice() ? 'c' : 'b' };
}

function throttle(list: ThrottleDevice[] | undefined, flag: string) {
  return (list ?? []).map((t) => {
    if (!t.Path) throw invalidArgument(`invalid value ${JSON.stringify(t)} for ${flag}: use DEVICE:RATE`);
    const dev = deviceNumbers(t.Path, flag);
    const r = t.Rate ?? NaN;
    if (!(Number.isInteger(r) && r >= 0)) throw invalidArgument(`invalid value "${t.Path}:${t.Rate}" for ${flag}: bad rate`);
    return { major: dev.major, minor: dev.minor, rate: r };
  });
}

const RLIMIT_NAMES: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
};

function caps(o: ContainerOptions): string[] {
  if (o.privileged) return [...CAPABILITIES];
  const norm = (c: string) => {
    const u = c.toUpperCase();
    const n = u.startsWith('CAP_') ? u : `CAP_${u}`;
    // (Named without the prefix the request's CapAdd and CapDrop have: as the user wrote it, mostly.)
    if (n !== 'CAP_ALL' && !CAPABILITIES.includes(n)) throw invalidArgument(`unknown capability: ${JSON.stringify(n.slice(4))}`);
    return n;
  };
  const add = (o.capAdd ?? []).map(norm);
  const drop = (o.capDrop ?? []).map(norm);
  let set = drop.includes('CAP_ALL') ? [] : [...DOCKER_DEFAULT_CAPS];
  set = set.filter((c) => !drop.includes(c));
  if (add.includes('CAP_ALL')) set = [...CAPABILITIES];
  for (const c of add) if (c !== 'CAP_ALL' && !set.includes(c)) set.push(c);
  return set;
}

export interface VolumeSpec {
  kind: 'bind' | 'volume';
  /** bind: the host path; volume: the volume name (undefined: a new anonymous volume). */
  source?: string;
  destination: string;
  readOnly: boolean;
  propagation: string[];
  /** volume-nocopy: a new volume is not seeded from the image. */
  noCopy?: boolean;
  /** The options as written (-v's third part), as inspect's Mode shows them. */
  mode?: string;
}

/** `-v` syntax: /host:/ctr[:opts], name:/ctr[:opts], or /ctr alone (an anonymous volume). */
export function parseVolumeSpec(v: string): VolumeSpec {
  const parts = v.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalidArgument(`invalid volume specification: ${JSON.stringify(v)}`);
  let src: string | undefined;
  let dst: string;
  let mode = '';
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2 && !isAbsolute(parts[1]!)) {
    // /ctr:ro
    dst = parts[0]!;
    mode = parts[1]!;
  } else [src, dst, mode = ''] = parts as [string, string, string?];
  if (!isAbsolute(dst)) throw invalidArgument(`invalid volume specification: ${JSON.stringify(v)}: the container path must be absolute`);
  const modes = mode === '' ? [] : mode.split(',');
  if (modes.some((m) => !['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared', 'nocopy'].includes(m))) throw invalidArgument(`invalid mode: ${mode}`);
  const base = { destination: dst, readOnly: modes.includes('ro'), propagation: modes.filter((m) => /private|slave|shared/.test(m)), ...(modes.includes('nocopy') ? { noCopy: true } : {}), mode };
  // A bind's missing source is made (as a directory) when the container is created, as dockerd does.
  if (src !== undefined && isAbsolute(src)) return { kind: 'bind', source: src, ...base };
  if (src !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(src)) throw invalidArgument(`invalid volume specification: ${JSON.stringify(v)}: ${JSON.stringify(src)} includes invalid characters for a local volume name`);
  return { kind: 'volume', source: src, ...base };
}

/** A bind mount of a host directory (a bind, or a volume's _data) into the container. */
export function bindMount(source: string, v: Pick<VolumeSpec, 'destination' | 'readOnly' | 'propagation'>): Mount {
  return { destination: v.destination, type: 'bind', source, options: ['rbind', v.readOnly ? 'ro' : 'rw', ...v.propagation] };
}

function tmpfsMount(dst: string, options: string): Mount {
  const opts = options.split(',').filter(Boolean);
  if (!isAbsolute(dst)) throw invalidArgument(`invalid mount path: '${dst}' mount path must be absolute`);
  return { destination: dst, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...opts] };
}

/**
 * USER / --user of a container (or build step) whose root file system is at `root` on the host:
 * Docker's rules (oci/user.ts) over its /etc/passwd and /etc/group, read inside that root.
 */
export function resolveUserIn(root: string, user: string): UserIds {
  return resolveUser(user, readIn(root, '/etc/passwd'), readIn(root, '/etc/group'));
}

/** A file of the tree at `root` (resolved inside it), or undefined. */
function readIn(root: string, f: string): string | undefined {
  try {
    return readFileSync(secureJoin(root, f), 'utf8');
  } catch {
    return undefined;
  }
}

/** USER and --group-add as Docker sets a process up (oci/user.ts' processUser), over the files of the tree at `root`. */
export function processUserIn(root: string, user: string, groupAdd?: readonly string[]): ProcessUser {
  return processUser(user, readIn(root, '/etc/passwd'), readIn(root, '/etc/group'), groupAdd);
}

function parseUser(user: string): { uid: number; gid: number } {
  // Until the engine reads the image's /etc/passwd and /etc/group (once the container's layer is
  // there, for any user given): ids as they are, names as root.
  return /^(\d*)(:\d*)?$/.test(user) || user === 'root' ? resolveUser(user === 'root' ? '0' : user) : { uid: 0, gid: 0 };
}

/** The first range of NAME in /etc/subuid or /etc/subgid ("NAME:START:COUNT"). */
function subRange(file: string, name: string): { start: number; count: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [n, start, count] = line.trim().split(':');
    if (n === name && Number(start) > 0 && Number(count) > 0) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

/**
 * --userns: undefined for the host's user namespace; for `remap`, the host range the container's
 * ids 0..65535 map to: the user "berth"'s ranges in /etc/subuid and /etc/subgid, else 100000.
 */
export function usernsRemap(v: string | undefined): { uid: number; gid: number; size: number } | undefined {
  if (v === undefined || v === '' || v === 'host') return undefined;
  if (v !== 'remap') throw invalidArgument(`invalid --userns ${JSON.stringify(v)} (host or remap)`);
  const u = subRange('/etc/subuid', 'berth');
  const g = subRange('/etc/subgid', 'berth');
  const size = Math.min(65536, u?.count ?? 65536, g?.count ?? 65536);
  return { uid: u?.start ?? 100000, gid: g?.start ?? 100000, size };
}

/** Namespace of a kind: new, the host's (none), or another container's (by its pid). */
function nsMode(kind: string, v: string | undefined, pidOf: (name: string) => number): { type: string; path?: string } | undefined {
  if (v === undefined || v === '' || v === 'private' || v === 'shareable') return { type: kind };
  if (v === 'host') return undefined;
  const m = /^container:(.+)$/.exec(v);
  if (m) {
    const file = kind === 'network' ? 'net' : kind;
    return { type: kind, path: `/proc/${pidOf(m[1]!)}/ns/${file}` };
  }
  throw invalidArgument(`invalid --${kind === 'network' ? 'network' : kind} ${JSON.stringify(v)} (host or container:NAME)`);
}

export function buildSpec(o: ContainerOptions, image: { config: Record<string, unknown> }, id: string, pidOf: (name: string) => number): { spec: Spec; args: string[] } {
  const cfg = image.config;
  const network = o.network ?? 'bridge';
  const bridged = !['none', 'host'].includes(network) && !network.startsWith('container:');
  if (bridged && !o.netnsPath) throw invalidArgument(`--network ${JSON.stringify(network)}: no network namespace was made for it`);
  const entrypoint = o.entrypoint ?? ((cfg.Entrypoint as string[] | undefined) ?? []);
  const cmd = o.command && o.command.length ? o.command : o.entrypoint !== undefined ? [] : ((cfg.Cmd as string[] | undefined) ?? []);
  const userArgs = [...entrypoint, ...cmd];
  if (userArgs.length === 0) throw invalidArgument('No command specified');
  const args = o.init ? ['/dev/init', '--berth-init', ...userArgs] : userArgs;

  const resources: NonNullable<NonNullable<Spec['linux']>['resources']> = { devices: [{ allow: !!o.privileged, access: 'rwm' }] };
  if (o.memory) resources.memory = { limit: o.memory };
  if (o.memorySwap) {
    const swap = o.memorySwap;
    if (!resources.memory) throw invalidArgument('--memory-swap needs --memory');
    if (swap !== -1 && swap < resources.memory.limit!) throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage');
    resources.memory.swap = swap;
  }
  if (o.nanoCpus) {
    if (!(Number.isInteger(o.nanoCpus) && o.nanoCpus > 0)) throw invalidArgument(`invalid NanoCpus ${o.nanoCpus}: must be a positive number`);
    // A period of 100 ms, as Docker sets it.
    resources.cpu = { quota: Math.round(o.nanoCpus / 1e4), period: 100000 };
  }
  if (o.cpuShares) {
    if (!Number.isInteger(o.cpuShares) || o.cpuShares < 0) throw invalidArgument(`invalid --cpu-shares ${o.cpuShares}`);
    resources.cpu = { ...resources.cpu, shares: o.cpuShares };
  }
  if (o.cpusetCpus) resources.cpu = { ...resources.cpu, cpus: o.cpusetCpus };
  const blockIO: NonNullable<typeof resources.blockIO> = {};
  if (o.blkioWeight) {
    if (!(o.blkioWeight >= 10 && o.blkioWeight <= 1000)) throw invalidArgument(`invalid --blkio-weight ${o.blkioWeight}: range is from 10 to 1000`);
    blockIO.weight = o.blkioWeight;
  }
  if (o.deviceReadBps?.length) blockIO.throttleReadBpsDevice = throttle(o.deviceReadBps, '--device-read-bps');
  if (o.deviceWriteBps?.length) blockIO.throttleWriteBpsDevice = throttle(o.deviceWriteBps, '--device-write-bps');
  if (o.deviceReadIops?.length) blockIO.throttleReadIOPSDevice = throttle(o.deviceReadIops, '--device-read-iops');
  if (o.deviceWriteIops?.length) blockIO.throttleWriteIOPSDevice = throttle(o.deviceWriteIops, '--device-write-iops');
  if (Object.keys(blockIO).length) resources.blockIO = blockIO;
  const devices: NonNullable<NonNullable<Spec['linux']>['devices']> = [];
  for (const d of o.devices ?? []) {
    const host = d.PathOnHost ?? '';
    const ctr = d.PathInContainer || host;
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]+$/.test(perms)) throw invalidArgument(`invalid --device ${JSON.stringify(`${host}:${ctr}:${perms}`)}: bad permissions ${JSON.stringify(perms)}`);
    const n = deviceNumbers(host, '--device');
    devices.push({ path: ctr, type: n.type, major: n.major, minor: n.minor, fileMode: 0o666, uid: 0, gid: 0 });
    resources.devices!.push({ allow: true, type: n.type, major: n.major, minor: n.minor, access: perms });
  }
  // 0: not set (as Docker); -1: unlimited.
  if (o.pidsLimit) {
    if (!Number.isInteger(o.pidsLimit)) throw invalidArgument(`invalid --pids-limit ${o.pidsLimit}`);
    resources.pids = { limit: o.pidsLimit };
  }

  // Docker's: PATH, HOSTNAME (TERM with a terminal) overridden by Config.Env, the user's
  // variables then the image's (a bare "NAME" removes NAME).
  const env = processEnv(mergeEnv(o.env, cfg.Env as string[] | undefined), { hostname: o.hostname ?? id.slice(0, 12), tty: o.tty });

  let nnp = false;
  let seccomp: Seccomp | undefined;
  let seccompSet = false;
  for (const s of o.securityOpt ?? []) {
    const m = /^seccomp[=:](.*)$/.exec(s);
    if (s === 'no-new-privileges' || s === 'no-new-privileges:true' || s === 'no-new-privileges=true') nnp = true;
    else if (s === 'no-new-privileges:false' || s === 'no-new-privileges=false') nnp = false;
    else if (m && m[1] === 'unconfined') {
      seccomp = undefined;
      seccompSet = true;
    } else if (m) {
      // The profile inline, as Docker's API has it (the docker CLI and berth's read the file);
      // berth also takes a profile's path.
      const inline = m[1]!.trimStart().startsWith('{');
      let text = m[1]!;
      if (!inline) {
        try {
          text = readFileSync(m[1]!, 'utf8');
        } catch (e) {
          throw invalidArgument(`opening seccomp profile (${m[1]}) failed: ${(e as Error).message}`);
        }
      }
      try {
        seccomp = JSON.parse(text) as Seccomp;
      } catch (e) {
        throw invalidArgument(`decoding seccomp profile${inline ? '' : ` ${m[1]}`}: ${(e as Error).message}`);
      }
      seccompSet = true;
    } else throw invalidArgument(`invalid --security-opt ${JSON.stringify(s)} (no-new-privileges, seccomp=unconfined|PROFILE.json)`);
  }
  if (!seccompSet && !o.privileged) seccomp = defaultSeccomp(caps(o));
  const rlimits = (o.ulimits ?? []).map((u) => {
    const text = `${u.Name}=${u.Soft}:${u.Hard}`;
    const type = RLIMIT_NAMES[u.Name ?? ''];
    const soft = u.Soft ?? NaN;
    const hard = u.Hard ?? soft;
    if (!type || !Number.isInteger(soft) || !Number.isInteger(hard)) throw invalidArgument(`invalid --ulimit ${JSON.stringify(text)} (name=soft[:hard], e.g. nofile=1024:2048)`);
    if (soft > hard) throw invalidArgument(`invalid --ulimit ${JSON.stringify(text)}: soft limit ${soft} is above the hard limit ${hard}`);
    const inf = 2 ** 64 - 1;
    return { type, soft: soft < 0 ? inf : soft, hard: hard < 0 ? inf : hard };
  });

  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', o.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [o.privileged ? 'rw' : 'ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    ...Object.entries(o.tmpfs ?? {}).map(([dst, opts]) => tmpfsMount(dst, opts)),
    ...(o.resolvedMounts ?? []),
    ...(o.init ? [{ destination: '/dev/init', type: 'bind', source: o.init, options: ['bind', 'ro'] }] : []),
  ];
  const namespaces: NonNullable<NonNullable<Spec['linux']>['namespaces']> = [{ type: 'mount' }, { type: 'cgroup' }];
  for (const [kind, v] of [['pid', o.pid], ['ipc', o.ipc], ['uts', o.uts], ['network', network === 'none' || bridged ? undefined : network]] as const) {
    const ns = nsMode(kind, v, pidOf);
    if (ns) namespaces.push(ns as { type: 'pid' });
  }
  if (bridged) namespaces.find((n) => n.type === 'network')!.path = o.netnsPath;
  const remap = usernsRemap(o.userns);
  if (remap) {
    // As Docker: the host's namespaces are not shared with a remapped container.
    const shared = (['pid', 'ipc', 'uts', 'network'] as const).find((k) => !namespaces.some((n) => n.type === k));
    if (shared) throw invalidArgument(`--userns=remap: cannot share the host's ${shared} namespace when user namespaces are enabled`);
    if (o.privileged) throw invalidArgument('--userns=remap: privileged mode is incompatible with user namespaces');
    namespaces.unshift({ type: 'user' });
  }
  const ownUts = namespaces.some((n) => n.type === 'uts' && !n.path);
  const c = caps(o);
  const labels: Record<string, string> = { ...((cfg.Labels as Record<string, string> | undefined) ?? {}) };
  Object.assign(labels, o.labels ?? {});
  const spec: Spec = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: parseUser(o.user ?? (cfg.User as string | undefined) ?? ''),
      args,
      env,
      cwd: o.workdir ?? ((cfg.WorkingDir as string | undefined) || '/'),
      capabilities: { bounding: c, effective: c, permitted: c },
      ...(rlimits.length ? { rlimits } : {}),
      noNewPrivileges: nnp,
    },
    root: { path: 'rootfs', readonly: o.readOnly === true },
    ...(ownUts ? { hostname: o.hostname ?? id.slice(0, 12) } : {}),
    mounts,
    annotations: labels,
    linux: {
      namespaces,
      ...(remap ? { uidMappings: [{ containerID: 0, hostID: remap.uid, size: remap.size }], gidMappings: [{ containerID: 0, hostID: remap.gid, size: remap.size }] } : {}),
      resources,
      maskedPaths: o.privileged ? [] : DEFAULT_MASKED_PATHS,
      readonlyPaths: o.privileged ? [] : DEFAULT_READONLY_PATHS,
      cgroupsPath: `/berth/${id}`,
      ...(devices.length ? { devices } : {}),
      ...(seccomp ? { seccomp } : {}),
    },
  };
  // sysfs can be mounted only by the user namespace that owns the network namespace: a remapped
  // container in a network namespace made outside it (another container's, a bridge's) gets the
  // host's /sys bound read-only instead, as runc does.
  if (remap && spec.linux!.namespaces!.some((n) => n.type === 'network' && n.path)) {
    spec.mounts = spec.mounts!.map((m) => (m.destination === '/sys' && m.type === 'sysfs' ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m));
  }
  return { spec, args: userArgs };
}

