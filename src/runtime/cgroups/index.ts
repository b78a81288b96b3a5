/**
 * berth's cgroup manager: creates a container's cgroup, applies OCI `linux.resources` to it, lets
 * processes join, reports usage, freezes, kills and removes it. It works on the three layouts Linux
 * hosts have, found by reading /proc/self/mountinfo (never assumed):
 *
 * - **v1**: one hierarchy per controller (or co-mounted group) under /sys/fs/cgroup/<ctrl>, plus
 *   named hierarchies such as name=systemd;
 * - **hybrid**: v1 hierarchies plus a cgroup2 mount (usually /sys/fs/cgroup/unified) that holds
 *   few or no controllers. berth creates the cgroup in every v1 hierarchy *and* on the cgroup2
 *   mount (so a process is tracked there too, as runc does); each resource goes to the v1
 *   controller when that is mounted, else to the cgroup2 mount when it offers the controller (on
 *   hosts whose cgroup2 mount offers only hugetlb, huge page limits are set there);
 * - **v2**: one unified hierarchy (usually /sys/fs/cgroup); controllers are enabled in the
 *   ancestors' cgroup.subtree_control.
 *
 * All file system calls are synchronous (they are small and on the path of container start).
 *
 * Conventions for `Resources` values, as runc reads them: a field that is absent or 0 is unset and
 * not written (except pids.limit, where 0 or less means unlimited, and hugepage limits, where 0 is
 * a real limit); -1 means unlimited ("max" on v2). Values are validated before anything is written
 * (see validate.ts); what the kernel then refuses comes back as
 * `linux.resources.<field>: write <file> "<value>": <errno reason>`.
 *
 * Limitations:
 * - cgroup v2 has no devices controller: device rules go to an eBPF device program attached to
 *   the cgroup2 directory (the `deviceProgram` option; the runtime passes devices-bpf.ts's).
 *   Without one, on pure v2 the rules are not enforced (apply() notes it; `devicesEnforced` is
 *   false).
 * - memory.kernel is ignored (the kernel deprecated kernel memory limits; runc 1.1+ ignores it too).
 * - v2 has no swappiness, OOM-killer switch or kernel memory limits: those become notes; real-time
 *   CPU budgets and blkio leaf weights are errors there, as are weights where no weight file exists.
 * - No systemd driver: cgroups are made with mkdir, systemd "slice:prefix:name" paths are refused.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { errnoCode, failedPrecondition, invalidArgument, unavailable } from '../../lib/errors.js';
import type { CpuResources, DeviceCgroupRule, MemoryResources, Resources } from '../../oci/runtime-spec.js';
import { parsePids } from './convert.js';
import { layoutFromMountinfo, resolvePath } from './detect.js';
import {
  causeCode,
  fsError,
  hasFile,
  nodeCgroupFs,
  readAt,
  sleepSync,
  tryReadAt,
  writeAt,
  type CgroupFs,
} from './fs.js';
import {
  blkioStatsV1,
  cpuStatsV1,
  cpuStatsV2,
  hugetlbStats,
  ioStatsV2,
  memoryStatsV1,
  memoryStatsV2,
  oomKillV1,
  oomKillV2,
  pidsStats,
} from './stats.js';
import {
  blkioV1,
  cpusetV1,
  cpuV1,
  devicesV1,
  hugetlbWrite,
  memoryV1,
  netClsV1,
  netPrioV1,
  pidsWrite,
  rdmaWrite,
  type WriteContext,
} from './v1.js';
import { controllerSet, cpusetV2, cpuV2, enableAllControllers, enableControllers, ioV2, memoryV2, unifiedWrite } from './v2.js';
import { validateResources } from './validate.js';

export type { CgroupFs } from './fs.js';
export { nodeCgroupFs } from './fs.js';
export { validateResources, MIN_MEMORY_LIMIT } from './validate.js';
export { sharesToWeight, blkioWeightToIoWeight } from './convert.js';
export { DEFAULT_PARENT } from './detect.js';

/** Which cgroup layout a host has. */
export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** See CgroupManager.joinTargets(). */
export interface CgroupJoin {
  tasks: string[];
  into?: string;
}

