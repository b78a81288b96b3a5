/**
 * Writers for the cgroup v2 (unified) hierarchy, and enabling controllers down a path through
 * cgroup.subtree_control.
 */
import * as nodePath from 'node:path';
import { failedPrecondition, invalidArgument } from '../../lib/errors.js';
import type { BlockIO, CpuResources, MemoryResources, ThrottleDevice } from '../../oci/runtime-spec.js';
import { blkioWeightToIoWeight, parseLimit, sharesToWeight, swapToV2, v2Limit } from './convert.js';
import { hasFile, readAt, tryReadAt, writeAt, type CgroupFs } from './fs.js';
import { checkUsage, type WriteContext } from './v1.js';

const R = 'linux.resources';

/** The controllers listed in a cgroup.controllers / cgroup.subtree_control text. */
export function controllerSet(text: string | undefined): Set<string> {
  return new Set((text ?? '').split(/\s+/).filter((s) => s !== ''));
}

/**
 * Makes `controllers` available in `leaf` by enabling them in cgroup.subtree_control of every
 * directory from `root` down to the leaf's parent. Strict: a controller the hierarchy does not offer
 * or the kernel refuses is an error naming `reasons.get(controller)` (the JSON path that needs it).
 * Controllers already there cost one read of the leaf's cgroup.controllers.
 */
export function enableControllers(
  fs: CgroupFs,
  root: string,
  leaf: string,
  controllers: Map<string, string>,
): void {
  if (controllers.size === 0) return;
  const have = controllerSet(tryReadAt(fs, leaf, 'cgroup.controllers'));
  const missing = [...controllers.keys()].filter((c) => !have.has(c));
  if (missing.length === 0) return;
  for (const dir of ancestors(root, leaf)) {
    const available = controllerSet(tryReadAt(fs, dir, 'cgroup.controllers'));
    const enabled = controllerSet(tryReadAt(fs, dir, 'cgroup.subtree_control'));
    const todo = missing.filter((c) => !enabled.has(c));
    for (const c of todo) {
      if (!available.has(c)) {
        throw failedPrecondition(
          `${controllers.get(c)}: the ${c} controller is not available in ${nodePath.join(dir, 'cgroup.controllers')} (${[...available].join(' ') || 'empty'})`,
        );
      }
    }
    if (todo.length > 0) {
      writeAt(fs, dir, 'cgroup.subtree_control', todo.map((c) => '+' + c).join(' '), controllers.get(todo[0]!));
    }
  }
}

/**
 * Best effort: enables in `dir`'s cgroup.subtree_control every controller its cgroup.controllers
 * offers, all in one write, else one by one, skipping those the kernel refuses (a cgroup holding
 * processes cannot delegate; cpu is refused while real-time tasks run in the subtree).
 */
export function enableAllControllers(fs: CgroupFs, dir: string): void {
  const available = controllerSet(tryReadAt(fs, dir, 'cgroup.controllers'));
  const enabled = controllerSet(tryReadAt(fs, dir, 'cgroup.subtree_control'));
  const todo = [...available].filter((c) => !enabled.has(c));
  if (todo.length === 0) return;
  try {
    writeAt(fs, dir, 'cgroup.subtree_control', todo.map((c) => '+' + c).join(' '));
  } catch {
    for (const c of todo) {
      try {
        writeAt(fs, dir, 'cgroup.subtree_control', '+' + c);
      } catch {
        // left disabled; apply() reports it if a resource needs it
      }
    }
  }
}

/** `root` and every directory below it down to `leaf`'s parent. */
export function ancestors(root: string, leaf: string): string[] {
  const rel = nodePath.relative(root, leaf);
  const parts = rel === '' ? [] : rel.split(nodePath.sep);
  const out = [root];
  for (let i = 1; i < parts.length; i++) out.push(nodePath.join(root, ...parts.slice(0, i)));
  return out;
}

/** memory.max, memory.swap.max, memory.low; the v1-only settings become notes. */
export function memoryV2(ctx: WriteContext, dir: string, m: MemoryResources): void {
  const p = `${R}.memory`;
  const { fs } = ctx;
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  if (m.checkBeforeUpdate && limit > 0) checkUsage(fs, dir, 'memory.current', limit, `${p}.limit`);
  // The swap total is relative to the memory limit: the request's, or the one in force.
  let base = limit;
  if (swap > 0 && limit === 0) base = parseLimit(readAt(fs, dir, 'memory.max')) ?? -1;
  const s = swapToV2(swap, base);
  if (s.error !== undefined) throw invalidArgument(`${p}.swap: ${s.error}`);
  if (s.value !== undefined) {
    if (hasFile(fs, dir, 'memory.swap.max')) writeAt(fs, dir, 'memory.swap.max', s.value, `${p}.swap`);
    else if (s.value !== 'max') {
      throw failedPrecondition(`${p}.swap: swap accounting is not enabled on this host (no ${dir}/memory.swap.max)`);
    }
  }
  if (limit !== 0) writeAt(fs, dir, 'memory.max', v2Limit(limit), `${p}.limit`);
  if (m.reservation !== undefined && m.reservation !== 0) {
    writeAt(fs, dir, 'memory.low', v2Limit(m.reservation), `${p}.reservation`);
  }
  if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) {
    ctx.notes.push(`${p}.swappiness: ignored: cgroup v2 has no per-cgroup swappiness`);
  }
  if (m.disableOOMKiller) ctx.notes.push(`${p}.disableOOMKiller: ignored: cgroup v2 cannot disable the OOM killer`);
  if (m.kernel) ctx.notes.push(`${p}.kernel: ignored: cgroup v2 has no separate kernel memory limit`);
  if (m.kernelTCP) ctx.notes.push(`${p}.kernelTCP: ignored: cgroup v2 has no separate kernel TCP memory limit`);
}

