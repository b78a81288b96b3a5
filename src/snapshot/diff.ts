/**
 * What a writable snapshot changed (`docker diff`'s A/C/D), and those changes as an OCI layer tar.
 *
 * Both drivers give the same answer for the same edits, the one a comparison of the two trees
 * gives (Docker's "naive" diff):
 * - A: the path is new (every path below an added directory is listed too);
 * - D: the path is gone (only the topmost: a deleted directory's contents are not listed);
 * - C: the path exists in both and changed: type, mode, owner or device numbers, and for
 *   non-directories also size or mtime (overlay: any non-directory in the upper directory that
 *   also exists below, since overlay copies a file up only when it is written or its metadata
 *   changes); a directory is also C when anything below it changed.
 * The list is sorted by path component by component, so parents come before their children.
 *
 * overlay reads the upper directory: a char device 0/0 is a deletion, and a directory with
 * trusted.overlay.opaque=y hides everything below it (its lower children are deletions).
 * vfs compares the snapshot's tree with its parent layer's tree.
 *
 * The snapshot's own tree (overlay's upper directory, vfs's whole tree) is the container's: it is
 * read only through a rooted session (sys/rooted.ts), so that a link the container planted, or a
 * directory it swaps for one while berth reads, never leads a read outside it; the layer tar is
 * written by berth's own tar code (rooted-tar.ts), never the host's tar. The parent layers are
 * berth's own unpacked directories, read with lstat.
 */
import { lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { BerthError, reason } from '../lib/errors.js';
import { openRooted, RootedError, type RootedFs, type RootedStat } from '../sys/rooted.js';
import { childOf, childrenOf, rootOf, type LowerLayer, type MergedDir } from './lower.js';
import { packNamesBlocks } from './rooted-tar.js';
import { encodeHeader } from './tar.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

export interface DiffResult {
  changes: Change[];
  /** overlay: upper directories that are opaque over a lower directory (emitted as .wh..wh..opq). */
  opaque: Set<string>;
  /** The directories listed as C only because something below them changed ('/etc'). */
  implied: Set<string>;
}

const joinRel = (a: string, b: string) => (a === '' ? b : `${a}/${b}`);

/** Compares paths component by component ('/a/b' after '/a', before '/a-b'). */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    if (pa[i] === pb[i]) continue;
    return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Adds a C for every directory above a change that is not listed yet, and sorts. */
function finish(raw: Map<string, 'A' | 'C' | 'D'>, opaque: Set<string>): DiffResult {
  const implied = new Set<string>();
  for (const rel of [...raw.keys()]) {
    let p = rel;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/')) {
      p = p.slice(0, i);
      if (raw.has(p)) break;
      raw.set(p, 'C');
      implied.add(`/${p}`);
    }
  }
  const changes = [...raw.entries()].sort((a, b) => comparePaths(a[0], b[0])).map(([rel, kind]) => ({ kind, path: `/${rel}` }));
  return { changes, opaque, implied };
}

/**
 * The changes without these paths (added or changed: files berth itself put there, such as a
 * container's mount points), and without the directories listed only because of them.
 */
export function hideChanges(changes: readonly Change[], implied: ReadonlySet<string>, hide: ReadonlySet<string>): Change[] {
  const kept = changes.filter((c) => !(hide.has(c.path) && c.kind !== 'D'));
  const below = (dir: string) => kept.some((c) => c.path.startsWith(`${dir}/`));
  return kept.filter((c) => !implied.has(c.path) || below(c.path));
}

/** Names in one of berth's own layer directories, sorted ([] where there is none). */
function sortedNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function lstatBig(p: string): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return null;
  }
}

const isErrno = (e: unknown, ...codes: string[]) => e instanceof RootedError && codes.includes(e.code);

/** An entry of the snapshot's own tree, read through the rooted session. */
interface Child {
  name: string;
  st: RootedStat;
}

/**
 * The entries of a directory of the snapshot's tree, sorted by name, each lstat'ed (the requests
 * sent at once: the helper answers them in order). A directory that is gone, or is no directory
 * any more (a container swapping it meanwhile), has none; an entry gone meanwhile is left out.
 */
