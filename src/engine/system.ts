/**
 * `system prune`, `system df` and `info`: what spans the services (containers, networks, images,
 * the build cache), as the API's /system/df, /info and the prune endpoints need it too.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { errnoCode, failedPrecondition, reason } from '../lib/errors.js';
import { runFsOps } from '../sys/fsops.js';
import type { ContainerService } from './containers.js';
import { cgroupSummary, hostLacks } from './host-check.js';
import type { ImageService, Usage } from './images.js';
import { treeSize } from '../snapshot/index.js';
import { withRooted } from '../sys/rooted.js';

export interface SystemPruneResult {
  containers: string[];
  networks: string[];
  images: string[];
  buildCacheRecords: number;
  /** Bytes: of the images and the build cache. */
  reclaimed: number;
}

export interface SystemInfo {
  Containers: number;
  ContainersRunning: number;
  DockerRootDir: string;
  RunRoot: string;
  /** nftables, iptables or none (published ports then through a userland proxy). */
  Firewall: string;
  /** The cgroup whose programs redirect TCP to published ports at connect(), or ''. */
  PortsAtConnect: string;
  /** "NAME (BRIDGE, SUBNET)" of each network. */
  Networks: string[];
  /** v1, hybrid or v2, and how device rules are enforced. */
  CgroupLayout: string;
  /** What the host lacks and what follows from it, one line each. */
  HostLacks: string[];
}

/** What berth makes at the top of a root and of a run root (and nothing else is there). */
const ROOT_ENTRIES = ['content', 'metadata', 'snapshots', 'volumes', 'buildcache', 'containers', 'mnt'] as const;
const RUNROOT_ENTRIES = ['runtime', 'containers', 'net', 'netns', 'dns', 'build', 'mnt'] as const;
/** The root's gc lock and its shared half (and their temporary names). */
const ROOT_LOCK = /^gc\.lock(\..*)?$/;

/**
 * `system reset` removes a directory only where it is berth's: absent, or holding at least one of
 * berth's entries and nothing else. `/`, an empty directory, a file or a directory with anything
 * berth does not make (a typo'd `--root`) are refused before anything is done, and nothing in
 * them is removed.
 */
function checkResettable(what: string, dir: string, own: readonly string[], opts: { emptyOk?: boolean } = {}): boolean {
  const refuse = (why: string) => failedPrecondition(`system reset: the ${what} ${JSON.stringify(dir)} is not one berth would remove: ${why}`);
  if (!isAbsolute(dir) || dir === '/') throw refuse('it is the file system root');
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw refuse(reason(e));
  }
  if (!st.isDirectory()) throw refuse(st.isSymbolicLink() ? 'it is a symbolic link' : 'it is not a directory');
  const names = readdirSync(dir);
  const foreign = names.filter((n) => !own.includes(n) && !(what === 'root' && ROOT_LOCK.test(n))).sort();
  if (foreign.length) throw refuse(`it holds ${foreign.slice(0, 3).map((n) => JSON.stringify(n)).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}, which berth did not make`);
  if (names.some((n) => own.includes(n))) return true;
  if (names.length === 0 && opts.emptyOk) return false;
  throw refuse(names.length ? "it holds none of berth's directories" : 'it is empty');
}

export class System {
  constructor(
    private readonly o: { root: string; runroot: string },
    private readonly images: ImageService,
    private readonly containers: ContainerService,
  ) {}

  /**
   * Removes stopped containers, unused networks (and what crashed containers left of theirs),
   * dangling images (all unused with `all`) and the build cache.
   */
  async prune(o: { all?: boolean } = {}): Promise<SystemPruneResult> {
    const containers = await this.containers.prune();
    const networks = (await this.containers.networks()).prune((id) => this.containers.isRunning(id), undefined, (id, name) => !this.containers.orphanEndpoint(id, name));
    const images = this.images.prune({ all: o.all === true });
    const { pruneBuildCache } = await import('./build.js');
    const cache = await pruneBuildCache(this.images, this.o.root);
    return { containers, networks, images: images.deleted, buildCacheRecords: cache.records, reclaimed: images.reclaimed + cache.reclaimed };
  }

