/**
 * Who a process runs as, from a `USER` / `--user` / `COPY --chown` value and an image's
 * /etc/passwd and /etc/group, by Docker's rules (runc's GetExecUser, BuildKit's chown). Pure: the
 * caller reads the files (through the container's root) and passes their text.
 */
import { invalidArgument } from '../lib/errors.js';

export interface UserIds {
  uid: number;
  gid: number;
  /** the groups of /etc/group that list the user as a member */
  additionalGids?: number[];
}

export interface ResolveUserOptions {
  /**
   * COPY/ADD --chown's rule (BuildKit's): an id alone stands for both uid and gid, the files are
   * not read for it; no additional groups.
   */
  chown?: boolean;
  /** The error for a name that the file does not have (default: Docker's wording, InvalidArgument). */
  missing?: (what: 'user' | 'group', name: string) => Error;
}

const NUMERIC = /^\d+$/;

function entries(text: string | undefined, fields: number): string[][] {
  return (text ?? '').split('\n').map((l) => l.split(':')).filter((f) => f.length >= fields && f[0] !== '');
}

function dockerMissing(what: 'user' | 'group', name: string): Error {
  return invalidArgument(`unable to find ${what} ${name}: no matching entries in ${what === 'user' ? 'passwd' : 'group'} file`);
}

/**
 * USER[:GROUP] → ids. The user by name, or by uid (its passwd entry, when there is one, gives
 * the primary group; a uid without an entry keeps gid 0); an empty user is uid 0. The group by name
 * or gid (a gid without an entry is taken as it is). Without an explicit group, the groups that list
 * the user as a member are its additional groups. A name that the file lacks is an error.
 */
export function resolveUser(spec: string, passwd?: string, group?: string, opts: ResolveUserOptions = {}): UserIds {
  const missing = opts.missing ?? dockerMissing;
  const i = spec.indexOf(':');
  const u = i < 0 ? spec : spec.slice(0, i);
  const g = i < 0 ? '' : spec.slice(i + 1);
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (opts.chown && NUMERIC.test(u)) {
    uid = gid = Number(u);
  } else {
    const want = u === '' ? 0 : NUMERIC.test(u) ? Number(u) : undefined;
    const e = entries(passwd, 4).find((f) => (want === undefined ? f[0] === u : Number(f[2]) === want));
    if (e) {
      uid = Number(e[2]);
      gid = Number(e[3]);
      name = e[0];
    } else if (want !== undefined) uid = want;
    else throw missing('user', u);
  }
  const groups = entries(group, 3);
  if (g !== '') {
    if (NUMERIC.test(g)) gid = Number(g);
    else {
      const e = groups.find((f) => f[0] === g);
      if (!e) throw missing('group', g);
      gid = Number(e[2]);
    }
    return { uid, gid };
  }
  if (opts.chown || name === undefined) return { uid, gid };
  const additionalGids = groups.filter((f) => (f[3] ?? '').split(',').includes(name!)).map((f) => Number(f[2]));
  return { uid, gid, ...(additionalGids.length ? { additionalGids } : {}) };
}

/** A process's user as dockerd sets it up (its getUser, with runc's HOME). */
export interface ProcessUser {
  uid: number;
  gid: number;
  /** The primary gid first, then the groups of /etc/group that list the user (no group given), then --group-add's. */
  additionalGids: number[];
  /** The user's home in /etc/passwd ("/" when it has no entry): HOME, unless the environment sets it. */
  home: string;
}

/**
 * --group-add values → gids, as runc's GetAdditionalGroups: a group's name or gid from /etc/group,
 * else a number as it is; a name the file lacks is an error.
 */
export function additionalGroups(list: readonly string[], group?: string): number[] {
  const groups = entries(group, 3);
  return list.map((g) => {
    const e = groups.find((f) => f[0] === g) ?? (NUMERIC.test(g) ? groups.find((f) => f[2] === g) : undefined);
    if (e) return Number(e[2]);
    if (NUMERIC.test(g)) return Number(g);
    throw invalidArgument(`Unable to find group ${g}: no matching entries in group file`);
  });
}

/**
 * USER[:GROUP] (and --group-add) → the process's user as Docker runs it: resolveUser's ids, the
 * additional gids Docker passes (the primary gid, the user's member groups, the added groups),
 * and the home directory runc sets HOME to.
 */
export function processUser(spec: string, passwd?: string, group?: string, groupAdd: readonly string[] = []): ProcessUser {
  const ids = resolveUser(spec, passwd, group);
  const u = spec.includes(':') ? spec.slice(0, spec.indexOf(':')) : spec;
  const want = u === '' ? '0' : u;
  const entry = entries(passwd, 6).find((f) => (NUMERIC.test(want) ? f[2] === String(Number(want)) : f[0] === want));
  return {
    uid: ids.uid,
    gid: ids.gid,
    additionalGids: [ids.gid, ...(ids.additionalGids ?? []), ...additionalGroups(groupAdd, group)],
    home: entry?.[5] || '/',
  };
}