async function childrenIn(fs: RootedFs, rel: string): Promise<Child[]> {
  let names: string[];
  try {
    names = (await fs.readdir(rel)).map((e) => e.name).sort();
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR', 'ELOOP')) return [];
    throw e;
  }
  const sts = await Promise.all(
    names.map((n) =>
      fs.lstatIfExists(joinRel(rel, n)).catch((e: unknown) => {
        if (isErrno(e, 'ENOTDIR', 'ELOOP')) return undefined;
        throw e;
      }),
    ),
  );
  const out: Child[] = [];
  for (let i = 0; i < names.length; i++) if (sts[i]) out.push({ name: names[i]!, st: sts[i]! });
  return out;
}

/** dev_t as glibc's makedev encodes it (what Node's Stats.rdev holds). */
function rdevOf(st: RootedStat): bigint {
  const ma = BigInt(st.rdevMajor);
  const mi = BigInt(st.rdevMinor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

const TYPE_OF_MODE: Record<number, RootedStat['type']> = { 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo', 0o140000: 'socket' };
const typeOf = (st: Stats | BigIntStats): RootedStat['type'] | undefined => TYPE_OF_MODE[Number(st.mode) & 0o170000];

/** Same permission bits, owner and device numbers (the snapshot's entry against a layer's). */
const sameMeta = (a: RootedStat, b: Stats | BigIntStats) => a.mode === (Number(b.mode) & 0o7777) && a.uid === Number(b.uid) && a.gid === Number(b.gid) && rdevOf(a) === BigInt(b.rdev);

/** An overlay whiteout: a character device 0/0. */
const isWhiteoutEntry = (st: RootedStat) => st.type === 'char' && st.rdevMajor === 0 && st.rdevMinor === 0;

/** A rooted session on the snapshot's tree; a failure to open it says what was being done. */
function openTree(dir: string, what: string): Promise<RootedFs> {
  return openRooted(dir).catch((e: unknown) => {
    throw rootedFailure(e, what);
  });
}

/** Runs `fn` with a rooted session on the snapshot's tree; failures say what was being done. */
async function inTree<T>(dir: string, what: string, fn: (fs: RootedFs) => Promise<T>): Promise<T> {
  const fs = await openTree(dir, what);
  try {
    return await fn(fs);
  } catch (e) {
    throw rootedFailure(e, what);
  } finally {
    await fs.close();
  }
}

function rootedFailure(e: unknown, what: string): BerthError {
  if (e instanceof BerthError && !(e instanceof RootedError)) return e;
  if (e instanceof RootedError) return new BerthError(e.kind, `${what}: ${e.message}`, { cause: e });
  return new BerthError('Internal', `${what}: ${reason(e)}`, { cause: e });
}

/** Whether an upper directory hides what is below it (trusted.overlay.opaque=y). */
async function isOpaqueDir(fs: RootedFs, rel: string): Promise<boolean> {
  try {
    return (await fs.getxattr(rel, 'trusted.overlay.opaque')).toString() === 'y';
  } catch (e) {
    if (isErrno(e, 'ENODATA', 'ENOENT', 'ENOTSUP', 'EOPNOTSUPP')) return false;
    throw e;
  }
}

export function overlayChanges(upper: string, lowers: readonly LowerLayer[], what: string): Promise<DiffResult> {
  return inTree(upper, what, async (fs) => {
    const raw = new Map<string, 'A' | 'C' | 'D'>();
    const opaqueOverLower = new Set<string>();

    /** Compares upper dir `rel` with the merged lower directory `low` (undefined: nothing below shows). */
    const visit = async (rel: string, low: MergedDir | undefined): Promise<void> => {
      for (const { name, st } of await childrenIn(fs, rel)) {
        const c = joinRel(rel, name);
        const below = low ? childOf(low, name) : undefined;
        if (isWhiteoutEntry(st)) {
          if (below) raw.set(c, 'D');
          continue;
        }
        if (st.type === 'dir') {
          if (below?.dir) {
            if (!sameMeta(st, below.st)) raw.set(c, 'C');
            const isOpaque = await isOpaqueDir(fs, c);
            if (isOpaque) {
              opaqueOverLower.add(c);
              const upperNames = new Set((await childrenIn(fs, c)).map((x) => x.name));
              for (const n of childrenOf(below.dir)) if (!upperNames.has(n)) raw.set(joinRel(c, n), 'D');
            }
            await visit(c, isOpaque ? undefined : below.dir);
          } else {
            raw.set(c, below ? 'C' : 'A');
            await visit(c, undefined);
          }
        } else {
          raw.set(c, below ? 'C' : 'A');
        }
      }
    };
    await visit('', lowers.length ? rootOf(lowers) : undefined);
    return finish(raw, opaqueOverLower);
  });
}

export function vfsChanges(newRoot: string, oldRoot: string | undefined, what = `changes of ${JSON.stringify(newRoot)}`): Promise<DiffResult> {
  return inTree(newRoot, what, async (fs) => {
    const raw = new Map<string, 'A' | 'C' | 'D'>();
    const addAll = async (rel: string): Promise<void> => {
      for (const { name, st } of await childrenIn(fs, rel)) {
        const c = joinRel(rel, name);
        raw.set(c, 'A');
        if (st.type === 'dir') await addAll(c);
      }
    };
    const cmp = async (rel: string): Promise<void> => {
      const oDir = rel === '' ? oldRoot! : `${oldRoot}/${rel}`;
      const news = await childrenIn(fs, rel);
      const newSet = new Set(news.map((n) => n.name));
      for (const name of sortedNames(oDir)) if (!newSet.has(name)) raw.set(joinRel(rel, name), 'D');
      for (const { name, st: n } of news) {
        const c = joinRel(rel, name);
        const o = lstatBig(`${oDir}/${name}`);
        if (!o) {
          raw.set(c, 'A');
          if (n.type === 'dir') await addAll(c);
          continue;
        }
        if (n.type !== typeOf(o)) {
          raw.set(c, 'C');
          if (n.type === 'dir') await addAll(c);
          continue;
        }
        if (n.type === 'dir') {
          if (!sameMeta(n, o)) raw.set(c, 'C');
          await cmp(c);
          continue;
        }
        if (!sameMeta(n, o) || BigInt(n.size) !== o.size || n.mtimeNs !== o.mtimeNs) raw.set(c, 'C');
      }
    };
    if (oldRoot === undefined) await addAll('');
    else await cmp('');
    return finish(raw, new Set());
  });
}

type Item = { kind: 'path' | 'whiteout' | 'opaque'; rel: string; key: string[] };

/** Sort key: components, with the opaque marker first among its siblings. */
const keyOf = (rel: string) => rel.split('/').map((p) => (p === '.wh..wh..opq' ? '' : p));
function compareKeys(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) continue;
    return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * The changes as an OCI layer tar: entries for added and changed paths read from `source` through
 * a rooted session (none followed; xattrs kept, hard links among them archived as links),
 * `.wh.NAME` for deletions, `.wh..wh..opq` for opaque directories; sorted, with fixed whiteout
 * metadata and whole-second mtimes, so the same tree gives the same bytes. overlay's own xattrs
 * are left out. `unshift`: the owners mapped back through a user namespace's mapping.
 */
export async function* diffTarStream(source: string, diff: DiffResult, what: string, unshift?: { uid: number; gid: number; size: number }): AsyncGenerator<Buffer> {
  const items: Item[] = [];
  const paths = new Set<string>();
  for (const c of diff.changes) if (c.kind !== 'D') paths.add(c.path.slice(1));
  for (const c of diff.changes) {
    const rel = c.path.slice(1);
    if (c.kind !== 'D') {
      items.push({ kind: 'path', rel, key: keyOf(rel) });
      continue;
    }
    const i = rel.lastIndexOf('/');
    const dir = i < 0 ? '' : rel.slice(0, i);
    if (diff.opaque.has(dir) && paths.has(dir)) continue; // covered by the directory's opaque marker
    const wh = `${i < 0 ? '' : `${dir}/`}.wh.${rel.slice(i + 1)}`;
    items.push({ kind: 'whiteout', rel: wh, key: keyOf(wh) });
  }
  for (const d of diff.opaque) {
    if (!paths.has(d)) continue;
    const rel = `${d}/.wh..wh..opq`;
    items.push({ kind: 'opaque', rel, key: keyOf(rel) });
  }
  items.sort((a, b) => compareKeys(a.key, b.key));

  const entries = items.map((it) => (it.kind === 'path' ? it.rel : encodeHeader({ name: it.rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtimeSec: 0 })));
  const ids = unshift ? (uid: number, gid: number) => ({ uid: back(uid, unshift.uid, unshift.size), gid: back(gid, unshift.gid, unshift.size) }) : undefined;
  const fs = await openTree(source, what);
  try {
    yield* packNamesBlocks(fs, entries, { xattrs: (n) => !n.startsWith('trusted.overlay.'), ids, what });
  } finally {
    await fs.close();
  }
}

/** An id as the image has it: the host's id back through a user namespace's mapping. */
const back = (id: number, base: number, size: number) => (id >= base && id < base + size ? id - base : id);