  /**
   * `system reset`: everything of this root goes, in the order that leaves nothing on the host —
   * every container (killed, with its monitor, cgroups, namespaces, veths, ports and socket
   * program entries), what killed commands left (orphan containers, build steps), every network
   * (bridges, nft or iptables entries, DNS servers), then volumes, images, layers, the build cache,
   * and the root and the run root's berth directories themselves.
   */
  async reset(): Promise<{ containers: number; networks: number }> {
    const root = resolve(this.o.root);
    const runroot = resolve(this.o.runroot);
    // Before anything is touched: both directories must be berth's own (or not there at all).
    checkResettable('root', root, ROOT_ENTRIES);
    // An empty run root is left as it is (it may be a directory of the host's, such as a tmpfs).
    const ownRunroot = checkResettable('run root', runroot, RUNROOT_ENTRIES, { emptyOk: true });
    const all = this.containers.list();
    for (const c of all) await this.containers.remove(c.Id, true, true).catch(() => {});
    const { cleanStaleBuilds } = await import('./build.js');
    await cleanStaleBuilds(this.images, this.o).catch(() => {});
    const net = await this.containers.networks();
    net.cleanStale(() => false);
    let networks = 0;
    for (const n of net.list()) {
      for (const id of Object.keys(n.Endpoints)) net.release(id, [n.Id]);
      try {
        if (n.Name === 'bridge') net.teardownDefault();
        else {
          net.remove(n.Id);
          networks++;
        }
      } catch {
        /* already gone */
      }
    }
    // Anything still mounted under the roots (snapshots looked at by a killed command).
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(root + '/') || m.startsWith(runroot + '/'))
      .sort()
      .reverse();
    for (const m of mounts) await runFsOps([{ op: 'umount', target: m, flags: 2 /* MNT_DETACH */ }]).catch(() => {});
    rmSync(root, { recursive: true, force: true });
    // Only berth's own directories of the run root (checked above: nothing else is in it).
    for (const d of RUNROOT_ENTRIES) rmSync(join(runroot, d), { recursive: true, force: true });
    if (ownRunroot && existsSync(runroot) && readdirSync(runroot).length === 0) rmSync(runroot, { recursive: true, force: true });
    return { containers: all.length, networks };
  }

  /** `system df`: images, containers (their writable layers), local volumes and the build cache. */
  async df(): Promise<{ images: Usage; containers: Usage; volumes: Usage; buildCache: Usage }> {
    const { images, buildCache } = this.images.df();
    const all = this.containers.list();
    const containers: Usage = { count: all.length, active: 0, size: 0, reclaimable: 0 };
    for (const c of all) {
      const running = c.State.Status === 'running';
      const size = await this.images.snapshots.writableSize(c.Id).catch(() => 0);
      containers.size += size;
      if (running) containers.active++;
      else containers.reclaimable += size;
    }
    const vols = this.containers.volumes.list();
    const volumes: Usage = { count: vols.length, active: 0, size: 0, reclaimable: 0 };
    for (const v of vols) {
      const size = await withRooted(v.Mountpoint, (fs) => treeSize(fs)).catch(() => 0);
      volumes.size += size;
      if (this.containers.volumeUsers(v.Name).length) volumes.active++;
      else volumes.reclaimable += size;
    }
    return { images, containers, volumes, buildCache };
  }

  async info(): Promise<SystemInfo> {
    const net = await this.containers.networks();
    const all = this.containers.list();
    return {
      Containers: all.length,
      ContainersRunning: all.filter((c) => c.State.Status === 'running').length,
      DockerRootDir: this.o.root,
      RunRoot: this.o.runroot,
      Firewall: net.firewallBackend(),
      PortsAtConnect: net.localPortsCgroup() ?? '',
      Networks: net.list().map((n) => `${n.Name} (${n.Bridge}, ${n.Subnet})`),
      CgroupLayout: cgroupSummary(),
      HostLacks: hostLacks(),
    };
  }
}
