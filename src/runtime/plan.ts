/**
 * spec → plan: compiles a validated OCI config into the ordered primitive ops that berth-helper
 * executes. Pure apart from reading the rootfs to resolve symlinks and to see whether bind sources
 * are directories; every decision (order, defaults, flags) is made here, none in C.
 */
import { statSync } from 'node:fs';
import { isAbsolute, posix, resolve } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import type { Hook, Mount, Spec } from '../oci/runtime-spec.js';
import type { PlanOp } from '../sys/helper-ops.js';
import { secureJoin } from '../sys/securejoin.js';
import type { CgroupJoin } from './cgroups/index.js';
import { capMask } from './caps.js';
import { CLONE_NEW, MOUNT_FLAGS, MS, NS_FILE, PROPAGATION_FLAGS, RLIMIT, S_IF } from './constants.js';

export interface CgroupMountSpec {
  /** Directory name under the cgroup mount in the container (memory, cpu, unified, systemd). */
  dir: string;
  fstype: 'cgroup' | 'cgroup2';
  /** Mount data for a fresh mount (controllers), used when the container has a cgroup namespace. */
  data: string;
  /** The container's cgroup directory in the host hierarchy, bind-mounted otherwise. */
  hostDir: string;
}

/** A mount that makes the root filesystem itself (the engine's image layers), made in the container's own mount namespace. */
export interface RootfsMount {
  type: string; // 'overlay' or 'bind'
  source: string;
  options: string[];
}

export interface PlanInput {
  spec: Spec;
  bundle: string;
  /** Mounted on root.path first, inside the container's mount namespace (gone with it). */
  rootfsMount?: RootfsMount;
  /** Stay mode: a pty for the container, copied to and from the helper's fds 0 and 1. */
  tty?: boolean;
  /** Its first size (else the spec's consoleSize, else 24x80). */
  ttySize?: { rows: number; cols: number };
  /** A new network namespace gets its loopback up (Docker's --network none; the OCI spec leaves it down). */
  loopbackUp?: boolean;
  /** Monitor mode (with stay): the helper logs stdout/stderr as JSON lines and records the end. */
  monitor?: { log: string; status: string; passthrough?: boolean; exitCommand?: string[]; health?: { intervalMs: number; command: string[] }; attach?: { socket: string; openStdin: boolean } };
  /** Stay mode: the helper remains the container's parent and reports its exit. */
  stay: boolean;
  /** Start fifo: when set, the process waits there for `start` before it executes. */
  fifo?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  /** The cgroup the container's first process joins (CgroupManager.joinTargets()). */
  cgroups: CgroupJoin;
  /** How to mount cgroups for a `cgroup` mount in spec.mounts. */
  cgroupMounts: CgroupMountSpec[];
  /** Pure cgroup v2 host. */
  cgroupV2: boolean;
  /** Highest capability number of the running kernel (/proc/sys/kernel/cap_last_cap). */
  lastCap: number;
  /** Compiled seccomp filter, if any. */
  seccomp?: { program: Buffer; flags: number };
  /** Whether the runtime wants a `sync createRuntime` stop (prestart/createRuntime hooks). */
  syncCreateRuntime: boolean;
  /** The state JSON given to hooks run by the helper (createContainer, startContainer). */
  hookState: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Devices every container gets (as runc and crun create them). */
export const DEFAULT_DEVICES = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
] as const;

const fail = (msg: string) => invalidArgument(msg);

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

interface ParsedMountOptions {
  flags: number;
  /** Flags to apply in a remount after a bind. */
  bindRemount: boolean;
  propagation: number[];
  data: string[];
  bind: boolean;
  recursive: boolean;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  let bindRemount = false;
  for (const o of options) {
    const f = MOUNT_FLAGS[o];
    if (f) {
      if (f.set) flags |= f.set;
      if (f.clear) flags &= ~f.clear;
      if (o !== 'bind' && o !== 'rbind') bindRemount = true;
      continue;
    }
    const p = PROPAGATION_FLAGS[o];
    if (p !== undefined) {
      propagation.push(p);
      continue;
    }
    if (o === 'tmpcopyup' || o === 'idmap' || o === 'ridmap') continue;
    data.push(o);
  }
  const bind = (flags & MS.BIND) !== 0;
  return { flags, bindRemount, propagation, data, bind, recursive: (flags & MS.REC) !== 0 };
}

