/**
 * Writers for cgroup v1 hierarchies. Each takes the leaf directory of one controller's hierarchy
 * and the (validated) OCI values; values that mean "unset" are not written.
 */
import { BerthError, failedPrecondition } from '../../lib/errors.js';
import type {
  BlockIO,
  CpuResources,
  DeviceCgroupRule,
  MemoryResources,
  Resources,
} from '../../oci/runtime-spec.js';
import { deviceRuleLine, parseLimit, pidsMax, v1Limit } from './convert.js';
import { causeCode, hasFile, readAt, tryReadAt, writeAt, type CgroupFs } from './fs.js';

const R = 'linux.resources';

/** What a writer needs: the file system and a place for notes on settings it ignored. */
export interface WriteContext {
  fs: CgroupFs;
  notes: string[];
}

/** memory.* (memory hierarchy). */
export function memoryV1(ctx: WriteContext, dir: string, m: MemoryResources): void {
  const p = `${R}.memory`;
  const { fs } = ctx;
  let limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // Lifting the memory limit without a word on swap lifts both, as runc does.
  if (limit === -1 && swap === 0) swap = -1;
  if (swap !== 0 && !hasFile(fs, dir, 'memory.memsw.limit_in_bytes')) {
    if (swap === -1) swap = 0; // unlimited is all there is without swap accounting
    else {
      throw failedPrecondition(
        `${p}.swap: swap accounting is not enabled on this host (no ${dir}/memory.memsw.limit_in_bytes)`,
      );
    }
  }
  if (m.checkBeforeUpdate && limit > 0) checkUsage(fs, dir, 'memory.usage_in_bytes', limit, `${p}.limit`);

  const writeLimit = () => {
    try {
      writeAt(fs, dir, 'memory.limit_in_bytes', v1Limit(limit), `${p}.limit`);
    } catch (e) {
      if (causeCode(e) !== 'EBUSY') throw e;
      const usage = tryReadAt(fs, dir, 'memory.usage_in_bytes')?.trim();
      const err = e as BerthError;
      throw new BerthError(err.kind, `${err.message} (current usage ${usage ?? 'unknown'} bytes)`, { cause: err.cause });
    }
  };
  const writeSwap = () => writeAt(fs, dir, 'memory.memsw.limit_in_bytes', v1Limit(swap), `${p}.swap`);
  if (limit !== 0 && swap !== 0) {
    // memory.memsw.limit_in_bytes must never be below memory.limit_in_bytes: when raising, write
    // the total first; when lowering, the memory limit first.
    const current = parseLimit(readAt(fs, dir, 'memory.limit_in_bytes'));
    const raising = limit === -1 || (current !== null && limit > current);
    if (raising) {
      writeSwap();
      writeLimit();
    } else {
      writeLimit();
      writeSwap();
    }
  } else if (limit !== 0) writeLimit();
  else if (swap !== 0) writeSwap();

  if (m.reservation !== undefined && m.reservation !== 0) {
    writeAt(fs, dir, 'memory.soft_limit_in_bytes', v1Limit(m.reservation), `${p}.reservation`);
  }
  if (m.swappiness !== undefined && m.swappiness >= 0 && m.swappiness <= 100) {
    writeAt(fs, dir, 'memory.swappiness', String(m.swappiness), `${p}.swappiness`);
  }
  if (m.disableOOMKiller !== undefined) {
    writeAt(fs, dir, 'memory.oom_control', m.disableOOMKiller ? '1' : '0', `${p}.disableOOMKiller`);
  }
  if (m.kernel !== undefined && m.kernel !== 0) {
    ctx.notes.push(`${p}.kernel: ignored: kernel memory limits are deprecated by the kernel (as in runc 1.1+)`);
  }
  if (m.kernelTCP !== undefined && m.kernelTCP !== 0) {
    if (hasFile(fs, dir, 'memory.kmem.tcp.limit_in_bytes')) {
      writeAt(fs, dir, 'memory.kmem.tcp.limit_in_bytes', v1Limit(m.kernelTCP), `${p}.kernelTCP`);
    } else {
      ctx.notes.push(`${p}.kernelTCP: ignored: this kernel has no memory.kmem.tcp.limit_in_bytes`);
    }
  }
}

/** Throws FailedPrecondition when the cgroup already uses more than `limit` (checkBeforeUpdate). */
export function checkUsage(fs: CgroupFs, dir: string, file: string, limit: number, path: string): void {
  const usage = Number(tryReadAt(fs, dir, file)?.trim());
  if (Number.isFinite(usage) && usage > limit) {
    throw failedPrecondition(`${path}: ${limit} is below the current usage of ${usage} bytes (checkBeforeUpdate)`);
  }
}

