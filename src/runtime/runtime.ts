/**
 * berth's OCI runtime: create, start, state, kill, delete, run, exec, list, ps over bundles, with
 * state under a root directory so that it outlives the calling process.
 */
import type { StdioOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, constants as fsc } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError, conflict, errnoCode, failedPrecondition, invalidArgument, notFound } from '../lib/errors.js';
import type { DeviceCgroupRule, Process, Resources, Seccomp, Spec, State } from '../oci/runtime-spec.js';
import { OCI_VERSION } from '../oci/runtime-spec.js';
import { parseSpec, validateSpec } from '../oci/validate-runtime.js';
import { writeFileAtomic } from '../sys/fs.js';
import { HelperOpError, startHelper, type HelperExit, type HelperSession, type TerminalSize } from '../sys/helper.js';
import type { PlanOp } from '../sys/helper-ops.js';
import { helperPath } from '../sys/paths.js';
import { exeId, nsInode, procStat, processAlive } from '../sys/proc.js';
import { CgroupManager, detectCgroups, resolveCgroupPath, type CgroupLayout } from './cgroups/index.js';
import { attachDeviceProgram } from './cgroups/devices-bpf.js';
import { NS_FILE } from './constants.js';
import { runHooks, runHooksAll } from './hooks.js';
import { compileCreatePlan, compileExecPlan, DEFAULT_DEVICES, rootfsPath, type CgroupMountSpec, type RootfsMount } from './plan.js';
import type { CompiledSeccomp } from './seccomp/index.js';
import { mark } from '../lib/timing.js';
import { DEFAULT_RUNTIME_ROOT, StateStore, validateId, type ContainerRecord } from './state.js';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  /** Host fds passed as the container's fds 3, 4, ... */
  extraFds?: number[];
  /** The container's stdio (fds 0-2); inherited by default. */
  stdio?: StdioOptions;
  /** The engine's layers, mounted on root.path inside the container's mount namespace. */
  rootfsMount?: RootfsMount;
  /** run: a terminal for the container, copied to and from stdio's fds 0 and 1 (stay mode only). */
  tty?: boolean;
  /** With tty: its size, and later sizes. */
  terminal?: TerminalSize;
  /** A new network namespace gets its loopback interface up (berth's engine; not OCI's default). */
  loopbackUp?: boolean;
  /** run: stdout and stderr also to this log (JSON lines) and status file, by the helper. */
  log?: string;
  status?: string;
}

export interface DetachedOptions extends CreateOptions {
  /** The log (JSON lines of stdout/stderr) and the status file the monitor appends the end to. */
  log: string;
  status: string;
  /** A socket where clients attach to the container's output (and its stdin, kept open when openStdin). */
  attach?: { socket: string; openStdin: boolean };
  /** Run by the monitor after the container ended (berth's cleanup: the restart policy). */
  exitCommand?: string[];
  /** Run by the monitor every interval while the container runs (berth's health check). */
  health?: { intervalMs: number; command: string[] };
}

export interface ExitStatus {
  /** Exit code; 128+N when killed by signal N. */
  code: number;
  signal?: number;
  oomKilled: boolean;
}

export interface RunOptions extends CreateOptions {
  /** Called with the container's pid once it runs (for signal forwarding). */
  onStart?: (pid: number) => void;
  /** Keep the container's state after it exits (runc run --keep). */
  keep?: boolean;
}

export interface ExecOptions {
  process: Process;
  detach?: boolean;
  /** A terminal for the process, copied to and from stdio's fds 0 and 1 (not detached). */
  tty?: boolean;
  /** With tty: its size, and later sizes. */
  terminal?: TerminalSize;
  pidFile?: string;
  consoleSocket?: string;
  extraFds?: number[];
  stdio?: StdioOptions;
  onStart?: (pid: number) => void;
}

export interface ContainerInfo extends State {
  created: string;
  owner: string;
}

let lastCapCache: number | undefined;
function lastCap(): number {
  if (lastCapCache === undefined) {
    try {
      lastCapCache = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCapCache = 40;
    }
  }
  return lastCapCache;
}

