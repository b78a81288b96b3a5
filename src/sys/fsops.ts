/**
 * File system operations Node cannot do itself (mknod, setxattr, mount, umount, and times of
 * symlinks), run by berth-helper in "fs mode": in the caller's namespaces, in order, no clone.
 */
import { startHelper } from './helper.js';
import type { PlanOp } from './helper-ops.js';

export type FsOp =
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number; uid?: number; gid?: number }
  | { op: 'setxattr'; path: string; name: string; value: Buffer | string }
  | { op: 'mount'; source: string; target: string; fstype: string; flags?: number; data?: string }
  | { op: 'umount'; target: string; flags?: number }
  | { op: 'mkdir'; path: string; mode?: number }
  | { op: 'lchown'; path: string; uid: number; gid: number }
  | { op: 'utimes'; path: string; atimeNs: bigint; mtimeNs: bigint };

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function fsOpToPlan(o: FsOp): PlanOp {
  switch (o.op) {
    case 'mknod':
      return { op: 'MKNOD', fields: [o.mode, makedev(o.major, o.minor), o.uid ?? 0, o.gid ?? 0, o.path], what: `mknod ${JSON.stringify(o.path)}` };
    case 'setxattr': {
      const v = typeof o.value === 'string' ? Buffer.from(o.value) : o.value;
      return { op: 'SETXATTR', fields: [o.path, o.name, v.length, v], what: `setxattr ${o.name} on ${JSON.stringify(o.path)}` };
    }
    case 'mount':
      return { op: 'MOUNT', fields: [o.flags ?? 0, o.source, o.target, o.fstype, o.data ?? ''], what: `mount ${o.fstype} on ${JSON.stringify(o.target)}` };
    case 'umount':
      return { op: 'UMOUNT', fields: [o.flags ?? 0, o.target], what: `unmount ${JSON.stringify(o.target)}` };
    case 'mkdir':
      return { op: 'MKDIR', fields: [o.mode ?? 0o755, o.path], what: `mkdir ${JSON.stringify(o.path)}` };
    case 'lchown':
      return { op: 'LCHOWN', fields: [o.uid, o.gid, o.path], what: `chown ${JSON.stringify(o.path)}` };
    case 'utimes':
      return { op: 'UTIMES', fields: [o.atimeNs, o.mtimeNs, o.path], what: `set times of ${JSON.stringify(o.path)}` };
  }
}

/** Runs the ops in order with berth-helper; the first failure stops them and is thrown. */
export async function runFsOps(ops: readonly FsOp[]): Promise<void> {
  if (ops.length === 0) return;
  const plan: PlanOp[] = [{ op: 'FS_MODE', fields: [], what: 'file system operations' }, ...ops.map(fsOpToPlan)];
  const session = startHelper(plan, { stdio: ['ignore', 'ignore', 'inherit'] });
  await session.exited;
}