/**
 * Parent-stage ops that put the new process in its cgroup: it writes "0" to each v1 `tasks` file
 * itself, and is cloned into the cgroup2 directory. clone3 checks the move against the cgroup
 * namespace the helper is in at clone time, so where the helper joins one (exec, a namespace
 * given by path) the pid is written to cgroup.procs instead, checked against the namespace the
 * directory was opened in.
 */
function cgroupOps(cg: CgroupJoin, clone3: boolean): PlanOp[] {
  const ops: PlanOp[] = cg.tasks.map((p) => ({ op: 'CGROUP_TASKS', fields: [p], what: `join cgroup ${JSON.stringify(posix.dirname(p))}` }));
  if (cg.into) ops.push({ op: 'CGROUP_INTO', fields: [clone3 ? 1 : 0, cg.into], what: `join cgroup ${JSON.stringify(cg.into)}` });
  return ops;
}

/** The namespaces to create (types) and to join (type → path). */
export function namespacePlan(spec: Spec): { create: Set<string>; join: Map<string, string> } {
  const create = new Set<string>();
  const join = new Map<string, string>();
  for (const ns of spec.linux?.namespaces ?? []) {
    if (ns.path) join.set(ns.type, ns.path);
    else create.add(ns.type);
  }
  return { create, join };
}

