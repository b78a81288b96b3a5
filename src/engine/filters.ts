/**
 * List filters as every front end gives them: Docker's API map (`{"status": ["running"]}`) or the
 * CLI's `--filter KEY=VALUE` flags. Values of one key are alternatives; different keys must all
 * hold (Docker's rule). Each use case checks its own keys, in the order given, so that the first
 * wrong filter is the one reported.
 */
import { invalidArgument } from '../lib/errors.js';

/** Docker's `filters`: a map of key → values, or `KEY=VALUE` strings as the CLI's `--filter` takes. */
export type Filters = Readonly<Record<string, readonly string[]>> | readonly string[];

/**
 * The filters as [key, value] pairs, in order. A string without `=` is `badFormat`'s error;
 * `check` sees each pair (and its text, for messages) as it is read.
 */
export function filterPairs(filters: Filters | undefined, badFormat: (text: string) => Error, check: (key: string, value: string, text: string) => void = () => {}): [string, string][] {
  const pairs: [string, string][] = [];
  const add = (k: string, v: string, text: string) => {
    check(k, v, text);
    pairs.push([k, v]);
  };
  if (filters === undefined) return pairs;
  if (isFlagList(filters)) {
    for (const f of filters) {
      const i = f.indexOf('=');
      // An empty key passes here, as the docker CLI lets it through: the use case's key check names it (`Invalid filter ''`).
      if (i < 0) throw badFormat(f);
      add(f.slice(0, i), f.slice(i + 1), f);
    }
  } else {
    for (const [k, vs] of Object.entries(filters)) for (const v of vs) add(k, v, `${k}=${v}`);
  }
  return pairs;
}

function isFlagList(f: Filters): f is readonly string[] {
  return Array.isArray(f);
}

/** The pairs grouped by key: every key must match one of its values. */
export function matchAll<T>(pairs: [string, string][], item: T, match: (key: string, value: string, item: T) => boolean): boolean {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of pairs) byKey.set(k, [...(byKey.get(k) ?? []), v]);
  return [...byKey].every(([k, vs]) => vs.some((v) => match(k, v, item)));
}

/** `label=KEY` (the label is there) or `label=KEY=VALUE` (with that value). */
export function labelMatches(labels: Readonly<Record<string, string>>, filter: string): boolean {
  const i = filter.indexOf('=');
  const key = i < 0 ? filter : filter.slice(0, i);
  return Object.hasOwn(labels, key) && (i < 0 || labels[key] === filter.slice(i + 1));
}

/**
 * Docker's filter map: each key with its distinct values, keys in the order first given. A key
 * outside `accepted` is dockerd's error `Invalid filter 'KEY'`.
 */
export function filterMap(filters: Filters | undefined, accepted?: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const pairs = filterPairs(filters, (f) => invalidArgument(`invalid argument ${JSON.stringify(f)} for "-f, --filter" flag: bad format of filter (expected name=value)`));
  for (const [k, v] of pairs) {
    const vs = m.get(k) ?? [];
    if (!vs.includes(v)) vs.push(v);
    m.set(k, vs);
  }
  if (accepted) for (const k of m.keys()) if (!accepted.includes(k)) throw invalidArgument(`Invalid filter '${k}'`);
  return m;
}

/** Go's regexp.MatchString as Docker's filters use it: a pattern that does not compile matches nothing. */
export function regexMatch(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern).test(s);
  } catch {
    return false;
  }
}

/** Docker's filters.Match: the value itself, or a pattern found in it. */
export function filterMatch(values: readonly string[] | undefined, s: string): boolean {
  return values === undefined || values.some((v) => v === s || regexMatch(v, s));
}

/**
 * A true/false filter (dangling=): dockerd takes true and false (and 1 and 0 with `numeric`);
 * anything else is `Invalid filter 'KEY=[VALUES]'`.
 */
export function boolFilter(m: Map<string, string[]>, key: string, numeric = true): boolean | undefined {
  const vs = m.get(key);
  if (!vs) return undefined;
  if (vs.some((v) => v === 'true' || (numeric && v === '1'))) return true;
  if (vs.some((v) => v === 'false' || (numeric && v === '0'))) return false;
  throw invalidArgument(`Invalid filter '${key}=[${vs.join(' ')}]'`);
}
