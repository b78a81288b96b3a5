/**
 * Test support only (imported by the *.test.ts files here, never by the manager): temporary
 * directories laid out like /sys/fs/cgroup for v1, hybrid and v2 hosts, and a CgroupFs that imitates
 * the kernel on them — mkdir fills a new cgroup with its controllers' files, rmdir removes them,
 * cgroup.subtree_control and cgroup.freeze behave, and every write is logged. Errors can be
 * injected per file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import type { CgroupLayout } from './index.js';
import { nodeCgroupFs, type CgroupFs } from './fs.js';

const UNLIMITED = '9223372036854771712';

export interface V1Options {
  /** Controllers to mount; default: this host's (cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids). */
  controllers?: string[];
  /** Named hierarchies ("name=systemd" mounted at <root>/systemd); default ["name=systemd"]. */
  named?: string[];
  /** Weight files in blkio: none (this host), CFQ's or BFQ's. */
  blkioWeight?: 'none' | 'cfq' | 'bfq';
  /** Whether memory.memsw.* exist (swap accounting); default true. */
  memsw?: boolean;
  /** Whether memory.kmem.tcp.limit_in_bytes exists; default false. */
  kmem?: boolean;
  /** co-mount cpu and cpuacct at <root>/cpu,cpuacct; default false. */
  comountCpu?: boolean;
}

export interface V2Options {
  /** Controllers the root offers; default cpuset cpu io memory hugetlb pids rdma. */
  controllers?: string[];
  /** io.bfq.weight instead of io.weight; default false. */
  bfq?: boolean;
  /** Whether memory.swap.* exist; default true. */
  swap?: boolean;
}

export const HUGE_SIZES = ['2MB', '1GB'];