function mapText(maps: { containerID: number; hostID: number; size: number }[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function hookOp(h: Hook, state: string, kind: string, i: number): PlanOp {
  const args = h.args ?? [h.path];
  const env = h.env ?? [];
  return {
    op: 'RUN_HOOK',
    fields: [h.timeout ?? 0, args.length, env.length, h.path, ...args, ...env, state],
    what: `run ${kind} hook ${i} ${JSON.stringify(h.path)}`,
  };
}

export function rootfsPath(spec: Spec, bundle: string): string {
  const p = spec.root?.path;
  if (!p) throw fail('root.path: a root filesystem is required');
  return isAbsolute(p) ? p : resolve(bundle, p);
}

/** The part of the plan shared by `create` and `exec`: process identity, caps, exec. */
function processOps(spec: Spec, input: Pick<PlanInput, 'lastCap' | 'seccomp' | 'preserveFds'>, opts: { ready: boolean; fifo?: string; startHooks?: PlanOp[] }): PlanOp[] {
  const ops: PlanOp[] = [];
  const proc = spec.process!;
  const user = proc.user;
  for (const r of proc.rlimits ?? []) {
    ops.push({ op: 'RLIMIT', fields: [RLIMIT[r.type]!, r.soft, r.hard], what: `set ${r.type} to ${r.soft}:${r.hard}` });
  }
  ops.push({ op: 'UMASK', fields: [user.umask ?? 0o022], what: 'set umask' });
  const nnp = proc.noNewPrivileges === true;
  const seccomp = input.seccomp;
  const seccompOp = (): PlanOp => ({
    op: 'SECCOMP',
    fields: [seccomp!.flags, seccomp!.program.length, seccomp!.program],
    what: 'load the seccomp filter',
  });
  // Without no_new_privs loading a filter needs CAP_SYS_ADMIN, so it happens before the drop.
  if (seccomp && !nnp) ops.push(seccompOp());
  const groups = user.additionalGids ?? [];
  ops.push({ op: 'IDENTITY', fields: [user.uid, user.gid, groups.length, ...groups], what: `switch to uid ${user.uid} gid ${user.gid}` });
  const bad = (m: string) => fail(m);
  const caps = proc.capabilities ?? {};
  const all = (1n << BigInt(input.lastCap + 1)) - 1n;
  const bounding = capMask(caps.bounding, 'process.capabilities.bounding', bad);
  const eff = capMask(caps.effective, 'process.capabilities.effective', bad);
  const perm = capMask(caps.permitted, 'process.capabilities.permitted', bad);
  const inh = capMask(caps.inheritable, 'process.capabilities.inheritable', bad);
  const amb = capMask(caps.ambient, 'process.capabilities.ambient', bad);
  // The kernel raises an ambient capability only when it is permitted and inheritable too.
  ops.push({ op: 'CAPS', fields: [all & ~bounding, eff & all, perm & all, inh & all, amb & inh & perm & all], what: 'set capabilities' });
  if (nnp) ops.push({ op: 'NO_NEW_PRIVS', fields: [], what: 'set no_new_privs' });
  ops.push({ op: 'PRESERVE_FDS', fields: [input.preserveFds ?? 0], what: 'close inherited descriptors' });
  ops.push({ op: 'CHDIR', fields: [proc.cwd], what: `chdir to cwd (${JSON.stringify(proc.cwd)}) set in config.json failed` });
  const env = proc.env ?? [];
  const pathEnv = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? DEFAULT_PATH;
  const argv = proc.args!;
  ops.push({ op: 'RESOLVE_EXEC', fields: [pathEnv, argv[0]!], what: `exec: ${JSON.stringify(argv[0])}` });
  if (opts.ready) ops.push({ op: 'READY', fields: [], what: 'report ready' });
  if (opts.fifo) ops.push({ op: 'WAIT_FIFO', fields: [], what: 'wait for start' });
  ops.push(...(opts.startHooks ?? []));
  if (seccomp && nnp) ops.push(seccompOp());
  ops.push({ op: 'EXEC', fields: [argv.length, env.length, ...argv, ...env], what: `exec ${JSON.stringify(argv[0])}` });
  return ops;
}

/** Compiles the plan of a new container. */
export function compileCreatePlan(input: PlanInput): PlanOp[] {
  const { spec } = input;
  if (!spec.process) throw fail('process: a process is required to create a container');
  const rootfs = rootfsPath(spec, input.bundle);
  const { create, join } = namespacePlan(spec);
  const ops: PlanOp[] = [];

  // Parent stage: open the cgroups to join (while the host's mounts are still in view), then join
  // namespaces given by path; the user namespace first, so that joining the others is allowed.
  ops.push(...cgroupOps(input.cgroups, !join.has('cgroup')));
  // The fifo and the console socket are host paths, opened as the runtime's user: the child
  // inherits them whatever its namespaces and identity.
  if (input.fifo) ops.push({ op: 'OPEN_FIFO', fields: [input.fifo], what: 'open the start fifo' });
  if (input.tty && input.stay) ops.push({ op: 'PTY', fields: [], what: 'make a terminal for the container' });
  if (input.monitor) ops.push({ op: 'LOG', fields: [input.monitor.passthrough ? 1 : 0, input.monitor.log, input.monitor.status], what: `open the log ${JSON.stringify(input.monitor.log)}` });
  const attach = input.monitor?.attach;
  if (attach) ops.push({ op: 'ATTACH', fields: [attach.openStdin ? 1 : 0, attach.socket], what: `listen on ${JSON.stringify(attach.socket)}` });
  const exitCommand = input.monitor?.exitCommand;
  if (exitCommand?.length) ops.push({ op: 'EXIT_COMMAND', fields: [exitCommand.length, ...exitCommand], what: 'set the exit command' });
  const health = input.monitor?.health;
  if (health) ops.push({ op: 'HEALTH', fields: [health.intervalMs, health.command.length, ...health.command], what: 'set the health check' });
  if (spec.process.terminal) {
    if (!input.consoleSocket) throw fail('process.terminal: a terminal needs --console-socket');
    ops.push({ op: 'CONSOLE_CONNECT', fields: [input.consoleSocket], what: `connect to the console socket ${JSON.stringify(input.consoleSocket)}` });
  }
  const joinOrder = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount', 'time'];
  for (const t of joinOrder) {
    const p = join.get(t);
    if (p) ops.push({ op: 'SETNS', fields: [CLONE_NEW[t]!, p], what: `join ${t} namespace ${JSON.stringify(p)}` });
  }
  if (create.has('time')) throw fail('linux.namespaces: creating a time namespace is not supported yet');
  let cloneFlags = 0;
  for (const t of create) cloneFlags |= CLONE_NEW[t]!;
  const newUser = create.has('user');
  const newMount = create.has('mount');
  // Without a mount namespace of its own the container shares the host's mounts: no mount is made
  // (it would change the host), the process only chroots into the root filesystem.
  const hostMounts = !newMount && !join.has('mount');
  const ownUts = create.has('uts') || join.has('uts');
  if (spec.hostname !== undefined && spec.hostname !== '' && !ownUts)
    throw fail("hostname: setting the hostname needs a uts namespace (the host's would change)");
  if (spec.domainname !== undefined && spec.domainname !== '' && !ownUts)
    throw fail("domainname: setting the domainname needs a uts namespace (the host's would change)");
  ops.push({
    op: 'CLONE',
    fields: [
      cloneFlags,
      input.stay ? 0 : 1,
      newUser ? mapText(spec.linux?.uidMappings) : '',
      newUser ? mapText(spec.linux?.gidMappings) : '',
    ],
    what: 'create the container process',
  });

  // Child stage, still seeing the host's filesystem.
  if (input.loopbackUp && create.has('network')) ops.push({ op: 'LO_UP', fields: [], what: 'bring the loopback interface up' });
  if (spec.process.oomScoreAdj !== undefined)
    ops.push({ op: 'WRITE_FILE', fields: ['/proc/self/oom_score_adj', String(spec.process.oomScoreAdj)], what: 'set oom_score_adj' });

  if (hostMounts) {
    if (input.syncCreateRuntime) ops.push({ op: 'SYNC', fields: ['createRuntime'], what: 'run the createRuntime hooks' });
    (spec.hooks?.createContainer ?? []).forEach((h, i) => ops.push(hookOp(h, input.hookState, 'createContainer', i)));
    ops.push({ op: 'CHROOT', fields: [rootfs], what: `chroot to ${JSON.stringify(rootfs)}` });
    if (spec.hostname) ops.push({ op: 'SETHOSTNAME', fields: [spec.hostname], what: `set hostname ${JSON.stringify(spec.hostname)}` });
    if (spec.domainname) ops.push({ op: 'SETDOMAINNAME', fields: [spec.domainname], what: `set domainname ${JSON.stringify(spec.domainname)}` });
    const startHooks = (spec.hooks?.startContainer ?? []).map((h, i) => hookOp(h, input.hookState, 'startContainer', i));
    ops.push(...processOps(spec, input, { ready: true, fifo: input.fifo, startHooks }));
    return ops;
  }

  const prop = spec.linux?.rootfsPropagation;
  const rootPrivate = prop === 'private' || prop === 'rprivate' || prop === 'unbindable' || prop === 'runbindable';
  ops.push({ op: 'MOUNT', fields: [(rootPrivate ? MS.PRIVATE : MS.SLAVE) | MS.REC, '', '/', '', ''], what: 'make the mounts private to the container' });
  const rm = input.rootfsMount;
  if (rm && rm.type === 'overlay') {
    ops.push({ op: 'MOUNT', fields: [0, 'overlay', rootfs, 'overlay', rm.options.join(',')], what: `mount the image's layers (overlay) on ${JSON.stringify(rootfs)}` });
  } else if (rm) {
    ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REC, rm.source, rootfs, '', ''], what: `bind the container's file system ${JSON.stringify(rm.source)}` });
  } else {
    ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REC, rootfs, rootfs, '', ''], what: `bind the root filesystem ${JSON.stringify(rootfs)}` });
  }

  let devIsBind = false;
  let hasDevPts = false;
  for (const [i, m] of (spec.mounts ?? []).entries()) {
    const r = mountOps(m, i, rootfs, input, newUser);
    ops.push(...r.ops);
    const dest = posix.normalize(m.destination).replace(/(.)\/+$/, '$1');
    if (dest === '/dev' && r.bind) devIsBind = true;
    if (dest === '/dev/pts') hasDevPts = true;
  }

  // Devices: the defaults and spec.linux.devices. Inside a new user namespace mknod is not
  // allowed, so the host's device is bind-mounted instead.
  if (!devIsBind) {
    const devices = [
      ...DEFAULT_DEVICES.filter((d) => !(spec.linux?.devices ?? []).some((x) => x.path === d.path)).map((d) => ({ ...d, fileMode: 0o666, uid: 0, gid: 0 })),
      ...(spec.linux?.devices ?? []),
    ];
    for (const d of devices) {
      const target = secureJoin(rootfs, d.path);
      if (newUser) {
        ops.push({ op: 'TOUCH', fields: [0o644, target], what: `create the mount point for ${d.path}` });
        ops.push({ op: 'MOUNT', fields: [MS.BIND, d.path, target, 'bind', ''], what: `bind device ${d.path}` });
      } else {
        const type = (d.type in S_IF ? d.type : 'c') as keyof typeof S_IF;
        const mode = S_IF[type] | (d.fileMode ?? 0o666);
        ops.push({
          op: 'MKNOD',
          fields: [mode, makedev(d.major ?? 0, d.minor ?? 0), d.uid ?? 0, d.gid ?? 0, target],
          what: `create device ${d.path}`,
        });
      }
    }
    const links: [string, string][] = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ];
    if (hasDevPts) links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, path] of links) {
      ops.push({ op: 'SYMLINK', fields: [target, secureJoin(rootfs, path)], what: `link ${path}` });
    }
  }
  // The working directory is created when missing, as runc does.
  ops.push({ op: 'MKDIR', fields: [0o755, secureJoin(rootfs, spec.process.cwd)], what: `create the working directory ${JSON.stringify(spec.process.cwd)}` });

  if (input.syncCreateRuntime) ops.push({ op: 'SYNC', fields: ['createRuntime'], what: 'run the createRuntime hooks' });
  (spec.hooks?.createContainer ?? []).forEach((h, i) => ops.push(hookOp(h, input.hookState, 'createContainer', i)));

  if (input.noPivot) ops.push({ op: 'MOVE_ROOT', fields: [rootfs], what: `move the root to ${JSON.stringify(rootfs)}` });
  else ops.push({ op: 'PIVOT_ROOT', fields: [rootfs], what: `pivot_root to ${JSON.stringify(rootfs)}` });
  if (prop !== undefined) ops.push({ op: 'MOUNT', fields: [PROPAGATION_FLAGS[prop]!, '', '/', '', ''], what: `set root propagation ${prop}` });

  // In the container's root from here on. A terminal is made here, of the container's devpts (sent
  // to the console socket, or with berth's own tty to the helper).
  if (spec.process.terminal || (input.tty && input.stay)) {
    const cs = input.tty && input.ttySize ? { height: input.ttySize.rows, width: input.ttySize.cols } : spec.process.consoleSize;
    ops.push({
      op: 'CONSOLE_SETUP',
      fields: [cs?.height ?? (input.tty ? 24 : 0), cs?.width ?? (input.tty ? 80 : 0), spec.process.user.uid, spec.process.user.gid],
      what: 'set up the terminal',
    });
  } else if (!input.stay && input.fifo) {
    // nothing: stdio is inherited as given
  }
  for (const [k, v] of Object.entries(spec.linux?.sysctl ?? {})) {
    ops.push({ op: 'WRITE_FILE', fields: ['/proc/sys/' + k.replace(/\./g, '/'), v], what: `set sysctl ${k}=${JSON.stringify(v)}` });
  }
  for (const p of spec.linux?.maskedPaths ?? []) ops.push({ op: 'MASK', fields: [p], what: `mask ${p}` });
  for (const p of spec.linux?.readonlyPaths ?? []) ops.push({ op: 'READONLY', fields: [p], what: `make ${p} read-only` });
  if (spec.root?.readonly) ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REMOUNT | MS.RDONLY, '', '/', '', ''], what: 'make the root filesystem read-only' });
  if (spec.hostname) ops.push({ op: 'SETHOSTNAME', fields: [spec.hostname], what: `set hostname ${JSON.stringify(spec.hostname)}` });
  if (spec.domainname) ops.push({ op: 'SETDOMAINNAME', fields: [spec.domainname], what: `set domainname ${JSON.stringify(spec.domainname)}` });
  if (spec.linux?.personality) {
    const d = spec.linux.personality.domain;
    const persona = d === 'LINUX' ? 0 : d === 'LINUX32' ? 8 : undefined;
    if (persona === undefined) throw fail(`linux.personality.domain: unknown domain ${JSON.stringify(d)} (LINUX or LINUX32)`);
    ops.push({ op: 'PERSONALITY', fields: [persona], what: `set personality ${d}` });
  }
  if (!spec.process.terminal && !input.stay && input.fifo) {
    // A detached container becomes its own session leader, so that it outlives its creator's terminal.
    ops.push({ op: 'SETSID', fields: [], what: 'create a session' });
  }
  const startHooks = (spec.hooks?.startContainer ?? []).map((h, i) => hookOp(h, input.hookState, 'startContainer', i));
  ops.push(...processOps(spec, input, { ready: true, fifo: input.fifo, startHooks }));
  return ops;
}