/** Where the hierarchies are mounted. Tests pass temporary directories here. */
export interface CgroupLayout {
  mode: CgroupMode;
  /**
   * v1 controller (cpu, memory, ...) or named hierarchy ("name=systemd") → its mountpoint.
   * Co-mounted controllers share a mountpoint. Empty, and ignored, in mode 'v2'.
   */
  v1: Record<string, string>;
  /** The cgroup2 mountpoint, in modes 'hybrid' and 'v2'. */
  unified?: string;
}

let cachedLayout: CgroupLayout | undefined;

/**
 * The cgroup layout of this host, from /proc/self/mountinfo (read once per process and cached), or
 * from the mountinfo text given (not cached; for tests).
 *
 * Mode: v1 hierarchies carrying a core controller (memory, cpu, cpuacct, cpuset, pids, blkio,
 * devices, freezer) make the host 'v1', or 'hybrid' when a cgroup2 file system is mounted too;
 * otherwise a cgroup2 mount makes it 'v2' (stray v1 mounts such as net_cls are then ignored).
 * Throws Unavailable when no cgroup file system is mounted.
 */
export function detectCgroups(opts: { mountinfo?: string } = {}): CgroupLayout {
  if (opts.mountinfo !== undefined) return layoutFromMountinfo(opts.mountinfo);
  if (cachedLayout === undefined) {
    let text: string;
    try {
      text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    } catch (e) {
      throw fsError('read /proc/self/mountinfo', e);
    }
    cachedLayout = layoutFromMountinfo(text);
  }
  return cachedLayout;
}

/**
 * The cgroup path (absolute, relative to each hierarchy's root) of container `id`:
 * - no `cgroupsPath` (undefined or ""): `/berth/<id>`;
 * - an absolute path (what Podman and Docker pass, e.g. /libpod_parent/libpod-<id>): itself,
 *   normalised ("//a/./b/" → "/a/b");
 * - a relative path: taken under `/berth/` ("x/y" → "/berth/x/y"). The spec leaves the base to the
 *   runtime; runc uses its own cgroup, which on v1 and hybrid hosts differs per hierarchy, so berth
 *   chooses one fixed, predictable place instead.
 * ".." components, the root itself, NUL/newline and systemd "slice:prefix:name" paths are refused
 * with InvalidArgument.
 */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string): string {
  return resolvePath(cgroupsPath, id);
}

/** Memory usage; bytes. */
export interface MemoryStats {
  /** In use now (v1 memory.usage_in_bytes, v2 memory.current). */
  usage: number;
  /** Peak (v1 memory.max_usage_in_bytes, v2 memory.peak where the kernel has it). */
  maxUsage?: number;
  /** The limit; null when unlimited. */
  limit: number | null;
  /** Times the limit was hit (v1 memory.failcnt, v2 memory.events "max"). */
  failcnt?: number;
  /** Processes killed by the OOM killer in this cgroup. */
  oomKill: number;
  /** Swap in use, swap alone (v1 memory.stat total_swap, v2 memory.swap.current). */
  swapUsage?: number;
  /** The memory+swap limit, as OCI's memory.swap counts it; null when unlimited. */
  swapLimit?: number | null;
  /** memory.stat as numbers (keys differ between v1 and v2). */
  stat: Record<string, number>;
}

/** CPU time; nanoseconds. */
export interface CpuStats {
  usageTotal: number;
  usageUser: number;
  usageSystem: number;
  /** Per CPU (v1 cpuacct.usage_percpu only). */
  perCpu?: number[];
  throttling: { periods: number; throttledPeriods: number; throttledTime: number };
}

export interface PidsStats {
  current: number;
  /** null when unlimited. */
  limit: number | null;
}

export interface BlkioDeviceStats {
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  readIos: number;
  writeIos: number;
}

export interface HugetlbStats {
  usage: number;
  maxUsage?: number;
  failcnt: number;
}

/** Usage of a cgroup in one shape for v1 and v2; a part is absent where its controller is. */
export interface CgroupStats {
  memory?: MemoryStats;
  cpu?: CpuStats;
  pids?: PidsStats;
  blkio?: { devices: BlkioDeviceStats[] };
  /** By page size ("2MB"). */
  hugetlb?: Record<string, HugetlbStats>;
}

