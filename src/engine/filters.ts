/**
 * List filters as every front end gives them: Docker's API map (`{"status": ["running"]}`) or the
 * CLI's `--filter KEY=VALUE` flags. Values of one key are alternatives; different keys must all
 * hold (Docker's rule). Each use case checks its own keys, in the order given, so that the first
 * wrong filter is the one reported.
 */

/** Docker's `filters`: a map of key → values, or `KEY=VALUE` strings as the CLI's `--filter` takes. */
export type Filters = Readonly<Record<string, readonly string[]>> | readonly string[];

/**
 * The filters as [key, value] pairs, in order. A `KEY=VALUE` string without a key is `badFormat`'s
 * error; `check` sees each pair (and its text, for messages) as it is read.
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
      if (i <= 0) throw badFormat(f);
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