function mountOps(m: Mount, i: number, rootfs: string, input: PlanInput, newUser: boolean): { ops: PlanOp[]; bind: boolean } {
  const ops: PlanOp[] = [];
  const o = parseMountOptions(m.options);
  const target = secureJoin(rootfs, m.destination);
  const where = `mounts[${i}] ${JSON.stringify(m.destination)}`;
  const type = m.type ?? (o.bind ? 'bind' : '');
  const isBind = o.bind || type === 'bind';
  if (type === 'cgroup' || type === 'cgroup2') {
    ops.push(...cgroupMountOps(target, o, where, input));
    return { ops, bind: false };
  }
  if (isBind) {
    if (!m.source) throw fail(`mounts[${i}].source: a bind mount needs a source`);
    const src = isAbsolute(m.source) ? m.source : resolve(input.bundle, m.source);
    let isDir = true;
    try {
      isDir = statSync(src).isDirectory();
    } catch {
      throw invalidArgument(`mounts[${i}].source: bind source ${JSON.stringify(src)} does not exist`);
    }
    ops.push(isDir ? { op: 'MKDIR', fields: [0o755, target], what: `create the mount point of ${where}` } : { op: 'TOUCH', fields: [0o644, target], what: `create the mount point of ${where}` });
    ops.push({ op: 'MOUNT', fields: [MS.BIND | (o.recursive ? MS.REC : 0), src, target, '', ''], what: `bind ${JSON.stringify(src)} on ${where}` });
    const extra = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (extra !== 0) {
      ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REMOUNT | extra, src, target, '', ''], what: `remount ${where} with its options` });
    }
  } else {
    ops.push({ op: 'MKDIR', fields: [0o755, target], what: `create the mount point of ${where}` });
    let flags = o.flags;
    // sysfs cannot be mounted in a user namespace that does not own the network namespace;
    // that is the caller's configuration to fix, the kernel's error says so.
    if (newUser && type === 'mqueue') flags &= ~MS.NODEV;
    ops.push({ op: 'MOUNT', fields: [flags, m.source ?? type, target, type, o.data.join(',')], what: `mount ${JSON.stringify(type)} on ${where}` });
  }
  for (const p of o.propagation) ops.push({ op: 'MOUNT', fields: [p, '', target, '', ''], what: `set propagation of ${where}` });
  return { ops, bind: isBind };
}

