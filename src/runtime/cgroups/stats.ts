/**
 * Reading usage figures from v1 and v2 files into one shape (CgroupStats in index.ts). A file that
 * is missing (controller not mounted or not enabled, older kernel) leaves its fields out.
 */
import type {
  BlkioDeviceStats,
  CpuStats,
  HugetlbStats,
  MemoryStats,
  PidsStats,
} from './index.js';
import { parseFlatKeyed, parseLimit, parseNestedKeyed, parseNumber } from './convert.js';
import { tryReadAt, type CgroupFs } from './fs.js';
import { hugePageSizes } from './v1.js';

function num(fs: CgroupFs, dir: string, file: string): number | undefined {
  const t = tryReadAt(fs, dir, file);
  if (t === undefined) return undefined;
  const n = parseNumber(t);
  return Number.isFinite(n) ? n : undefined;
}

function keyed(fs: CgroupFs, dir: string, file: string): Record<string, number> | undefined {
  const t = tryReadAt(fs, dir, file);
  return t === undefined ? undefined : parseFlatKeyed(t);
}

function limit(fs: CgroupFs, dir: string, file: string): number | null | undefined {
  const t = tryReadAt(fs, dir, file);
  return t === undefined ? undefined : parseLimit(t);
}

/** The oom_kill count of memory.oom_control (v1, kernel 4.13+); 0 when the line is absent. */
export function oomKillV1(fs: CgroupFs, dir: string): number {
  return keyed(fs, dir, 'memory.oom_control')?.['oom_kill'] ?? 0;
}

/** The oom_kill count of memory.events (v2). */
export function oomKillV2(fs: CgroupFs, dir: string): number {
  return keyed(fs, dir, 'memory.events')?.['oom_kill'] ?? 0;
}

export function memoryStatsV1(fs: CgroupFs, dir: string): MemoryStats | undefined {
  const usage = num(fs, dir, 'memory.usage_in_bytes');
  if (usage === undefined) return undefined;
  const stat = keyed(fs, dir, 'memory.stat') ?? {};
  const out: MemoryStats = {
    usage,
    limit: limit(fs, dir, 'memory.limit_in_bytes') ?? null,
    oomKill: oomKillV1(fs, dir),
    stat,
  };
  const max = num(fs, dir, 'memory.max_usage_in_bytes');
  if (max !== undefined) out.maxUsage = max;
  const failcnt = num(fs, dir, 'memory.failcnt');
  if (failcnt !== undefined) out.failcnt = failcnt;
  const swapTotal = limit(fs, dir, 'memory.memsw.limit_in_bytes');
  if (swapTotal !== undefined) {
    out.swapLimit = swapTotal;
    const swap = stat['total_swap'] ?? stat['swap'];
    if (swap !== undefined) out.swapUsage = swap;
  }
  return out;
}

export function memoryStatsV2(fs: CgroupFs, dir: string): MemoryStats | undefined {
  const usage = num(fs, dir, 'memory.current');
  if (usage === undefined) return undefined;
  const events = keyed(fs, dir, 'memory.events') ?? {};
  const memMax = limit(fs, dir, 'memory.max') ?? null;
  const out: MemoryStats = {
    usage,
    limit: memMax,
    oomKill: events['oom_kill'] ?? 0,
    failcnt: events['max'] ?? 0,
    stat: keyed(fs, dir, 'memory.stat') ?? {},
  };
  const peak = num(fs, dir, 'memory.peak');
  if (peak !== undefined) out.maxUsage = peak;
  const swapUsage = num(fs, dir, 'memory.swap.current');
  if (swapUsage !== undefined) out.swapUsage = swapUsage;
  const swapMax = limit(fs, dir, 'memory.swap.max');
  if (swapMax !== undefined) out.swapLimit = swapMax === null || memMax === null ? null : memMax + swapMax;
  return out;
}

/** USER_HZ, the unit of cpuacct.stat; 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** CPU usage from cpuacct (usage) and cpu (throttling) directories; either may be undefined. */
export function cpuStatsV1(fs: CgroupFs, cpuacctDir?: string, cpuDir?: string): CpuStats | undefined {
  let out: CpuStats | undefined;
  if (cpuacctDir !== undefined) {
    const total = num(fs, cpuacctDir, 'cpuacct.usage');
    if (total !== undefined) {
      let user = num(fs, cpuacctDir, 'cpuacct.usage_user');
      let system = num(fs, cpuacctDir, 'cpuacct.usage_sys');
      if (user === undefined || system === undefined) {
        const st = keyed(fs, cpuacctDir, 'cpuacct.stat') ?? {};
        user = (st['user'] ?? 0) * (1e9 / USER_HZ);
        system = (st['system'] ?? 0) * (1e9 / USER_HZ);
      }
      out = { usageTotal: total, usageUser: user, usageSystem: system, throttling: zeroThrottling() };
      const perCpu = tryReadAt(fs, cpuacctDir, 'cpuacct.usage_percpu');
      if (perCpu !== undefined) out.perCpu = perCpu.trim().split(/\s+/).filter(Boolean).map(Number);
    }
  }
  if (cpuDir !== undefined) {
    const st = keyed(fs, cpuDir, 'cpu.stat');
    if (st !== undefined) {
      out ??= { usageTotal: 0, usageUser: 0, usageSystem: 0, throttling: zeroThrottling() };
      out.throttling = {
        periods: st['nr_periods'] ?? 0,
        throttledPeriods: st['nr_throttled'] ?? 0,
        throttledTime: st['throttled_time'] ?? 0,
      };
    }
  }
  return out;
}