/** cpu.weight, cpu.max, cpu.max.burst, cpu.idle. Real-time budgets do not exist on v2. */
export function cpuV2(ctx: WriteContext, dir: string, c: CpuResources): void {
  const p = `${R}.cpu`;
  const { fs } = ctx;
  if (c.realtimeRuntime || c.realtimePeriod) {
    const field = c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod';
    throw failedPrecondition(`${p}.${field}: real-time CPU budgets are not supported on cgroup v2`);
  }
  if (c.shares) writeAt(fs, dir, 'cpu.weight', String(sharesToWeight(c.shares)), `${p}.shares`);
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (quota !== 0 || period !== 0) {
    // cpu.max is "<quota|max> <period>"; with only a period asked for, keep the quota in force.
    const q = quota > 0 ? String(quota) : quota === -1 ? 'max' : readAt(fs, dir, 'cpu.max').trim().split(/\s+/)[0]!;
    const value = period > 0 ? `${q} ${period}` : q;
    writeAt(fs, dir, 'cpu.max', value, `${p}.${quota !== 0 ? 'quota' : 'period'}`);
  }
  if (c.burst) {
    if (!hasFile(fs, dir, 'cpu.max.burst')) {
      throw failedPrecondition(`${p}.burst: CFS burst is not supported here (no ${dir}/cpu.max.burst)`);
    }
    writeAt(fs, dir, 'cpu.max.burst', String(c.burst), `${p}.burst`);
  }
  if (c.idle !== undefined && (c.idle !== 0 || hasFile(fs, dir, 'cpu.idle'))) {
    if (!hasFile(fs, dir, 'cpu.idle')) {
      throw failedPrecondition(`${p}.idle: SCHED_IDLE groups are not supported here (no ${dir}/cpu.idle)`);
    }
    writeAt(fs, dir, 'cpu.idle', String(c.idle), `${p}.idle`);
  }
}

/** cpuset.cpus / cpuset.mems. */
export function cpusetV2(ctx: WriteContext, dir: string, c: CpuResources): void {
  if (c.cpus) writeAt(ctx.fs, dir, 'cpuset.cpus', c.cpus, `${R}.cpu.cpus`);
  if (c.mems) writeAt(ctx.fs, dir, 'cpuset.mems', c.mems, `${R}.cpu.mems`);
}

/** io.bfq.weight (BFQ, 1..1000 as given) or io.weight (converted to 1..10000), and io.max. */
export function ioV2(ctx: WriteContext, dir: string, b: BlockIO): void {
  const p = `${R}.blockIO`;
  const { fs } = ctx;
  const bfq = hasFile(fs, dir, 'io.bfq.weight');
  const plain = !bfq && hasFile(fs, dir, 'io.weight');
  const noWeight = (path: string): never => {
    throw failedPrecondition(
      `${path}: no io weight file in ${dir} (neither io.bfq.weight nor io.weight): the I/O scheduler here does not support weights`,
    );
  };
  if (b.weight) {
    if (!bfq && !plain) noWeight(`${p}.weight`);
    if (bfq) writeAt(fs, dir, 'io.bfq.weight', String(b.weight), `${p}.weight`);
    else writeAt(fs, dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)), `${p}.weight`);
  }
  if (b.leafWeight) {
    throw failedPrecondition(`${p}.leafWeight: leaf weights do not exist on cgroup v2`);
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const dp = `${p}.weightDevice[${i}]`;
    if (d.leafWeight) throw failedPrecondition(`${dp}.leafWeight: leaf weights do not exist on cgroup v2`);
    if (!d.weight) return;
    if (!bfq && !plain) noWeight(`${dp}.weight`);
    if (bfq) writeAt(fs, dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, `${dp}.weight`);
    else writeAt(fs, dir, 'io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`, `${dp}.weight`);
  });
  // io.max takes one device per write, with only the keys given (the others keep their value).
  const lines = new Map<string, { keys: string[]; path: string }>();
  const add = (list: ThrottleDevice[] | undefined, key: string, field: string) =>
    (list ?? []).forEach((d, i) => {
      const dev = `${d.major}:${d.minor}`;
      const entry = lines.get(dev) ?? { keys: [], path: `${p}.${field}[${i}]` };
      entry.keys.push(`${key}=${d.rate === 0 ? 'max' : d.rate}`);
      lines.set(dev, entry);
    });
  add(b.throttleReadBpsDevice, 'rbps', 'throttleReadBpsDevice');
  add(b.throttleWriteBpsDevice, 'wbps', 'throttleWriteBpsDevice');
  add(b.throttleReadIOPSDevice, 'riops', 'throttleReadIOPSDevice');
  add(b.throttleWriteIOPSDevice, 'wiops', 'throttleWriteIOPSDevice');
  for (const [dev, { keys, path }] of lines) writeAt(fs, dir, 'io.max', `${dev} ${keys.join(' ')}`, path);
}

/** The unified map: each key is a file of the leaf; the controller it belongs to must be enabled. */
export function unifiedWrite(ctx: WriteContext, dir: string, unified: Record<string, string>): void {
  for (const [key, value] of Object.entries(unified)) {
    const p = `${R}.unified[${JSON.stringify(key)}]`;
    if (!hasFile(ctx.fs, dir, key)) {
      const ctrl = key.slice(0, key.indexOf('.'));
      throw failedPrecondition(
        `${p}: ${nodePath.join(dir, key)} does not exist (is the ${ctrl} controller available on this cgroup2 hierarchy?)`,
      );
    }
    writeAt(ctx.fs, dir, key, value, p);
  }
}