/** State of the freezer. */
export type FreezerState = 'THAWED' | 'FREEZING' | 'FROZEN';

export interface CgroupManagerOptions {
  /** The file system to work on (tests imitate the kernel with a temporary directory). */
  fs?: CgroupFs;
  /** How long freeze()/thaw() wait for the state to be reached; default 5000 ms. */
  freezeTimeoutMs?: number;
  /**
   * Enforces device rules on a cgroup2 directory (an eBPF device program: see devices-bpf.ts),
   * where no v1 devices controller is mounted. Without it such rules are noted as not enforced.
   */
  deviceProgram?: (dir: string, rules: DeviceCgroupRule[]) => void;
}

interface Hierarchy {
  /** Mountpoint. */
  mount: string;
  /** The cgroup's directory in it. */
  dir: string;
  /** v1 controllers (and name=...) mounted there; empty for cgroup2. */
  controllers: string[];
  v2: boolean;
}

const R = 'linux.resources';
/** Delays between rmdir attempts on EBUSY (processes still exiting); about half a second in all. */
const RMDIR_DELAYS = [1, 2, 4, 8, 16, 32, 64, 100, 100, 100];

/** One container's cgroup, in every hierarchy of a layout. */
export class CgroupManager {
  readonly layout: CgroupLayout;
  /** The cgroup path, absolute from each hierarchy's root (see resolveCgroupPath). */
  readonly path: string;
  private readonly fs: CgroupFs;
  private readonly hierarchies: Hierarchy[];
  private readonly unifiedDir: string | undefined;
  private readonly freezeTimeoutMs: number;
  private readonly deviceProgram: CgroupManagerOptions['deviceProgram'];
  private rootControllers: Set<string> | undefined;

  constructor(layout: CgroupLayout, path: string, opts: CgroupManagerOptions = {}) {
    if (!path.startsWith('/') || path === '/' || nodePath.posix.normalize(path) !== path || path.endsWith('/')) {
      throw invalidArgument(`cgroup path ${JSON.stringify(path)}: must be absolute, normalised and not the root`);
    }
    if (path.split('/').includes('..')) throw invalidArgument(`cgroup path ${JSON.stringify(path)}: must not contain ".."`);
    if (layout.mode !== 'v1' && layout.unified === undefined) {
      throw invalidArgument(`cgroup layout: mode ${layout.mode} needs a unified (cgroup2) mountpoint`);
    }
    this.layout = layout;
    this.path = path;
    this.fs = opts.fs ?? nodeCgroupFs;
    this.freezeTimeoutMs = opts.freezeTimeoutMs ?? 5000;
    this.deviceProgram = opts.deviceProgram;
    const rel = path.slice(1);
    this.hierarchies = [];
    if (layout.mode !== 'v2') {
      const byMount = new Map<string, string[]>();
      for (const [ctrl, mount] of Object.entries(layout.v1)) {
        const list = byMount.get(mount) ?? [];
        list.push(ctrl);
        byMount.set(mount, list);
      }
      for (const [mount, controllers] of byMount) {
        this.hierarchies.push({ mount, dir: nodePath.join(mount, rel), controllers, v2: false });
      }
    }
    if (layout.mode !== 'v1' && layout.unified !== undefined) {
      this.unifiedDir = nodePath.join(layout.unified, rel);
      this.hierarchies.push({ mount: layout.unified, dir: this.unifiedDir, controllers: [], v2: true });
    }
  }

  /**
   * Whether device rules are enforced: where a v1 devices controller is mounted (v1, hybrid), or
   * by an eBPF device program on the cgroup2 directory (`deviceProgram`); otherwise apply()
   * records a note instead.
   */
  get devicesEnforced(): boolean {
    return (this.layout.mode !== 'v2' && this.layout.v1['devices'] !== undefined) || (this.unifiedDir !== undefined && this.deviceProgram !== undefined);
  }

