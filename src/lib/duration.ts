/** Go's duration syntax (time.ParseDuration), for flags, Dockerfiles and request models alike; and times as Go writes and reads them. */
import { invalidArgument } from './errors.js';

/** Nanoseconds per unit of a Go duration. */
const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, '\u00b5s': 1e3, '\u03bcs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * A Go duration ("1m30s", "500ms", "1.5h", "0") in nanoseconds, as time.ParseDuration reads it;
 * undefined when it is not one.
 */
export function parseGoDuration(v: string): number | undefined {
  const m = /^([-+]?)(.*)$/.exec(v)!;
  const body = m[2]!;
  if (body === '0') return 0;
  if (body === '') return undefined;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  let part: RegExpExecArray | null;
  while (at < body.length && (part = re.exec(body))) {
    total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
    at = re.lastIndex;
  }
  if (at !== body.length) return undefined;
  return Math.round(m[1] === '-' ? -total : total);
}

// Times in nanoseconds since the epoch (bigint), and their text as Go writes and reads it.

const NS = 1_000_000_000n;

/** Now, in nanoseconds since the epoch (to the microsecond or so). */
export function nowNs(): bigint {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.min(999_999, Math.round((ms - whole) * 1e6)));
}

/** Go's zero time.Time as RFC 3339 (what Docker shows for a time that never was). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A time in UTC as Go's RFC3339Nano writes it (fraction without trailing zeros, none when zero),
 * or with `fixed` as Docker's RFC3339NanoFixed (always nine digits: `logs -t`).
 */
export function formatRfc3339Nano(ns: bigint, fixed = false): string {
  const secs = ns / NS - (ns % NS < 0n ? 1n : 0n);
  const frac = ns - secs * NS;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  let f = frac.toString().padStart(9, '0');
  if (!fixed) f = f.replace(/0+$/, '');
  return `${base}${f ? '.' + f : ''}Z`;
}

/** Now, as Go's RFC3339Nano in UTC (the record's StartedAt, FinishedAt). */
export function nowRfc3339Nano(): string {
  return formatRfc3339Nano(nowNs());
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)(?:[Tt](\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,9})\d*)?)?)?)?([Zz]|[+-]\d\d:\d\d)?$/;

/**
 * An RFC 3339 time (or a shorter form of it: a date, an hour, minutes) in nanoseconds since the
 * epoch; without a zone, in `localZone` (or the host's); undefined when it is not one.
 */
export function parseRfc3339Ns(v: string, localZone = true): bigint | undefined {
  const m = RFC3339.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const zone = m[8];
  let ms: number;
  if (zone === undefined && localZone) ms = new Date(y, mo - 1, d, h, mi, s).getTime();
  else {
    ms = Date.UTC(y, mo - 1, d, h, mi, s);
    if (zone && zone !== 'Z' && zone !== 'z') ms -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  }
  if (!Number.isFinite(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0') || '0');
}

/**
 * A `--since`/`--until` value as the docker CLI reads it (its GetTimestamp and the daemon's
 * ParseTimestamps), in nanoseconds since the epoch: a Go duration before `now` (in whole
 * seconds), an RFC 3339 time or date (without a zone: local time), or a unix time with an
 * optional fraction (`1700000000.5`). Throws Docker's message for anything else.
 */
export function parseDockerTime(v: string, now: bigint = nowNs()): bigint {
  const d = v === '0' ? undefined : parseGoDuration(v);
  if (d !== undefined) return ((now - BigInt(d)) / NS) * NS;
  // Go's parser picks the layout by what the text holds; a text with a dash is a date or an error.
  const t = parseRfc3339Ns(v, !(/[zZ+]/.test(v) || v.split('-').length - 1 === 3));
  if (t !== undefined) return t;
  if (v.includes('-')) throw invalidArgument(`parsing time ${JSON.stringify(v)}: not an RFC 3339 time`);
  const u = /^(\d+)(?:\.(\d+))?$/.exec(v);
  if (!u) throw invalidArgument(`failed to parse value as time or duration: ${JSON.stringify(v)}`);
  const frac = u[2] ?? '';
  return BigInt(u[1]!) * NS + (frac ? (BigInt(frac) * 10n ** 9n) / 10n ** BigInt(frac.length) : 0n);
}