/**
 * Writes a period and a value that must fit in it (cfs quota, rt runtime). The kernel can refuse
 * the period with EINVAL while the old value does not fit it; then the value goes first.
 */
function periodAndValue(
  ctx: WriteContext,
  dir: string,
  files: [period: string, value: string],
  period: number | undefined,
  value: number | undefined,
  paths: [string, string],
): void {
  const hasPeriod = period !== undefined && period !== 0;
  const hasValue = value !== undefined && value !== 0;
  let periodPending = false;
  if (hasPeriod) {
    try {
      writeAt(ctx.fs, dir, files[0], String(period), paths[0]);
    } catch (e) {
      if (causeCode(e) !== 'EINVAL' || !hasValue) throw e;
      periodPending = true;
    }
  }
  if (hasValue) writeAt(ctx.fs, dir, files[1], String(value), paths[1]);
  if (periodPending) writeAt(ctx.fs, dir, files[0], String(period), paths[0]);
}

/** cpu.* (cpu hierarchy): shares, CFS quota/period/burst, RT runtime/period, idle. */
export function cpuV1(ctx: WriteContext, dir: string, c: CpuResources): void {
  const p = `${R}.cpu`;
  if (c.shares) writeAt(ctx.fs, dir, 'cpu.shares', String(c.shares), `${p}.shares`);
  periodAndValue(ctx, dir, ['cpu.cfs_period_us', 'cpu.cfs_quota_us'], c.period, c.quota, [
    `${p}.period`,
    `${p}.quota`,
  ]);
  if (c.burst !== undefined && c.burst !== 0) {
    requireFile(ctx.fs, dir, 'cpu.cfs_burst_us', `${p}.burst`, 'CFS burst');
    writeAt(ctx.fs, dir, 'cpu.cfs_burst_us', String(c.burst), `${p}.burst`);
  }
  if (c.realtimePeriod || c.realtimeRuntime) {
    requireFile(ctx.fs, dir, 'cpu.rt_runtime_us', `${p}.realtimeRuntime`, 'real-time group scheduling');
  }
  periodAndValue(ctx, dir, ['cpu.rt_period_us', 'cpu.rt_runtime_us'], c.realtimePeriod, c.realtimeRuntime, [
    `${p}.realtimePeriod`,
    `${p}.realtimeRuntime`,
  ]);
  if (c.idle !== undefined) {
    if (c.idle !== 0 || hasFile(ctx.fs, dir, 'cpu.idle')) {
      requireFile(ctx.fs, dir, 'cpu.idle', `${p}.idle`, 'SCHED_IDLE groups');
      writeAt(ctx.fs, dir, 'cpu.idle', String(c.idle), `${p}.idle`);
    }
  }
}

/** cpuset.cpus / cpuset.mems (cpuset hierarchy). */
export function cpusetV1(ctx: WriteContext, dir: string, c: CpuResources): void {
  if (c.cpus) writeAt(ctx.fs, dir, 'cpuset.cpus', c.cpus, `${R}.cpu.cpus`);
  if (c.mems) writeAt(ctx.fs, dir, 'cpuset.mems', c.mems, `${R}.cpu.mems`);
}

/** pids.max. The same file and syntax on v2. */
export function pidsWrite(ctx: WriteContext, dir: string, limit: number): void {
  writeAt(ctx.fs, dir, 'pids.max', pidsMax(limit), `${R}.pids.limit`);
}

function requireFile(fs: CgroupFs, dir: string, file: string, path: string, what: string): void {
  if (!hasFile(fs, dir, file)) {
    throw failedPrecondition(`${path}: ${what} is not supported here (no ${dir}/${file})`);
  }
}