  /**
   * Creates the cgroup in every hierarchy (each v1 hierarchy, named ones included, and the cgroup2
   * mount on hybrid and v2 hosts), ancestors included (`mkdir -p`); an existing directory is reused.
   * On v1, empty cpuset.cpus/cpuset.mems are copied from the parent at each level. On pure v2,
   * every controller an ancestor offers is enabled in its cgroup.subtree_control (best effort;
   * apply() insists on those a resource needs). Then applies `resources`. If anything fails, the
   * directories this call made are removed (deepest first; an ancestor someone else started using
   * stays) and the error is thrown. Returns apply()'s notes.
   */
  create(resources?: Resources): string[] {
    validateResources(resources);
    const created: string[] = [];
    try {
      for (const h of this.hierarchies) this.makePath(h, created);
      return resources ? this.apply(resources) : [];
    } catch (e) {
      for (const dir of created.reverse()) {
        try {
          this.fs.rmdir(dir);
        } catch {
          // busy or already gone: someone else's now
        }
      }
      throw e;
    }
  }

  private makePath(h: Hierarchy, created: string[]): void {
    const parts = this.path.split('/').filter(Boolean);
    const cpuset = h.controllers.includes('cpuset');
    for (let attempt = 0; ; attempt++) {
      let dir = h.mount;
      try {
        for (const part of parts) {
          if (h.v2 && this.layout.mode === 'v2') enableAllControllers(this.fs, dir);
          const next = nodePath.join(dir, part);
          try {
            this.fs.mkdir(next);
            created.push(next);
          } catch (e) {
            if (errnoCode(e) !== 'EEXIST') throw fsError(`mkdir ${next}`, e);
          }
          if (cpuset) this.initCpuset(dir, next);
          dir = next;
        }
        return;
      } catch (e) {
        // A parent removed under us by a concurrent cleanup: start again from the top.
        if (causeCode(e) === 'ENOENT' && attempt < 3) continue;
        throw e;
      }
    }
  }