function cgroupMountOps(target: string, o: ParsedMountOptions, where: string, input: PlanInput): PlanOp[] {
  const ops: PlanOp[] = [];
  const ro = (o.flags & MS.RDONLY) !== 0;
  const base = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const newCgroupNs = namespacePlan(input.spec).create.has('cgroup');
  ops.push({ op: 'MKDIR', fields: [0o755, target], what: `create the mount point of ${where}` });
  if (input.cgroupV2) {
    if (newCgroupNs) {
      ops.push({ op: 'MOUNT', fields: [base | (ro ? MS.RDONLY : 0), 'cgroup2', target, 'cgroup2', ''], what: `mount cgroup2 on ${where}` });
    } else {
      const hostDir = input.cgroupMounts[0]?.hostDir;
      if (!hostDir) return ops;
      ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REC, hostDir, target, '', ''], what: `bind the container's cgroup on ${where}` });
      if (ro) ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REMOUNT | MS.RDONLY | base, '', target, '', ''], what: `make ${where} read-only` });
    }
    return ops;
  }
  ops.push({ op: 'MOUNT', fields: [base, 'tmpfs', target, 'tmpfs', 'mode=755'], what: `mount tmpfs on ${where}` });
  for (const cg of input.cgroupMounts) {
    const sub = posix.join(target, cg.dir);
    ops.push({ op: 'MKDIR', fields: [0o755, sub], what: `create ${where}/${cg.dir}` });
    if (newCgroupNs) {
      ops.push({ op: 'MOUNT', fields: [base | (ro ? MS.RDONLY : 0), 'cgroup', sub, cg.fstype, cg.data], what: `mount cgroup ${cg.dir} on ${where}` });
    } else {
      ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REC, cg.hostDir, sub, '', ''], what: `bind cgroup ${cg.dir} on ${where}` });
      if (ro) ops.push({ op: 'MOUNT', fields: [MS.BIND | MS.REMOUNT | MS.RDONLY | base, '', sub, '', ''], what: `make ${where}/${cg.dir} read-only` });
    }
  }
  if (ro) ops.push({ op: 'MOUNT', fields: [MS.REMOUNT | MS.RDONLY | base, 'tmpfs', target, 'tmpfs', 'mode=755'], what: `make ${where} read-only` });
  return ops;
}

