/**
 * Validation of linux.resources before anything is written. Messages name the JSON path, the value
 * and the reason: `linux.resources.memory.limit: 1000 is below the minimum of 6 MiB`.
 */
import { invalidArgument } from '../../lib/errors.js';
import type { Resources, ThrottleDevice } from '../../oci/runtime-spec.js';
import { isCpuList, isPageSize } from './convert.js';

/** The smallest memory limit accepted (Docker's and Podman's minimum). */
export const MIN_MEMORY_LIMIT = 6 * 1024 * 1024;

const R = 'linux.resources';

function fail(path: string, value: unknown, why: string): never {
  throw invalidArgument(`${path}: ${JSON.stringify(value)} ${why}`);
}

function int(path: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, v, 'is not an integer');
  return v;
}

/** undefined, or an integer >= min. */
function atLeast(path: string, v: unknown, min: number): number | undefined {
  const n = int(path, v);
  if (n !== undefined && n < min) fail(path, n, min === 0 ? 'must not be negative' : `is below the minimum of ${min}`);
  return n;
}

/** undefined, -1 (unlimited) or >= 0. */
function limitOrUnlimited(path: string, v: unknown): number | undefined {
  const n = int(path, v);
  if (n !== undefined && n < -1) fail(path, n, 'must be -1 (unlimited) or a number of bytes');
  return n;
}

function inRange(path: string, v: unknown, lo: number, hi: number, unsetZero = true): number | undefined {
  const n = int(path, v);
  if (n === undefined || (unsetZero && n === 0)) return n;
  if (n < lo || n > hi) fail(path, n, `is out of range (${lo}-${hi})`);
  return n;
}

function deviceNumber(path: string, v: unknown): void {
  const n = int(path, v);
  if (n === undefined) fail(path, v, 'is required');
  if (n < 0) fail(path, n, 'must not be negative');
}

function throttleList(path: string, list: ThrottleDevice[] | undefined): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) fail(path, list, 'is not a list');
  list.forEach((d, i) => {
    deviceNumber(`${path}[${i}].major`, d.major);
    deviceNumber(`${path}[${i}].minor`, d.minor);
    const rate = int(`${path}[${i}].rate`, d.rate);
    if (rate === undefined) fail(`${path}[${i}].rate`, d.rate, 'is required');
    if (rate < 0) fail(`${path}[${i}].rate`, rate, 'must not be negative');
  });
}