/** Device cgroup rules: the spec's, then allow the devices every container gets. */
export function deviceRules(spec: Spec): DeviceCgroupRule[] {
  const rules = [...(spec.linux?.resources?.devices ?? [])];
  const allow = (type: string, major: number | null, minor: number | null, access = 'rwm') => rules.push({ allow: true, type, major, minor, access });
  for (const d of DEFAULT_DEVICES) allow('c', d.major, d.minor);
  for (const d of spec.linux?.devices ?? []) if (d.type !== 'p') allow(d.type === 'u' ? 'c' : d.type, d.major ?? null, d.minor ?? null);
  allow('c', 5, 1); // console
  allow('c', 5, 2); // ptmx
  allow('c', 136, null); // pts
  return rules;
}

/** How cgroups appear inside the container for a `cgroup` mount. */
function cgroupMounts(layout: CgroupLayout, path: string): CgroupMountSpec[] {
  const byMount = new Map<string, string[]>();
  for (const [ctrl, mp] of Object.entries(layout.v1)) {
    const l = byMount.get(mp) ?? [];
    l.push(ctrl);
    byMount.set(mp, l);
  }
  const out: CgroupMountSpec[] = [];
  for (const [mp, ctrls] of byMount) {
    const named = ctrls.find((c) => c.startsWith('name='));
    out.push({ dir: basename(mp), fstype: 'cgroup', data: named ? `none,${named}` : ctrls.join(','), hostDir: join(mp, path) });
  }
  if (layout.unified) out.push({ dir: layout.mode === 'v2' ? '' : basename(layout.unified), fstype: 'cgroup2', data: '', hostDir: join(layout.unified, path) });
  return out;
}

/**
 * The helper's failure to start the container's process, in runc's words (what Docker shows):
 * `unable to start container process: exec: "x": executable file not found in $PATH`; a path
 * (with a slash) is looked up as it is: `exec: "/x": stat /x: no such file or directory`. The
 * exit code a shell would give (127 not found, 126 not executable) comes with it.
 */
function mapHelperError(e: unknown): unknown {
  const start = 'unable to start container process: ';
  if (e instanceof HelperOpError && e.op === 'RESOLVE_EXEC') {
    const name = JSON.stringify(e.detail);
    if (e.errnoName === 'ENOENT') {
      const why = e.detail.includes('/') ? `stat ${e.detail}: no such file or directory` : 'executable file not found in $PATH';
      return new BerthError('NotFound', `${start}exec: ${name}: ${why}`, { exitCode: 127, cause: e });
    }
    return new BerthError('FailedPrecondition', `${start}exec: ${name}: permission denied`, { exitCode: 126, cause: e });
  }
  if (e instanceof HelperOpError && e.op === 'CHDIR') {
    return new BerthError(e.kind, `${start}${e.message}`, { exitCode: e.errnoName === 'ENOENT' ? 127 : 126, cause: e });
  }
  return e;
}

export class Runtime {
  readonly store: StateStore;
  private layout: CgroupLayout | undefined;

  /** `cgroupLayout`: the hierarchies to use instead of the host's (tests mount one of their own). */
  constructor(opts: { root?: string; cgroupLayout?: CgroupLayout } = {}) {
    this.store = new StateStore(resolve(opts.root ?? process.env.BERTH_RUNTIME_ROOT ?? DEFAULT_RUNTIME_ROOT));
    this.layout = opts.cgroupLayout;
  }

