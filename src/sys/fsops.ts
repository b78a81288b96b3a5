/**
 * File system operations Node cannot do itself (mknod, setxattr, mount, umount, and times of
 * symlinks), run by berth-helper in "fs mode": in the caller's namespaces, in order, no clone.
 */
import { spawnSync } from 'node:child_process';
import { BerthError, internal, unavailable } from '../lib/errors.js';
import { errnoInfo, startHelper } from './helper.js';
import { encodePlan, type PlanOp } from './helper-ops.js';
import { helperPath } from './paths.js';

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

/** An op of a synchronous fs-mode run failed (the helper itself ran). */
export class FsOpError extends BerthError {
  constructor(
    kind: 'NotFound' | 'InvalidArgument' | 'Internal',
    message: string,
    readonly errnoName: string,
  ) {
    super(kind, message);
  }
}

/**
 * Fs-mode ops (after the FS_MODE record this adds), synchronously: berth-helper with the plan on
 * its stdin and its results on its stdout. The first failure stops them and is thrown.
 */
export function runFsPlanSync(ops: readonly PlanOp[]): void {
  const plan: PlanOp[] = [{ op: 'FS_MODE', fields: [], what: 'file system operations' }, ...ops];
  const r = spawnSync(helperPath(), ['0', '1'], { input: encodePlan(plan), env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.error) throw unavailable(`start berth-helper ${JSON.stringify(helperPath())}: ${r.error.message}`);
  const lines = r.stdout.toString().split('\n');
  for (const line of lines) {
    if (line === 'done') return;
    const m = /^error (-?\d+) (\d+) ?(.*)$/.exec(line);
    if (m) {
      const idx = Number(m[1]);
      const [name, msg] = errnoInfo(Number(m[2]));
      const what = idx >= 0 && idx < plan.length ? plan[idx]!.what : m[3] || 'berth-helper';
      // (the bpf ops' detail says which step failed, or the verifier's reason)
      const detail = m[3] && idx >= 0 && idx < plan.length && plan[idx]!.op.startsWith('BPF_') ? ` (${m[3]})` : '';
      const kind = name === 'ENOENT' ? 'NotFound' : name === 'EINVAL' ? 'InvalidArgument' : 'Internal';
      throw new FsOpError(kind, `${what}: ${msg}${detail}`, name);
    }
  }
  throw internal(`berth-helper: ended without a result (exit status ${r.status}): ${r.stderr.toString().trim()}`);
}