/** blkio.* (blkio hierarchy): weights (BFQ or CFQ files, whichever exist) and throttling. */
export function blkioV1(ctx: WriteContext, dir: string, b: BlockIO): void {
  const p = `${R}.blockIO`;
  const { fs } = ctx;
  const bfq = hasFile(fs, dir, 'blkio.bfq.weight');
  const cfq = !bfq && hasFile(fs, dir, 'blkio.weight');
  const noWeight = (path: string): never => {
    throw failedPrecondition(
      `${path}: no blkio weight file in ${dir} (neither blkio.bfq.weight nor blkio.weight): the I/O scheduler here does not support weights`,
    );
  };
  if (b.weight) {
    if (!bfq && !cfq) noWeight(`${p}.weight`);
    writeAt(fs, dir, bfq ? 'blkio.bfq.weight' : 'blkio.weight', String(b.weight), `${p}.weight`);
  }
  if (b.leafWeight) {
    requireFile(fs, dir, 'blkio.leaf_weight', `${p}.leafWeight`, 'a blkio leaf weight');
    writeAt(fs, dir, 'blkio.leaf_weight', String(b.leafWeight), `${p}.leafWeight`);
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const dp = `${p}.weightDevice[${i}]`;
    if (d.weight) {
      if (!bfq && !cfq) noWeight(`${dp}.weight`);
      // BFQ takes per-device weights in blkio.bfq.weight itself; CFQ in blkio.weight_device.
      const file = bfq ? 'blkio.bfq.weight' : 'blkio.weight_device';
      writeAt(fs, dir, file, `${d.major}:${d.minor} ${d.weight}`, `${dp}.weight`);
    }
    if (d.leafWeight) {
      requireFile(fs, dir, 'blkio.leaf_weight_device', `${dp}.leafWeight`, 'a blkio leaf weight');
      writeAt(fs, dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${dp}.leafWeight`);
    }
  });
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [key, file] of throttles) {
    (b[key] ?? []).forEach((d, i) => {
      writeAt(fs, dir, file, `${d.major}:${d.minor} ${d.rate}`, `${p}.${key}[${i}]`);
    });
  }
}

/** Huge page sizes with a limit file in `dir`, e.g. ["1GB", "2MB"]. */
export function hugePageSizes(fs: CgroupFs, dir: string, suffix: string): string[] {
  const re = new RegExp(`^hugetlb\\.([0-9]+[KMGTP]B)\\.${suffix.replace(/\./g, '\\.')}$`);
  const out: string[] = [];
  try {
    for (const name of fs.list(dir)) {
      const m = re.exec(name);
      if (m) out.push(m[1]!);
    }
  } catch {
    // an unreadable directory lists nothing
  }
  return out.sort();
}

/**
 * hugetlb limits, for both versions: `limitSuffix` is "limit_in_bytes" (v1) or "max" (v2); the
 * reservation limit (rsvd) is set alongside when the kernel has it, as runc 1.2 does.
 */
export function hugetlbWrite(
  ctx: WriteContext,
  dir: string,
  limits: NonNullable<Resources['hugepageLimits']>,
  v2: boolean,
): void {
  const suffix = v2 ? 'max' : 'limit_in_bytes';
  const value = (n: number) => (v2 && n === -1 ? 'max' : String(n));
  limits.forEach((h, i) => {
    const p = `${R}.hugepageLimits[${i}]`;
    const file = `hugetlb.${h.pageSize}.${suffix}`;
    if (!hasFile(ctx.fs, dir, file)) {
      const sizes = hugePageSizes(ctx.fs, dir, suffix);
      throw failedPrecondition(
        `${p}.pageSize: ${JSON.stringify(h.pageSize)} is not a huge page size of this host (${sizes.length ? `sizes: ${sizes.join(', ')}` : `no hugetlb files in ${dir}`})`,
      );
    }
    writeAt(ctx.fs, dir, file, value(h.limit), `${p}.limit`);
    const rsvd = `hugetlb.${h.pageSize}.rsvd.${suffix}`;
    if (hasFile(ctx.fs, dir, rsvd)) writeAt(ctx.fs, dir, rsvd, value(h.limit), `${p}.limit`);
  });
}

/** devices.deny / devices.allow, one line per rule, in rule order. */
export function devicesV1(ctx: WriteContext, dir: string, rules: DeviceCgroupRule[]): void {
  rules.forEach((rule, i) => {
    const file = rule.allow ? 'devices.allow' : 'devices.deny';
    writeAt(ctx.fs, dir, file, deviceRuleLine(rule), `${R}.devices[${i}]`);
  });
}

/** net_cls.classid. */
export function netClsV1(ctx: WriteContext, dir: string, classID: number): void {
  writeAt(ctx.fs, dir, 'net_cls.classid', String(classID), `${R}.network.classID`);
}

/** net_prio.ifpriomap, one "<ifname> <priority>" per write. */
export function netPrioV1(ctx: WriteContext, dir: string, prios: { name: string; priority: number }[]): void {
  prios.forEach((x, i) => {
    writeAt(ctx.fs, dir, 'net_prio.ifpriomap', `${x.name} ${x.priority}`, `${R}.network.priorities[${i}]`);
  });
}

/** rdma.max, one "<device> hca_handle=N hca_object=M" per write; the same on v2. */
export function rdmaWrite(ctx: WriteContext, dir: string, rdma: NonNullable<Resources['rdma']>): void {
  for (const [dev, v] of Object.entries(rdma)) {
    const h = v.hcaHandles === undefined ? 'max' : String(v.hcaHandles);
    const o = v.hcaObjects === undefined ? 'max' : String(v.hcaObjects);
    writeAt(ctx.fs, dir, 'rdma.max', `${dev} hca_handle=${h} hca_object=${o}`, `${R}.rdma[${JSON.stringify(dev)}]`);
  }
}