  /**
   * The compiled filter of a seccomp section. Compiling Docker's default profile costs a few ms
   * at every start, so programs are kept under the runtime root, keyed by the section's text (the
   * file holds that text too, compared in full: a hash collision only misses the cache).
   */
  private async seccompProgram(s: Seccomp): Promise<CompiledSeccomp> {
    const key = `${process.arch}\n${JSON.stringify(s)}`;
    const file = join(this.store.root, '.seccomp', `${fnv1a(key)}.bpf`);
    const keyBytes = Buffer.from(key);
    try {
      const buf = readFileSync(file);
      const n = buf.readUInt32LE(0);
      if (n === keyBytes.length && buf.subarray(4, 4 + n).equals(keyBytes)) return { flags: buf.readUInt32LE(4 + n), program: Buffer.from(buf.subarray(8 + n)) };
    } catch {
      /* not cached yet */
    }
    // The compiler (and its syscall tables) loads only when the cache misses.
    const { compileSeccomp } = await import('./seccomp/index.js');
    const c = compileSeccomp(s);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(keyBytes.length);
    const flags = Buffer.alloc(4);
    flags.writeUInt32LE(c.flags);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileAtomic(file, Buffer.concat([head, keyBytes, flags, c.program]));
    } catch {
      /* a read-only root runs without the cache */
    }
    return c;
  }

  private cgroupLayout(): CgroupLayout {
    return (this.layout ??= detectCgroups());
  }

  private cgroup(rec: Pick<ContainerRecord, 'cgroupPath'>): CgroupManager {
    return new CgroupManager(this.cgroupLayout(), rec.cgroupPath, { deviceProgram: attachDeviceProgram });
  }

  /** Reads and validates a bundle's config.json. */
  loadSpec(bundle: string): Spec {
    const file = join(bundle, 'config.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw notFound(`bundle ${JSON.stringify(bundle)}: config.json not found`);
      throw e;
    }
    return parseSpec(text, file);
  }

  private async createInternal(id: string, opts: CreateOptions & Partial<Pick<DetachedOptions, 'exitCommand' | 'health' | 'attach'>>, mode: { stay: boolean; fifo: boolean; detached?: boolean }): Promise<{ rec: ContainerRecord; session: HelperSession; cg: CgroupManager }> {
    validateId(id);
    const bundle = resolve(opts.bundle);
    const spec = this.loadSpec(bundle);
    const rootfs = rootfsPath(spec, bundle);
    let st;
    try {
      st = statSync(rootfs);
    } catch {
      throw notFound(`root.path: root filesystem ${JSON.stringify(rootfs)} does not exist`);
    }
    if (!st.isDirectory()) throw invalidArgument(`root.path: ${JSON.stringify(rootfs)} is not a directory`);
    mark('runtime: spec read');
    const seccomp = spec.linux?.seccomp ? await this.seccompProgram(spec.linux.seccomp) : undefined;
    mark('runtime: seccomp compiled');

    this.store.claim(id);
    const rec: ContainerRecord = {
      ociVersion: spec.ociVersion,
      id,
      phase: 'creating',
      pid: 0,
      pidStartTime: '',
      bundle,
      rootfs,
      created: new Date().toISOString(),
      owner: process.getuid?.() === 0 ? 'root' : String(process.getuid?.()),
      cgroupPath: '',
      annotations: spec.annotations,
      spec,
    };
    let cg: CgroupManager | undefined;
    let pid = 0;
    try {
      rec.cgroupPath = resolveCgroupPath(spec.linux?.cgroupsPath, id);
      this.store.write(rec);
      const layout = this.cgroupLayout();
      cg = this.cgroup(rec);
      const hookState = JSON.stringify({ ociVersion: spec.ociVersion, id, status: 'creating', pid: 0, bundle, annotations: spec.annotations ?? {} }).replace('"pid":0', '"pid":%PID%');
      const syncCreateRuntime = (spec.hooks?.prestart?.length ?? 0) + (spec.hooks?.createRuntime?.length ?? 0) > 0;
      const plan = compileCreatePlan({
        spec,
        bundle,
        stay: mode.stay,
        fifo: mode.fifo ? this.store.fifo(id) : undefined,
        consoleSocket: opts.consoleSocket,
        noPivot: opts.noPivot,
        rootfsMount: opts.rootfsMount,
        tty: opts.tty,
        ttySize: opts.terminal,
        loopbackUp: opts.loopbackUp,
        monitor: opts.log && opts.status ? { log: opts.log, status: opts.status, passthrough: !mode.detached, exitCommand: opts.exitCommand, health: opts.health, attach: opts.attach } : undefined,
        preserveFds: opts.extraFds?.length ?? 0,
        cgroups: cg.joinTargets(),
        cgroupMounts: cgroupMounts(layout, rec.cgroupPath),
        cgroupV2: layout.mode === 'v2',
        lastCap: lastCap(),
        seccomp,
        syncCreateRuntime,
        hookState,
      });
      mark('runtime: plan compiled');
      const resources: Resources = { ...(spec.linux?.resources ?? {}), devices: deviceRules(spec) };
      const session = startHelper(plan, {
        stdio: opts.stdio,
        terminal: opts.terminal,
        detached: mode.detached,
        extraFds: opts.extraFds,
        // The cgroup is made while the helper starts; it opens cgroup.procs only once it has its plan.
        beforePlan: () => cg!.create(resources),
        onSync: async (tag, p) => {
          if (tag !== 'createRuntime') return;
          const state: State = { ociVersion: spec.ociVersion, id, status: 'creating', pid: p ?? 0, bundle, annotations: spec.annotations ?? {} };
          // runc and crun give prestart hooks the status "created" (runtime-tools checks it).
          await runHooks('prestart', spec.hooks?.prestart, { ...state, status: 'created' });
          await runHooks('createRuntime', spec.hooks?.createRuntime, state);
        },
      });
      mark('runtime: helper spawned, cgroup made, plan sent');
      session.pid.then((p) => (pid = p));
      try {
        await session.ready;
        mark('runtime: ready');
      } catch (e) {
        session.release();
        throw mapHelperError(e);
      }
      pid = await session.pid;
      rec.pid = pid;
      rec.pidStartTime = procStat(pid)?.startTime ?? '';
      rec.phase = 'created';
      this.store.write(rec);
      if (opts.pidFile) writeFileAtomic(resolve(opts.pidFile), String(pid));
      return { rec, session, cg };
    } catch (e) {
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      if (cg) await this.removeCgroup(cg);
      this.store.remove(id);
      throw e;
    }
  }

  private async removeCgroup(cg: CgroupManager, probablyEmpty = false): Promise<void> {
    if (probablyEmpty) {
      try {
        cg.destroy();
        return;
      } catch {
        /* not empty after all: kill what is left below */
      }
    }
    for (let i = 0; i < 200; i++) {
      let pids: number[] = [];
      try {
        pids = cg.pids();
      } catch {
        pids = [];
      }
      if (pids.length === 0) break;
      try {
        cg.killAll('SIGKILL');
      } catch {
        /* already gone */
      }
      await sleep(5);
    }
    cg.destroy();
  }

  /** OCI create: the container waits for `start` at its fifo; this process may exit. */
  async create(id: string, opts: CreateOptions): Promise<number> {
    const { rec, session } = await this.createInternal(id, opts, { stay: false, fifo: true });
    session.release();
    return rec.pid;
  }

  /**
   * A detached container: berth-helper stays its parent as its monitor (stdout and stderr to the
   * log, the end to the status file) and outlives this process. Returns the pids of both.
   */
  async runDetached(id: string, opts: DetachedOptions): Promise<{ pid: number; monitorPid: number }> {
    const { rec, session } = await this.createInternal(id, { ...opts, stdio: opts.stdio ?? ['ignore', 'ignore', 'ignore'] }, { stay: true, fifo: false, detached: true });
    const monitorPid = session.child.pid ?? 0;
    session.release();
    return { pid: rec.pid, monitorPid };
  }

  /** OCI start: lets a created container execute its process; runs poststart hooks. */
  async start(id: string): Promise<{ warnings: string[] }> {
    const rec = this.store.read(id);
    const status = this.store.status(rec);
    if (status !== 'created') throw failedPrecondition(`cannot start container ${JSON.stringify(id)}: it is ${status}, not created`);
    const fifo = this.store.fifo(id);
    let fd: number;
    try {
      fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (e) {
      throw failedPrecondition(`cannot start container ${JSON.stringify(id)}: its process is gone (${errnoCode(e) ?? String(e)})`);
    }
    try {
      writeSync(fd, '1');
    } finally {
      closeSync(fd);
    }
    rmSync(fifo, { force: true });
    await this.waitExec(rec);
    const state: State = { ...this.store.state(rec), status: 'running', pid: rec.pid };
    return { warnings: await runHooksAll('poststart', rec.spec.hooks?.poststart, state) };
  }

  /** Waits until the container's process replaced the helper (execve done) or is gone. */
  private async waitExec(rec: ContainerRecord): Promise<void> {
    const helper = statSync(helperPath());
    const helperId = `${helper.dev}:${helper.ino}`;
    for (let i = 0; i < 60000; i++) {
      const id = exeId(rec.pid);
      if (id === undefined || id !== helperId || !processAlive(rec.pid, rec.pidStartTime)) return;
      await sleep(1);
    }
  }

  state(id: string): State {
    return this.store.state(this.store.read(id));
  }

  list(): ContainerInfo[] {
    const out: ContainerInfo[] = [];
    for (const id of this.store.ids()) {
      try {
        const rec = this.store.read(id);
        out.push({ ...this.store.state(rec), created: rec.created, owner: rec.owner });
      } catch {
        /* removed meanwhile */
      }
    }
    return out;
  }

  kill(id: string, signal: NodeJS.Signals | number = 'SIGTERM', all = false): void {
    const rec = this.store.read(id);
    const status = this.store.status(rec);
    if (status !== 'created' && status !== 'running') throw failedPrecondition(`cannot kill container ${JSON.stringify(id)}: it is ${status}`);
    if (all) this.cgroup(rec).killAll(signal);
    else process.kill(rec.pid, signal);
  }

  /** OCI delete: removes a stopped container (or, with force, kills it first). */
  async delete(id: string, force = false): Promise<{ warnings: string[] }> {
    const rec = this.store.read(id);
    const status = this.store.status(rec);
    // The spec: deleting a container that is not stopped is an error and changes nothing (podman
    // and containerd pass --force where they mean it).
    if (status !== 'stopped' && !force) throw conflict(`cannot delete container ${JSON.stringify(id)} that is not stopped: it is ${status}`);
    const cg = this.cgroup(rec);
    if (status === 'created' || status === 'running' || status === 'creating') {
      try {
        if (rec.pid > 0) process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      // Whatever else is in its cgroup (a container whose creator was killed before it
      // recorded the pid, a process it forked outside its pid namespace).
      try {
        cg.killAll('SIGKILL');
      } catch {
        /* no cgroup (yet) */
      }
      for (let i = 0; i < 2000 && processAlive(rec.pid, rec.pidStartTime); i++) await sleep(2);
    }
    await this.removeCgroup(cg);
    const warnings = await runHooksAll('poststop', rec.spec.hooks?.poststop, { ...this.store.state(rec), status: 'stopped' });
    this.store.remove(id);
    return { warnings };
  }

  /** Creates, starts and waits for a container, then deletes it: the engine's `run`. */
  async run(id: string, opts: RunOptions): Promise<ExitStatus> {
    const spec = this.loadSpec(resolve(opts.bundle));
    const hooks = spec.hooks ?? {};
    const needStart = (hooks.poststart?.length ?? 0) + (hooks.startContainer?.length ?? 0) > 0;
    const { rec, session, cg } = await this.createInternal(id, opts, { stay: true, fifo: needStart });
    let exit: HelperExit;
    let oomKilled = false;
    let exited = false;
    try {
      if (needStart) await this.start(id);
      opts.onStart?.(rec.pid);
      exit = await session.exited;
      mark('runtime: exited');
      exited = true;
      if (exit.signal === 9) oomKilled = cg.oomKilled() > 0;
    } finally {
      if (!opts.keep) {
        if (exited && !hooks.poststop?.length && this.ownPidNamespace(spec)) {
          // The init of its own pid namespace is gone, so is every process of the container:
          // the cgroup is empty and the state can go without the checks of delete().
          await this.removeCgroup(cg, true);
          this.store.remove(id);
        } else {
          await this.delete(id, true).catch(() => {});
        }
      }
    }
    mark('runtime: cleaned up');
    return { code: exit.code, signal: exit.signal, oomKilled };
  }

  private ownPidNamespace(spec: Spec): boolean {
    return (spec.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path);
  }

  /** Runs a process inside a created or running container. */
  async exec(id: string, opts: ExecOptions): Promise<ExitStatus & { pid: number }> {
    const rec = this.store.read(id);
    const status = this.store.status(rec);
    if (status !== 'running' && status !== 'created') throw failedPrecondition(`cannot exec in container ${JSON.stringify(id)}: it is ${status}`);
    validateSpec({ ociVersion: OCI_VERSION, process: opts.process }, 'process');
    const spec: Spec = { ...rec.spec, process: opts.process };
    const namespaces: [string, string][] = [];
    const order = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'];
    const types = new Set((rec.spec.linux?.namespaces ?? []).map((n) => n.type));
    // A namespace the container joined by path (a network namespace the engine made, another
    // container's) is owned by a user namespace outside the container's: joined before it, while
    // this process still has its capabilities there; the container's own ones after it.
    const byPath = new Set((rec.spec.linux?.namespaces ?? []).filter((n) => n.path).map((n) => n.type as string));
    for (const t of [...order.filter((x) => byPath.has(x)), ...order.filter((x) => !byPath.has(x))]) {
      if (!types.has(t as never)) continue;
      const f = NS_FILE[t]!;
      const theirs = nsInode(rec.pid, f);
      if (theirs !== undefined && theirs !== nsInode('self', f)) namespaces.push([t, `/proc/${rec.pid}/ns/${f}`]);
    }
    const cg = this.cgroup(rec);
    const plan: PlanOp[] = compileExecPlan({
      spec,
      namespaces,
      cgroups: cg.joinTargets(),
      stay: !opts.detach,
      tty: opts.tty && !opts.detach,
      ttySize: opts.terminal,
      consoleSocket: opts.consoleSocket,
      preserveFds: opts.extraFds?.length ?? 0,
      lastCap: lastCap(),
      seccomp: rec.spec.linux?.seccomp ? await this.seccompProgram(rec.spec.linux.seccomp) : undefined,
    });
    const session = startHelper(plan, { stdio: opts.stdio, terminal: opts.terminal, extraFds: opts.extraFds });
    try {
      await session.ready;
    } catch (e) {
      session.release();
      throw mapHelperError(e);
    }
    const pid = await session.pid;
    if (opts.pidFile) writeFileAtomic(resolve(opts.pidFile), String(pid));
    if (opts.detach) {
      session.release();
      return { pid, code: 0, oomKilled: false };
    }
    opts.onStart?.(pid);
    const exit = await session.exited;
    return { pid, code: exit.code, signal: exit.signal, oomKilled: false };
  }

  /** New resource limits for a container's cgroup. */
  update(id: string, resources: Resources): void {
    this.cgroup(this.store.read(id)).apply(resources);
  }

  /** Freezes every process of a running container (cgroup freezer). */
  pause(id: string): void {
    const rec = this.store.read(id);
    if (this.store.status(rec) !== 'running') throw failedPrecondition(`cannot pause container ${JSON.stringify(id)}: it is not running`);
    this.cgroup(rec).freeze();
  }

  resume(id: string): void {
    const rec = this.store.read(id);
    if (this.store.status(rec) !== 'running') throw failedPrecondition(`cannot resume container ${JSON.stringify(id)}: it is not running`);
    this.cgroup(rec).thaw();
  }

  /** Whether the container's cgroup is frozen. */
  paused(id: string): boolean {
    try {
      return this.cgroup(this.store.read(id)).freezerState() === 'FROZEN';
    } catch {
      return false;
    }
  }

  /** Pids of all processes in the container's cgroup. */
  ps(id: string): number[] {
    return this.cgroup(this.store.read(id)).pids();
  }

  stats(id: string) {
    return this.cgroup(this.store.read(id)).stats();
  }

  exists(id: string): boolean {
    return existsSync(join(this.store.dir(id), 'state.json'));
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units, in hex (a cache file name, not a digest). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
