/** Go's duration syntax (time.ParseDuration), for flags, Dockerfiles and request models alike. */

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