export interface ExecPlanInput {
  spec: Spec; // the container's spec with `process` replaced by the exec'd process
  /** Namespace files of the container to join (type → /proc/PID/ns/X), user first. */
  namespaces: [string, string][];
  cgroups: CgroupJoin;
  stay: boolean;
  /** Stay mode: a pty for the process, copied to and from the helper's fds 0 and 1. */
  tty?: boolean;
  /** Its first size (else the process's consoleSize, else 24x80). */
  ttySize?: { rows: number; cols: number };
  consoleSocket?: string;
  preserveFds?: number;
  lastCap: number;
  seccomp?: { program: Buffer; flags: number };
}

/** Compiles the plan of a process executed inside a running container. */
export function compileExecPlan(input: ExecPlanInput): PlanOp[] {
  const { spec } = input;
  const ops: PlanOp[] = [];
  ops.push(...cgroupOps(input.cgroups, !input.namespaces.some(([t]) => t === 'cgroup')));
  for (const [t, p] of input.namespaces) ops.push({ op: 'SETNS', fields: [CLONE_NEW[t]!, p], what: `join the container's ${t} namespace` });
  if (input.tty && input.stay) ops.unshift({ op: 'PTY', fields: [], what: 'make a terminal for the process' });
  ops.push({ op: 'CLONE', fields: [0, input.stay ? 0 : 1, '', ''], what: 'create the process' });
  if (spec.process!.oomScoreAdj !== undefined)
    ops.push({ op: 'WRITE_FILE', fields: ['/proc/self/oom_score_adj', String(spec.process!.oomScoreAdj)], what: 'set oom_score_adj' });
  if (spec.process!.terminal) {
    if (!input.consoleSocket) throw fail('process.terminal: a terminal needs --console-socket');
    // The socket path is a host path: connect before joining the container's mounts.
    ops.unshift({ op: 'CONSOLE_CONNECT', fields: [input.consoleSocket], what: 'connect to the console socket' });
  }
  if (spec.process!.terminal || (input.tty && input.stay)) {
    const cs = input.tty && input.ttySize ? { height: input.ttySize.rows, width: input.ttySize.cols } : spec.process!.consoleSize;
    ops.push({ op: 'CONSOLE_SETUP', fields: [cs?.height ?? (input.tty ? 24 : 0), cs?.width ?? (input.tty ? 80 : 0), spec.process!.user.uid, spec.process!.user.gid], what: 'set up the terminal' });
  }
  ops.push(...processOps(spec, input, { ready: true }));
  return ops;
}

export { NS_FILE };
