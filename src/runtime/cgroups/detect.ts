/** Finding the cgroup hierarchies from /proc/self/mountinfo, and naming a container's cgroup. */
import * as nodePath from 'node:path';
import { invalidArgument, unavailable } from '../../lib/errors.js';
import type { CgroupLayout } from './index.js';

/** The v1 controllers the kernel knows (super options of a `cgroup` mount that name one). */
export const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
]);

/**
 * Controllers whose presence as v1 hierarchies makes a host v1 or hybrid. A pure v2 host may still
 * carry a stray v1 mount of net_cls or perf_event (some VPN and monitoring tools mount one); that
 * does not make it hybrid.
 */
const CORE_V1 = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'devices', 'freezer'];

export interface MountinfoEntry {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/** Undoes the octal escapes (\040 for space, \011, \012, \134) mountinfo uses in paths. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The cgroup and cgroup2 mounts in a mountinfo text, in order. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 4) continue;
    const fstype = f[sep + 1]!;
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({
      root: unescape(f[3]!),
      mountpoint: unescape(f[4]!),
      fstype,
      superOptions: f[sep + 3]!.split(','),
    });
  }
  return out;
}

/** The layout a mountinfo text describes; throws Unavailable when it shows no cgroup mount. */
export function layoutFromMountinfo(text: string): CgroupLayout {
  const v1: Record<string, string> = {};
  const v1Root: Record<string, string> = {};
  let unified: string | undefined;
  let unifiedRoot = '';
  for (const m of parseMountinfo(text)) {
    if (m.fstype === 'cgroup2') {
      // A bind mount of a subtree (root other than "/") is taken only when nothing better is seen.
      if (unified === undefined || (unifiedRoot !== '/' && m.root === '/')) {
        unified = m.mountpoint;
        unifiedRoot = m.root;
      }
      continue;
    }
    for (const opt of m.superOptions) {
      if (!(opt.startsWith('name=') || V1_CONTROLLERS.has(opt))) continue;
      if (v1[opt] === undefined || (v1Root[opt] !== '/' && m.root === '/')) {
        v1[opt] = m.mountpoint;
        v1Root[opt] = m.root;
      }
    }
  }
  const hasCoreV1 = CORE_V1.some((c) => v1[c] !== undefined);
  if (hasCoreV1) return unified === undefined ? { mode: 'v1', v1 } : { mode: 'hybrid', v1, unified };
  if (unified !== undefined) return { mode: 'v2', v1: {}, unified };
  if (Object.keys(v1).length > 0) return { mode: 'v1', v1 };
  throw unavailable('detect cgroups: /proc/self/mountinfo shows no cgroup or cgroup2 file system');
}

/** The default parent of containers' cgroups, and of relative cgroupsPath values. */
export const DEFAULT_PARENT = '/berth';

/**
 * The absolute cgroup path (relative to each hierarchy's root) for a container; see index.ts.
 */
export function resolvePath(cgroupsPath: string | undefined, id: string): string {
  const where = 'linux.cgroupsPath';
  if (cgroupsPath === undefined || cgroupsPath === '') {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(id)) {
      throw invalidArgument(`container id ${JSON.stringify(id)}: not usable as a cgroup name`);
    }
    return `${DEFAULT_PARENT}/${id}`;
  }
  const quoted = JSON.stringify(cgroupsPath);
  if (/[\0\n]/.test(cgroupsPath)) throw invalidArgument(`${where}: ${quoted} contains a NUL or newline`);
  if (!cgroupsPath.includes('/') && /^[^:]*:[^:]*:[^:]+$/.test(cgroupsPath)) {
    throw invalidArgument(
      `${where}: ${quoted} is a systemd "slice:prefix:name" path; berth manages cgroupfs directly, give an absolute path`,
    );
  }
  const parts = cgroupsPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw invalidArgument(`${where}: ${quoted} must not contain ".."`);
  if (parts.length === 0) throw invalidArgument(`${where}: ${quoted} names the root cgroup`);
  const abs = cgroupsPath.startsWith('/') ? '/' + parts.join('/') : `${DEFAULT_PARENT}/${parts.join('/')}`;
  return nodePath.posix.normalize(abs);
}