  /** A new v1 cpuset cgroup has empty cpus and mems, and takes no task until they are set. */
  private initCpuset(parent: string, dir: string): void {
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = tryReadAt(this.fs, dir, file);
      if (own === undefined || own.trim() !== '') continue;
      const value = readAt(this.fs, parent, file).trim();
      if (value !== '') writeAt(this.fs, dir, file, value);
    }
  }

  /**
   * The cgroup.procs files a process writes its pid to, to join: one per hierarchy (v1 ones first,
   * then the cgroup2 one).
   */
  procsFiles(): string[] {
    return this.hierarchies.map((h) => nodePath.join(h.dir, 'cgroup.procs'));
  }

  /**
   * How a new process joins the cgroup: the `tasks` file of each v1 hierarchy (the process,
   * single-threaded then, writes "0" there to move itself) and the cgroup2 directory (the process
   * is cloned into it). Neither takes the kernel's global threadgroup lock, whose first taking
   * waits for an RCU grace period, as writing a pid to cgroup.procs does.
   */
  joinTargets(): CgroupJoin {
    const v2 = this.hierarchies.find((h) => h.v2);
    return { tasks: this.hierarchies.filter((h) => !h.v2).map((h) => nodePath.join(h.dir, 'tasks')), ...(v2 ? { into: v2.dir } : {}) };
  }

  /** Whether the cgroup's directory exists in any hierarchy. */
  exists(): boolean {
    return this.hierarchies.some((h) => this.fs.exists(h.dir));
  }

  private v1Dir(ctrl: string): string | undefined {
    if (this.layout.mode === 'v2') return undefined;
    const mount = this.layout.v1[ctrl];
    return mount === undefined ? undefined : nodePath.join(mount, this.path.slice(1));
  }

  /** Controllers the cgroup2 mount's root offers (read once). */
  private v2Offers(ctrl: string): boolean {
    if (this.layout.unified === undefined || this.layout.mode === 'v1') return false;
    this.rootControllers ??= controllerSet(tryReadAt(this.fs, this.layout.unified, 'cgroup.controllers'));
    return this.rootControllers.has(ctrl);
  }

  private missing(path: string, ctrl: string): Error {
    const where =
      this.layout.mode === 'v2'
        ? `not offered in ${this.layout.unified}/cgroup.controllers`
        : `not mounted as a cgroup v1 hierarchy${this.layout.unified ? ` and not offered in ${this.layout.unified}/cgroup.controllers` : ''}`;
    return failedPrecondition(`${path}: the ${ctrl} cgroup controller is not available (${where})`);
  }

  /**
   * Applies `resources` to the existing cgroup (at create, and for a later update). Each group goes
   * to the v1 controller when mounted, else to the cgroup2 hierarchy when it offers the controller
   * (enabling it down the path as needed); a limit asked for with neither is an error, while a value
   * that only lifts a limit is then skipped. Order: cpuset, devices, memory, cpu, pids, blkio,
   * hugetlb, net_cls, net_prio, rdma, unified (last, so its keys win).
   * Returns notes on settings that were ignored (`<json path>: ignored: <why>`), for the caller to
   * report as warnings.
   */
  apply(resources: Resources): string[] {
    validateResources(resources);
    const r = resources;
    const ctx: WriteContext = { fs: this.fs, notes: [] };
    if (!this.exists()) throw failedPrecondition(`apply resources: cgroup ${this.path} does not exist`);
    const plan: (() => void)[] = [];
    const need = new Map<string, string>();
    const u = this.unifiedDir;
    /** Routes a group: v1 dir, else v2 (if offered), else error (if required) or skip. */
    const route = (
      v1: string,
      v2: string | undefined,
      path: string,
      required: boolean,
      onV1: (dir: string) => void,
      onV2: ((dir: string) => void) | undefined,
    ) => {
      const d = this.v1Dir(v1);
      if (d !== undefined) plan.push(() => onV1(d));
      else if (v2 !== undefined && onV2 !== undefined && u !== undefined && this.v2Offers(v2)) {
        need.set(v2, path);
        plan.push(() => onV2(u));
      } else if (required) throw this.missing(path, v1);
    };

    const c = r.cpu;
    if (c && (c.cpus || c.mems)) {
      route('cpuset', 'cpuset', `${R}.cpu.${c.cpus ? 'cpus' : 'mems'}`, true, (d) => cpusetV1(ctx, d, c), (d) => cpusetV2(ctx, d, c));
    }
    if (r.devices && r.devices.length > 0) {
      const d = this.v1Dir('devices');
      const prog = this.deviceProgram;
      if (d !== undefined) plan.push(() => devicesV1(ctx, d, r.devices!));
      else if (u !== undefined && prog !== undefined) plan.push(() => prog(u, r.devices!));
      else {
        ctx.notes.push(
          `${R}.devices: not enforced: ${this.layout.mode === 'v2' ? 'cgroup v2 device control needs an eBPF device program, and none can be loaded here' : 'the devices controller is not mounted'}`,
        );
      }
    }
    const m = r.memory;
    if (m && memoryPresent(m)) {
      route('memory', 'memory', `${R}.memory`, memoryRequired(m), (d) => memoryV1(ctx, d, m), (d) => memoryV2(ctx, d, m));
    }
    if (c && cpuPresent(c)) {
      route('cpu', 'cpu', `${R}.cpu`, cpuRequired(c), (d) => cpuV1(ctx, d, c), (d) => cpuV2(ctx, d, c));
    }
    if (r.pids && r.pids.limit !== undefined && r.pids.limit !== null) {
      const limit = r.pids.limit;
      route('pids', 'pids', `${R}.pids.limit`, limit > 0, (d) => pidsWrite(ctx, d, limit), (d) => pidsWrite(ctx, d, limit));
    }
    const b = r.blockIO;
    if (b && blkioPresent(b)) {
      route('blkio', 'io', `${R}.blockIO`, blkioRequired(b), (d) => blkioV1(ctx, d, b), (d) => ioV2(ctx, d, b));
    }
    const hp = r.hugepageLimits;
    if (hp && hp.length > 0) {
      route(
        'hugetlb',
        'hugetlb',
        `${R}.hugepageLimits`,
        hp.some((h) => h.limit !== -1),
        (d) => hugetlbWrite(ctx, d, hp, false),
        (d) => hugetlbWrite(ctx, d, hp, true),
      );
    }
    const n = r.network;
    if (n?.classID) {
      const id = n.classID;
      route('net_cls', undefined, `${R}.network.classID`, true, (d) => netClsV1(ctx, d, id), undefined);
    }
    if (n?.priorities && n.priorities.length > 0) {
      const prios = n.priorities;
      route('net_prio', undefined, `${R}.network.priorities`, true, (d) => netPrioV1(ctx, d, prios), undefined);
    }
    if (r.rdma && Object.keys(r.rdma).length > 0) {
      const rdma = r.rdma;
      route('rdma', 'rdma', `${R}.rdma`, true, (d) => rdmaWrite(ctx, d, rdma), (d) => rdmaWrite(ctx, d, rdma));
    }
    const uni = r.unified;
    if (uni && Object.keys(uni).length > 0) {
      if (u === undefined) {
        throw failedPrecondition(`${R}.unified: this host has no cgroup2 hierarchy (cgroup v1 only)`);
      }
      for (const key of Object.keys(uni)) {
        const ctrl = key.slice(0, key.indexOf('.'));
        if (this.v2Offers(ctrl) && !need.has(ctrl)) need.set(ctrl, `${R}.unified[${JSON.stringify(key)}]`);
      }
      plan.push(() => unifiedWrite(ctx, u, uni));
    }

    if (need.size > 0 && u !== undefined) enableControllers(this.fs, this.layout.unified!, u, need);
    for (const step of plan) step();
    return ctx.notes;
  }

  /** All pids in the cgroup and its descendants, in every hierarchy (union, ascending). */
  pids(): number[] {
    const seen = new Set<number>();
    const walk = (dir: string) => {
      const text = tryReadAt(this.fs, dir, 'cgroup.procs');
      if (text === undefined) return;
      for (const pid of parsePids(text)) seen.add(pid);
      let subs: string[] = [];
      try {
        subs = this.fs.subdirs(dir);
      } catch {
        // gone meanwhile
      }
      for (const s of subs) walk(nodePath.join(dir, s));
    };
    for (const h of this.hierarchies) walk(h.dir);
    return [...seen].sort((a, b) => a - b);
  }

  /**
   * Usage figures (see CgroupStats). Each part comes from the v1 controller when mounted, else from
   * the cgroup2 hierarchy; a part is left out where its files are missing.
   */
  stats(): CgroupStats {
    const out: CgroupStats = {};
    const u = this.unifiedDir;
    const mem = this.v1Dir('memory');
    const memory = mem !== undefined ? memoryStatsV1(this.fs, mem) : u !== undefined ? memoryStatsV2(this.fs, u) : undefined;
    if (memory) out.memory = memory;
    const cpuacct = this.v1Dir('cpuacct');
    const cpuDir = this.v1Dir('cpu');
    const cpu =
      cpuacct !== undefined || cpuDir !== undefined
        ? cpuStatsV1(this.fs, cpuacct, cpuDir)
        : u !== undefined
          ? cpuStatsV2(this.fs, u)
          : undefined;
    if (cpu) out.cpu = cpu;
    const pidsDir = this.v1Dir('pids') ?? u;
    const pids = pidsDir !== undefined ? pidsStats(this.fs, pidsDir) : undefined;
    if (pids) out.pids = pids;
    const blk = this.v1Dir('blkio');
    const devices = blk !== undefined ? blkioStatsV1(this.fs, blk) : u !== undefined ? ioStatsV2(this.fs, u) : undefined;
    if (devices) out.blkio = { devices };
    const huge = this.v1Dir('hugetlb');
    const hugetlb = huge !== undefined ? hugetlbStats(this.fs, huge, false) : u !== undefined ? hugetlbStats(this.fs, u, true) : undefined;
    if (hugetlb) out.hugetlb = hugetlb;
    return out;
  }

  /** How many processes the OOM killer killed in the cgroup (0 where the kernel does not count). */
  oomKilled(): number {
    const mem = this.v1Dir('memory');
    if (mem !== undefined) return oomKillV1(this.fs, mem);
    return this.unifiedDir !== undefined ? oomKillV2(this.fs, this.unifiedDir) : 0;
  }

  /** The freezer to use: the v1 freezer when mounted, else cgroup.freeze on the cgroup2 mount. */
  private freezer(): { v1: string } | { v2: string } | undefined {
    const d = this.v1Dir('freezer');
    if (d !== undefined) return { v1: d };
    if (this.unifiedDir !== undefined && hasFile(this.fs, this.unifiedDir, 'cgroup.freeze')) return { v2: this.unifiedDir };
    return undefined;
  }

  private requireFreezer(what: string): { v1: string } | { v2: string } {
    const f = this.freezer();
    if (f) return f;
    throw failedPrecondition(
      `${what} cgroup ${this.path}: no freezer (the v1 freezer is not mounted${this.unifiedDir ? ` and ${this.unifiedDir}/cgroup.freeze does not exist` : ''})`,
    );
  }

  /** The freezer state (v1 freezer.state; v2 from cgroup.freeze and cgroup.events). */
  freezerState(): FreezerState {
    const f = this.requireFreezer('read the freezer state of');
    if ('v1' in f) return readAt(this.fs, f.v1, 'freezer.state').trim() as FreezerState;
    const want = readAt(this.fs, f.v2, 'cgroup.freeze').trim() === '1';
    const frozen = v2Frozen(this.fs, f.v2);
    return want ? (frozen ? 'FROZEN' : 'FREEZING') : 'THAWED';
  }

  /** Freezes every process of the cgroup and waits until the kernel reports it frozen. */
  freeze(): void {
    this.setFrozen(true);
  }

  /** Thaws the cgroup and waits until the kernel reports it thawed. */
  thaw(): void {
    this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): void {
    const f = this.requireFreezer(frozen ? 'freeze' : 'thaw');
    const deadline = Date.now() + this.freezeTimeoutMs;
    let delay = 1;
    let lastKick = Date.now();
    const request = () => {
      if ('v1' in f) writeAt(this.fs, f.v1, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
      else writeAt(this.fs, f.v2, 'cgroup.freeze', frozen ? '1' : '0');
    };
    request();
    for (;;) {
      const reached =
        'v1' in f
          ? readAt(this.fs, f.v1, 'freezer.state').trim() === (frozen ? 'FROZEN' : 'THAWED')
          : v2Frozen(this.fs, f.v2) === frozen;
      if (reached) return;
      if (Date.now() > deadline) {
        if (frozen) {
          try {
            this.setFrozenNoWait(f, false);
          } catch {
            // the error below says what matters
          }
        }
        throw unavailable(
          `${frozen ? 'freeze' : 'thaw'} cgroup ${this.path}: not ${frozen ? 'frozen' : 'thawed'} after ${this.freezeTimeoutMs} ms`,
        );
      }
      sleepSync(delay);
      delay = Math.min(delay * 2, 10);
      // A v1 cgroup can stay FREEZING while a task sits in an uninterruptible sleep; asking again
      // now and then lets the kernel retry.
      if (Date.now() - lastKick > 100) {
        request();
        lastKick = Date.now();
      }
    }
  }

  private setFrozenNoWait(f: { v1: string } | { v2: string }, frozen: boolean): void {
    if ('v1' in f) writeAt(this.fs, f.v1, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
    else writeAt(this.fs, f.v2, 'cgroup.freeze', frozen ? '1' : '0');
  }

  /**
   * Sends `signal` (default SIGKILL) to every process in the cgroup. SIGKILL uses cgroup.kill where
   * the cgroup2 hierarchy has it (kernel 5.14+; on hybrid hosts the per-pid pass below follows, for
   * processes only in v1 hierarchies). Otherwise the cgroup is frozen while the pids are read and
   * signalled, so that none escapes by forking, then thawed — except that a cgroup that was frozen
   * before stays frozen, unless the signal is SIGKILL (the processes could not die frozen).
   */
  killAll(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    const sig = typeof signal === 'number' ? signal : os.constants.signals[signal];
    if (sig === undefined || !Number.isInteger(sig) || sig < 0) {
      throw invalidArgument(`kill cgroup ${this.path}: unknown signal ${JSON.stringify(signal)}`);
    }
    const SIGKILL = os.constants.signals.SIGKILL;
    const u = this.unifiedDir;
    if (sig === SIGKILL && u !== undefined && hasFile(this.fs, u, 'cgroup.kill')) {
      writeAt(this.fs, u, 'cgroup.kill', '1');
      if (this.layout.mode === 'v2') return;
    }
    const f = this.freezer();
    let wasFrozen = false;
    let froze = false;
    if (f) {
      try {
        wasFrozen = this.freezerState() === 'FROZEN';
        if (!wasFrozen) {
          this.freeze();
          froze = true;
        }
      } catch {
        // signal without the freezer's help
      }
    }
    try {
      for (const pid of this.pids()) {
        if (pid === process.pid) continue;
        try {
          process.kill(pid, sig);
        } catch (e) {
          if (errnoCode(e) !== 'ESRCH') throw fsError(`kill cgroup ${this.path}: signal ${sig} to pid ${pid}`, e);
        }
      }
    } finally {
      if (f && (froze || (wasFrozen && sig === SIGKILL))) this.thaw();
    }
  }

  /**
   * Removes the cgroup from every hierarchy: child cgroups the container made first, then the
   * leaf. rmdir is retried for about half a second on EBUSY (processes still exiting); ENOENT is
   * success. Ancestors are never removed (other containers may use them). Every hierarchy is tried;
   * the first failure is thrown after.
   */
  destroy(): void {
    let first: unknown;
    for (const h of this.hierarchies) {
      try {
        this.removeTree(h.dir);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  private removeTree(dir: string): void {
    let subs: string[];
    try {
      subs = this.fs.subdirs(dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw fsError(`remove cgroup ${dir}`, e);
    }
    for (const s of subs) this.removeTree(nodePath.join(dir, s));
    for (let i = 0; ; i++) {
      try {
        this.fs.rmdir(dir);
        return;
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') return;
        if (code === 'EBUSY' && i < RMDIR_DELAYS.length) {
          sleepSync(RMDIR_DELAYS[i]!);
          continue;
        }
        throw fsError(`rmdir ${dir}`, e);
      }
    }
  }
}

function v2Frozen(cfs: CgroupFs, dir: string): boolean {
  const events = tryReadAt(cfs, dir, 'cgroup.events') ?? '';
  return /^frozen 1$/m.test(events);
}

const set = (n: number | undefined) => n !== undefined && n !== 0;

function memoryPresent(m: MemoryResources): boolean {
  return (
    set(m.limit) ||
    set(m.reservation) ||
    set(m.swap) ||
    set(m.kernel) ||
    set(m.kernelTCP) ||
    (m.swappiness !== undefined && m.swappiness !== -1) ||
    m.disableOOMKiller !== undefined ||
    m.checkBeforeUpdate === true
  );
}

function memoryRequired(m: MemoryResources): boolean {
  return (
    (m.limit ?? 0) > 0 ||
    (m.reservation ?? 0) > 0 ||
    (m.swap ?? 0) > 0 ||
    (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) ||
    m.disableOOMKiller === true
  );
}

function cpuPresent(c: CpuResources): boolean {
  return (
    set(c.shares) ||
    set(c.quota) ||
    set(c.period) ||
    set(c.burst) ||
    set(c.realtimeRuntime) ||
    set(c.realtimePeriod) ||
    c.idle !== undefined
  );
}

function cpuRequired(c: CpuResources): boolean {
  return (
    (c.shares ?? 0) > 0 ||
    (c.quota ?? 0) > 0 ||
    (c.period ?? 0) > 0 ||
    (c.burst ?? 0) > 0 ||
    (c.realtimeRuntime ?? 0) > 0 ||
    (c.realtimePeriod ?? 0) > 0 ||
    c.idle === 1
  );
}

function blkioPresent(b: NonNullable<Resources['blockIO']>): boolean {
  return (
    set(b.weight) ||
    set(b.leafWeight) ||
    (b.weightDevice?.length ?? 0) > 0 ||
    (b.throttleReadBpsDevice?.length ?? 0) > 0 ||
    (b.throttleWriteBpsDevice?.length ?? 0) > 0 ||
    (b.throttleReadIOPSDevice?.length ?? 0) > 0 ||
    (b.throttleWriteIOPSDevice?.length ?? 0) > 0
  );
}

function blkioRequired(b: NonNullable<Resources['blockIO']>): boolean {
  const throttled = [b.throttleReadBpsDevice, b.throttleWriteBpsDevice, b.throttleReadIOPSDevice, b.throttleWriteIOPSDevice].some(
    (l) => (l ?? []).some((d) => d.rate > 0),
  );
  return (
    (b.weight ?? 0) > 0 ||
    (b.leafWeight ?? 0) > 0 ||
    (b.weightDevice ?? []).some((d) => (d.weight ?? 0) > 0 || (d.leafWeight ?? 0) > 0) ||
    throttled
  );
}