/** Throws InvalidArgument on the first malformed or out-of-range value. */
export function validateResources(r: Resources | undefined): void {
  if (r === undefined || r === null) return;
  if (typeof r !== 'object') fail(R, r, 'is not an object');

  const m = r.memory;
  if (m) {
    const p = `${R}.memory`;
    const limit = limitOrUnlimited(`${p}.limit`, m.limit);
    if (limit !== undefined && limit > 0 && limit < MIN_MEMORY_LIMIT) {
      throw invalidArgument(`${p}.limit: ${limit} is below the minimum of 6 MiB`);
    }
    limitOrUnlimited(`${p}.reservation`, m.reservation);
    const swap = limitOrUnlimited(`${p}.swap`, m.swap);
    if (swap !== undefined && swap > 0 && limit !== undefined && limit > 0 && swap < limit) {
      throw invalidArgument(
        `${p}.swap: ${swap} is below ${p}.limit ${limit} (swap is the total of memory and swap)`,
      );
    }
    if (swap !== undefined && swap > 0 && limit === -1) {
      throw invalidArgument(`${p}.swap: ${swap} is a swap limit with an unlimited memory limit`);
    }
    limitOrUnlimited(`${p}.kernel`, m.kernel);
    limitOrUnlimited(`${p}.kernelTCP`, m.kernelTCP);
    const sw = int(`${p}.swappiness`, m.swappiness);
    // -1 (and the uint64 it wraps to) means "unset", as runc reads it.
    if (sw !== undefined && sw !== -1 && sw < 2 ** 63 && (sw < 0 || sw > 100)) {
      fail(`${p}.swappiness`, sw, 'is out of range (0-100)');
    }
    if (m.disableOOMKiller !== undefined && typeof m.disableOOMKiller !== 'boolean') {
      fail(`${p}.disableOOMKiller`, m.disableOOMKiller, 'is not a boolean');
    }
  }

  const c = r.cpu;
  if (c) {
    const p = `${R}.cpu`;
    inRange(`${p}.shares`, c.shares, 2, 262144);
    const q = int(`${p}.quota`, c.quota);
    if (q !== undefined && q !== 0 && q !== -1 && q < 1000) {
      fail(`${p}.quota`, q, 'must be -1 (unlimited) or at least 1000 (microseconds)');
    }
    inRange(`${p}.period`, c.period, 1000, 1000000);
    atLeast(`${p}.burst`, c.burst, 0);
    const rt = int(`${p}.realtimeRuntime`, c.realtimeRuntime);
    if (rt !== undefined && rt < -1) fail(`${p}.realtimeRuntime`, rt, 'must be -1 (unlimited) or not negative');
    atLeast(`${p}.realtimePeriod`, c.realtimePeriod, 0);
    for (const k of ['cpus', 'mems'] as const) {
      const v = c[k];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string' || !isCpuList(v)) fail(`${p}.${k}`, v, 'is not a list like "0-3,5"');
    }
    const idle = int(`${p}.idle`, c.idle);
    if (idle !== undefined && idle !== 0 && idle !== 1) fail(`${p}.idle`, idle, 'must be 0 or 1');
  }

  // pids.limit is required by runtime-spec 1.0-1.2 and optional later; absent means unset.
  if (r.pids) int(`${R}.pids.limit`, r.pids.limit);

  const b = r.blockIO;
  if (b) {
    const p = `${R}.blockIO`;
    inRange(`${p}.weight`, b.weight, 10, 1000);
    inRange(`${p}.leafWeight`, b.leafWeight, 10, 1000);
    (b.weightDevice ?? []).forEach((d, i) => {
      const dp = `${p}.weightDevice[${i}]`;
      deviceNumber(`${dp}.major`, d.major);
      deviceNumber(`${dp}.minor`, d.minor);
      inRange(`${dp}.weight`, d.weight, 10, 1000);
      inRange(`${dp}.leafWeight`, d.leafWeight, 10, 1000);
    });
    throttleList(`${p}.throttleReadBpsDevice`, b.throttleReadBpsDevice);
    throttleList(`${p}.throttleWriteBpsDevice`, b.throttleWriteBpsDevice);
    throttleList(`${p}.throttleReadIOPSDevice`, b.throttleReadIOPSDevice);
    throttleList(`${p}.throttleWriteIOPSDevice`, b.throttleWriteIOPSDevice);
  }

  (r.hugepageLimits ?? []).forEach((h, i) => {
    const p = `${R}.hugepageLimits[${i}]`;
    if (typeof h.pageSize !== 'string' || !isPageSize(h.pageSize)) {
      fail(`${p}.pageSize`, h.pageSize, 'is not a page size like "2MB" or "1GB"');
    }
    if (limitOrUnlimited(`${p}.limit`, h.limit) === undefined) fail(`${p}.limit`, h.limit, 'is required');
  });

  (r.devices ?? []).forEach((d, i) => {
    const p = `${R}.devices[${i}]`;
    if (typeof d.allow !== 'boolean') fail(`${p}.allow`, d.allow, 'is not a boolean');
    if (d.type !== undefined && d.type !== null && !['a', 'b', 'c'].includes(d.type)) {
      fail(`${p}.type`, d.type, 'must be "a", "b" or "c"');
    }
    for (const k of ['major', 'minor'] as const) {
      const n = int(`${p}.${k}`, d[k]);
      if (n !== undefined && n < -1) fail(`${p}.${k}`, n, 'must not be negative (-1 or null is a wildcard)');
    }
    if (d.access !== undefined && d.access !== null && d.access !== '') {
      if (typeof d.access !== 'string' || !/^[rwm]{1,3}$/.test(d.access) || new Set(d.access).size !== d.access.length) {
        fail(`${p}.access`, d.access, 'must be a combination of "r", "w" and "m"');
      }
    }
  });

  const n = r.network;
  if (n) {
    const p = `${R}.network`;
    const id = int(`${p}.classID`, n.classID);
    if (id !== undefined && (id < 0 || id > 0xffffffff)) fail(`${p}.classID`, id, 'is not a 32-bit unsigned number');
    (n.priorities ?? []).forEach((x, i) => {
      if (typeof x.name !== 'string' || !/^[^\s/]+$/.test(x.name)) {
        fail(`${p}.priorities[${i}].name`, x.name, 'is not an interface name');
      }
      atLeast(`${p}.priorities[${i}].priority`, x.priority, 0);
      if (x.priority === undefined) fail(`${p}.priorities[${i}].priority`, x.priority, 'is required');
    });
  }

  for (const [dev, v] of Object.entries(r.rdma ?? {})) {
    const p = `${R}.rdma[${JSON.stringify(dev)}]`;
    if (!/^[^\s/]+$/.test(dev)) fail(p, dev, 'is not an RDMA device name');
    atLeast(`${p}.hcaHandles`, v.hcaHandles, 0);
    atLeast(`${p}.hcaObjects`, v.hcaObjects, 0);
  }

  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const p = `${R}.unified[${JSON.stringify(key)}]`;
    if (key.includes('/') || key === '.' || key === '..' || !/^[A-Za-z0-9_]+\.[A-Za-z0-9_.]+$/.test(key)) {
      throw invalidArgument(`${p}: not a cgroup v2 file name (like "memory.high")`);
    }
    if (['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze'].includes(key)) {
      throw invalidArgument(`${p}: ${key} is managed by the runtime and cannot be set here`);
    }
    if (typeof value !== 'string') fail(p, value, 'is not a string');
    if (value.includes('\0')) throw invalidArgument(`${p}: the value contains a NUL byte`);
  }
}