function v1Files(ctrl: string, o: V1Options): Record<string, string> {
  switch (ctrl) {
    case 'cpu':
      return {
        'cpu.shares': '1024\n',
        'cpu.cfs_quota_us': '-1\n',
        'cpu.cfs_period_us': '100000\n',
        'cpu.cfs_burst_us': '0\n',
        'cpu.rt_runtime_us': '0\n',
        'cpu.rt_period_us': '1000000\n',
        'cpu.idle': '0\n',
        'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
      };
    case 'cpuacct':
      return {
        'cpuacct.usage': '0\n',
        'cpuacct.usage_user': '0\n',
        'cpuacct.usage_sys': '0\n',
        'cpuacct.usage_percpu': '0 0 \n',
        'cpuacct.stat': 'user 0\nsystem 0\n',
      };
    case 'cpuset':
      return { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' };
    case 'memory': {
      const f: Record<string, string> = {
        'memory.limit_in_bytes': UNLIMITED + '\n',
        'memory.soft_limit_in_bytes': UNLIMITED + '\n',
        'memory.usage_in_bytes': '0\n',
        'memory.max_usage_in_bytes': '0\n',
        'memory.failcnt': '0\n',
        'memory.swappiness': '60\n',
        'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
        'memory.stat': 'cache 0\nrss 0\nswap 0\ntotal_swap 0\n',
      };
      if (o.memsw ?? true) {
        f['memory.memsw.limit_in_bytes'] = UNLIMITED + '\n';
        f['memory.memsw.usage_in_bytes'] = '0\n';
      }
      if (o.kmem) f['memory.kmem.tcp.limit_in_bytes'] = UNLIMITED + '\n';
      return f;
    }
    case 'devices':
      return { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' };
    case 'freezer':
      return { 'freezer.state': 'THAWED\n' };
    case 'blkio': {
      const f: Record<string, string> = {
        'blkio.throttle.read_bps_device': '',
        'blkio.throttle.write_bps_device': '',
        'blkio.throttle.read_iops_device': '',
        'blkio.throttle.write_iops_device': '',
        'blkio.throttle.io_service_bytes_recursive': 'Total 0\n',
        'blkio.throttle.io_serviced_recursive': 'Total 0\n',
      };
      if (o.blkioWeight === 'cfq') {
        Object.assign(f, { 'blkio.weight': '500\n', 'blkio.weight_device': '', 'blkio.leaf_weight': '500\n', 'blkio.leaf_weight_device': '' });
      }
      if (o.blkioWeight === 'bfq') f['blkio.bfq.weight'] = 'default 100\n';
      return f;
    }
    case 'pids':
      return { 'pids.max': 'max\n', 'pids.current': '0\n' };
    case 'hugetlb': {
      const f: Record<string, string> = {};
      for (const s of HUGE_SIZES) {
        f[`hugetlb.${s}.limit_in_bytes`] = UNLIMITED + '\n';
        f[`hugetlb.${s}.usage_in_bytes`] = '0\n';
        f[`hugetlb.${s}.max_usage_in_bytes`] = '0\n';
        f[`hugetlb.${s}.failcnt`] = '0\n';
      }
      return f;
    }
    case 'net_cls':
      return { 'net_cls.classid': '0\n' };
    case 'net_prio':
      return { 'net_prio.ifpriomap': '' };
    default:
      return {};
  }
}

function v2Files(ctrl: string, o: V2Options): Record<string, string> {
  switch (ctrl) {
    case 'memory': {
      const f: Record<string, string> = {
        'memory.max': 'max\n',
        'memory.high': 'max\n',
        'memory.low': '0\n',
        'memory.current': '0\n',
        'memory.peak': '0\n',
        'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
        'memory.stat': 'anon 0\nfile 0\n',
      };
      if (o.swap ?? true) Object.assign(f, { 'memory.swap.max': 'max\n', 'memory.swap.current': '0\n' });
      return f;
    }
    case 'cpu':
      return { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.max.burst': '0\n', 'cpu.idle': '0\n' };
    case 'cpuset':
      return { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' };
    case 'io':
      return o.bfq
        ? { 'io.max': '', 'io.stat': '', 'io.bfq.weight': 'default 100\n' }
        : { 'io.max': '', 'io.stat': '', 'io.weight': 'default 100\n' };
    case 'pids':
      return { 'pids.max': 'max\n', 'pids.current': '0\n' };
    case 'hugetlb': {
      const f: Record<string, string> = {};
      for (const s of HUGE_SIZES) {
        f[`hugetlb.${s}.max`] = 'max\n';
        f[`hugetlb.${s}.rsvd.max`] = 'max\n';
        f[`hugetlb.${s}.current`] = '0\n';
        f[`hugetlb.${s}.events`] = 'max 0\n';
      }
      return f;
    }
    case 'rdma':
      return { 'rdma.max': '' };
    default:
      return {};
  }
}

function writeAll(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(nodePath.join(dir, name), content);
}

export interface Fixture {
  root: string;
  layout: CgroupLayout;
  kernel: FakeKernel;
  /** Removes the temporary tree. */
  cleanup(): void;
}

function tmpRoot(): string {
  return fs.mkdtempSync(nodePath.join(os.tmpdir(), 'berth-cgfix-'));
}

function v1Mounts(root: string, o: V1Options): Record<string, string> {
  const controllers = o.controllers ?? ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];
  const v1: Record<string, string> = {};
  for (const c of controllers) {
    const dirName = o.comountCpu && (c === 'cpu' || c === 'cpuacct') ? 'cpu,cpuacct' : c;
    v1[c] = nodePath.join(root, dirName);
  }
  for (const n of o.named ?? ['name=systemd']) v1[n] = nodePath.join(root, n.slice(5));
  for (const mount of new Set(Object.values(v1))) fs.mkdirSync(mount, { recursive: true });
  for (const [c, mount] of Object.entries(v1)) {
    writeAll(mount, { 'cgroup.procs': '', tasks: '', ...v1Files(c, o) });
    if (c === 'cpuset') writeAll(mount, { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n' });
  }
  return v1;
}

function v2Root(dir: string, o: V2Options): void {
  fs.mkdirSync(dir, { recursive: true });
  const controllers = o.controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma'];
  writeAll(dir, {
    'cgroup.procs': '',
    'cgroup.controllers': controllers.join(' ') + '\n',
    'cgroup.subtree_control': '\n',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
  });
}

export function v1Fixture(o: V1Options = {}): Fixture {
  const root = tmpRoot();
  const layout: CgroupLayout = { mode: 'v1', v1: v1Mounts(root, o) };
  return { root, layout, kernel: new FakeKernel(layout, o, {}), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

export function v2Fixture(o: V2Options = {}): Fixture {
  const root = tmpRoot();
  v2Root(root, o);
  const layout: CgroupLayout = { mode: 'v2', v1: {}, unified: root };
  return { root, layout, kernel: new FakeKernel(layout, {}, o), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** This host's shape: v1 controllers, name=systemd, and a cgroup2 mount offering only `unified` controllers. */
export function hybridFixture(o: V1Options = {}, unified: V2Options = { controllers: ['hugetlb'] }): Fixture {
  const root = tmpRoot();
  const v1 = v1Mounts(root, o);
  const u = nodePath.join(root, 'unified');
  v2Root(u, unified);
  const layout: CgroupLayout = { mode: 'hybrid', v1, unified: u };
  return { root, layout, kernel: new FakeKernel(layout, o, unified), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

function errno(code: string, what: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${what}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** The imitation kernel: a CgroupFs over a fixture tree. */
export class FakeKernel implements CgroupFs {
  /** Every successful write, in order. */
  readonly writes: { file: string; value: string }[] = [];
  /** Directories made through mkdir, in order. */
  readonly made: string[] = [];
  /** Return an errno code to make a write fail. */
  failWrite: ((file: string, value: string) => string | undefined) | undefined;
  /** Return an errno code to make a mkdir fail. */
  failMkdir: ((dir: string) => string | undefined) | undefined;

  constructor(
    private readonly layout: CgroupLayout,
    private readonly v1o: V1Options,
    private readonly v2o: V2Options,
  ) {}

  /** The writes whose file path ends with `suffix`, as [file name, value]. */
  writesTo(suffix: string): string[] {
    return this.writes.filter((w) => w.file.endsWith(suffix)).map((w) => w.value);
  }

  /** The writes as "<path relative to root>=<value>". */
  log(root: string): string[] {
    return this.writes.map((w) => `${nodePath.relative(root, w.file)}=${w.value}`);
  }

  private mountOf(dir: string): { mount: string; v2: boolean; controllers: string[] } | undefined {
    let best: { mount: string; v2: boolean; controllers: string[] } | undefined;
    const consider = (mount: string, v2: boolean, ctrl?: string) => {
      if (dir !== mount && !dir.startsWith(mount + '/')) return;
      if (best && best.mount.length > mount.length) return;
      if (best && best.mount === mount) {
        if (ctrl) best.controllers.push(ctrl);
        return;
      }
      best = { mount, v2, controllers: ctrl ? [ctrl] : [] };
    };
    if (this.layout.unified) consider(this.layout.unified, true);
    for (const [c, m] of Object.entries(this.layout.v1)) consider(m, false, c);
    return best;
  }

  read(file: string): string {
    return nodeCgroupFs.read(file);
  }

  exists(p: string): boolean {
    return nodeCgroupFs.exists(p);
  }

  subdirs(dir: string): string[] {
    return nodeCgroupFs.subdirs(dir);
  }

  list(dir: string): string[] {
    return nodeCgroupFs.list(dir);
  }

  mkdir(dir: string): void {
    const code = this.failMkdir?.(dir);
    if (code) throw errno(code, `mkdir ${dir}`);
    nodeCgroupFs.mkdir(dir);
    this.made.push(dir);
    const m = this.mountOf(dir);
    if (!m) return;
    if (!m.v2) {
      const files: Record<string, string> = { 'cgroup.procs': '', tasks: '' };
      for (const c of m.controllers) Object.assign(files, v1Files(c, this.v1o));
      writeAll(dir, files);
      return;
    }
    const parent = nodePath.dirname(dir);
    const enabled = fs.readFileSync(nodePath.join(parent, 'cgroup.subtree_control'), 'utf8').trim();
    const files: Record<string, string> = {
      'cgroup.procs': '',
      'cgroup.controllers': enabled + '\n',
      'cgroup.subtree_control': '\n',
      'cgroup.events': 'populated 0\nfrozen 0\n',
      'cgroup.freeze': '0\n',
      'cgroup.kill': '',
      'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
    };
    for (const c of enabled.split(/\s+/).filter(Boolean)) Object.assign(files, v2Files(c, this.v2o));
    writeAll(dir, files);
  }

  rmdir(dir: string): void {
    if (fs.existsSync(nodePath.join(dir, 'cgroup.procs')) && fs.readFileSync(nodePath.join(dir, 'cgroup.procs'), 'utf8').trim() !== '') {
      throw errno('EBUSY', `rmdir ${dir}`);
    }
    if (!fs.existsSync(dir)) throw errno('ENOENT', `rmdir ${dir}`);
    if (this.subdirs(dir).length > 0) throw errno('ENOTEMPTY', `rmdir ${dir}`);
    for (const name of fs.readdirSync(dir)) fs.unlinkSync(nodePath.join(dir, name));
    fs.rmdirSync(dir);
  }

  write(file: string, value: string): void {
    const code = this.failWrite?.(file, value);
    if (code) throw errno(code, `write ${file}`);
    const base = nodePath.basename(file);
    const dir = nodePath.dirname(file);
    if (base === 'cgroup.subtree_control') {
      this.subtreeControl(dir, value);
      this.writes.push({ file, value });
      return;
    }
    nodeCgroupFs.write(file, value); // ENOENT when the file does not exist, as in cgroupfs
    this.writes.push({ file, value });
    if (base === 'cgroup.freeze') {
      fs.writeFileSync(nodePath.join(dir, 'cgroup.events'), `populated 0\nfrozen ${value.trim() === '1' ? 1 : 0}\n`);
    }
  }

  private subtreeControl(dir: string, value: string): void {
    const file = nodePath.join(dir, 'cgroup.subtree_control');
    if (!fs.existsSync(file)) throw errno('ENOENT', `write ${file}`);
    const available = new Set(fs.readFileSync(nodePath.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean));
    const enabled = new Set(fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean));
    for (const tok of value.trim().split(/\s+/)) {
      const c = tok.slice(1);
      if (!available.has(c)) throw errno('ENOENT', `write ${file}`);
      if (tok[0] === '+') enabled.add(c);
      else enabled.delete(c);
    }
    fs.writeFileSync(file, [...enabled].join(' ') + '\n');
    // Children see the new set in cgroup.controllers, and the controllers' files appear.
    for (const child of this.subdirs(dir)) {
      const cdir = nodePath.join(dir, child);
      fs.writeFileSync(nodePath.join(cdir, 'cgroup.controllers'), [...enabled].join(' ') + '\n');
      for (const c of enabled) {
        for (const [name, content] of Object.entries(v2Files(c, this.v2o))) {
          const p = nodePath.join(cdir, name);
          if (!fs.existsSync(p)) fs.writeFileSync(p, content);
        }
      }
    }
  }
}
