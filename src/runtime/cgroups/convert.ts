/** Pure conversions between OCI values and cgroup file contents, and parsers of cgroup files. */
import type { DeviceCgroupRule } from '../../oci/runtime-spec.js';

/**
 * cpu.shares (v1, 2..262144) → cpu.weight (v2, 1..10000), the mapping runc, crun and systemd share:
 * 1 + ((shares - 2) * 9999) / 262142, integer division. 0 (unset) stays 0.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (v1, 10..1000) → io.weight (v2, 1..10000): 1 + ((w - 10) * 9999) / 990. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The OCI `memory.swap` (memory + swap, bytes; -1 unlimited; 0 unset) as a v2 memory.swap.max value
 * (swap alone). `limit` is the memory limit in force (the request's, or the current memory.max;
 * -1 or 0 for none).
 * - limit -1 and swap unset: "max" (both unlimited, as on v1);
 * - swap -1: "max"; swap 0: undefined (leave it);
 * - otherwise swap - limit, which needs a memory limit and swap >= limit.
 * Returns a string value or an error reason.
 */
export function swapToV2(swap: number, limit: number): { value?: string; error?: string } {
  if (limit === -1 && swap === 0) return { value: 'max' };
  if (swap === -1) return { value: 'max' };
  if (swap === 0) return {};
  if (limit <= 0) return { error: 'a swap limit needs a memory limit (swap is the total of memory and swap)' };
  if (swap < limit) {
    return { error: `${swap} is below the memory limit ${limit} (swap is the total of memory and swap)` };
  }
  return { value: String(swap - limit) };
}

/** A v1 limit value: -1 stays -1 (the kernel reads it as unlimited). */
export const v1Limit = (n: number): string => String(n);
/** A v2 limit value: -1 → "max". */
export const v2Limit = (n: number): string => (n === -1 ? 'max' : String(n));

/** pids.max for an OCI pids.limit: positive → the number, 0 or negative → "max". */
export const pidsMax = (limit: number): string => (limit > 0 ? String(limit) : 'max');

/** The v1 devices.allow/deny line of a rule: "<type> <major>:<minor> <access>", * for wildcards. */
export function deviceRuleLine(rule: DeviceCgroupRule): string {
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? '*' : String(n));
  const type = rule.type ?? 'a';
  const access = rule.access === undefined || rule.access === '' ? 'rwm' : rule.access;
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/** A cpuset list ("0-3,5,7-8") is well formed: ranges ascending, numbers decimal. */
export function isCpuList(s: string): boolean {
  if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s)) return false;
  return s.split(',').every((part) => {
    const [lo, hi] = part.split('-');
    return hi === undefined || Number(lo) <= Number(hi);
  });
}

/** A huge page size as the kernel names it in hugetlb files: "2MB", "1GB", "64KB". */
export const isPageSize = (s: string): boolean => /^[1-9][0-9]*(KB|MB|GB|TB|PB)$/.test(s);

/** Values at or above 2^62 are the kernel's "unlimited" (v1 prints 9223372036854771712). */
const UNLIMITED = 2 ** 62;

/** A limit file's value: "max" or a huge number → null (unlimited); otherwise the number. */
export function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'max' || t === '' || t === '-1') return null;
  const n = Number(t);
  if (!Number.isFinite(n) || n >= UNLIMITED) return null;
  return n;
}

/** A single-number file ("123\n") → number; NaN when it is not one. */
export const parseNumber = (text: string): number => Number(text.trim());

/** A flat keyed file ("key value" per line: memory.stat, cpu.stat, memory.events) → map. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && v !== '') {
      const n = Number(v);
      if (Number.isFinite(n)) out[k] = n;
    }
  }
  return out;
}

/** A nested keyed file ("8:0 rbytes=1 wbytes=2" per line: io.stat, io.max) → map of maps. */
export function parseNestedKeyed(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const key = fields.shift();
    if (!key) continue;
    const entry: Record<string, string> = {};
    for (const f of fields) {
      const eq = f.indexOf('=');
      if (eq > 0) entry[f.slice(0, eq)] = f.slice(eq + 1);
    }
    out[key] = entry;
  }
  return out;
}

/** The pids of a cgroup.procs text. */
export function parsePids(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t !== '') out.push(Number(t));
  }
  return out;
}