const zeroThrottling = () => ({ periods: 0, throttledPeriods: 0, throttledTime: 0 });

/** cpu.stat of v2 (microseconds there, nanoseconds here). Present without the cpu controller. */
export function cpuStatsV2(fs: CgroupFs, dir: string): CpuStats | undefined {
  const st = keyed(fs, dir, 'cpu.stat');
  if (st === undefined) return undefined;
  return {
    usageTotal: (st['usage_usec'] ?? 0) * 1000,
    usageUser: (st['user_usec'] ?? 0) * 1000,
    usageSystem: (st['system_usec'] ?? 0) * 1000,
    throttling: {
      periods: st['nr_periods'] ?? 0,
      throttledPeriods: st['nr_throttled'] ?? 0,
      throttledTime: (st['throttled_usec'] ?? 0) * 1000,
    },
  };
}

/** pids.current / pids.max: the same files on v1 and v2. */
export function pidsStats(fs: CgroupFs, dir: string): PidsStats | undefined {
  const current = num(fs, dir, 'pids.current');
  if (current === undefined) return undefined;
  return { current, limit: limit(fs, dir, 'pids.max') ?? null };
}

function device(map: Map<string, BlkioDeviceStats>, dev: string): BlkioDeviceStats | undefined {
  const m = /^(\d+):(\d+)$/.exec(dev);
  if (!m) return undefined;
  let d = map.get(dev);
  if (!d) {
    d = { major: Number(m[1]), minor: Number(m[2]), readBytes: 0, writeBytes: 0, readIos: 0, writeIos: 0 };
    map.set(dev, d);
  }
  return d;
}

/**
 * v1 blkio: the throttle files count every I/O at the generic block layer, whatever the scheduler;
 * the _recursive variants include child cgroups when the kernel has them.
 */
export function blkioStatsV1(fs: CgroupFs, dir: string): BlkioDeviceStats[] | undefined {
  const read = (base: string) => tryReadAt(fs, dir, `${base}_recursive`) ?? tryReadAt(fs, dir, base);
  const bytes = read('blkio.throttle.io_service_bytes');
  const ios = read('blkio.throttle.io_serviced');
  if (bytes === undefined && ios === undefined) return undefined;
  const map = new Map<string, BlkioDeviceStats>();
  type Counter = 'readBytes' | 'writeBytes' | 'readIos' | 'writeIos';
  const take = (text: string | undefined, r: Counter, w: Counter) => {
    for (const line of (text ?? '').split('\n')) {
      const [dev, op, value] = line.trim().split(/\s+/);
      if (!dev || !op || value === undefined) continue;
      const d = device(map, dev);
      if (!d) continue;
      if (op === 'Read') d[r] = Number(value);
      else if (op === 'Write') d[w] = Number(value);
    }
  };
  take(bytes, 'readBytes', 'writeBytes');
  take(ios, 'readIos', 'writeIos');
  return [...map.values()];
}

/** v2 io.stat: "maj:min rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…". */
export function ioStatsV2(fs: CgroupFs, dir: string): BlkioDeviceStats[] | undefined {
  const text = tryReadAt(fs, dir, 'io.stat');
  if (text === undefined) return undefined;
  const map = new Map<string, BlkioDeviceStats>();
  for (const [dev, kv] of Object.entries(parseNestedKeyed(text))) {
    const d = device(map, dev);
    if (!d) continue;
    d.readBytes = Number(kv['rbytes'] ?? 0);
    d.writeBytes = Number(kv['wbytes'] ?? 0);
    d.readIos = Number(kv['rios'] ?? 0);
    d.writeIos = Number(kv['wios'] ?? 0);
  }
  return [...map.values()];
}

export function hugetlbStats(fs: CgroupFs, dir: string, v2: boolean): Record<string, HugetlbStats> | undefined {
  const sizes = hugePageSizes(fs, dir, v2 ? 'max' : 'limit_in_bytes');
  if (sizes.length === 0) return undefined;
  const out: Record<string, HugetlbStats> = {};
  for (const size of sizes) {
    if (v2) {
      out[size] = {
        usage: num(fs, dir, `hugetlb.${size}.current`) ?? 0,
        failcnt: keyed(fs, dir, `hugetlb.${size}.events`)?.['max'] ?? 0,
      };
    } else {
      const s: HugetlbStats = {
        usage: num(fs, dir, `hugetlb.${size}.usage_in_bytes`) ?? 0,
        failcnt: num(fs, dir, `hugetlb.${size}.failcnt`) ?? 0,
      };
      const max = num(fs, dir, `hugetlb.${size}.max_usage_in_bytes`);
      if (max !== undefined) s.maxUsage = max;
      out[size] = s;
    }
  }
  return out;
}
