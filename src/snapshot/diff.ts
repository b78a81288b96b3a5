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
 */
import { lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import type { Readable } from 'node:stream';
import { internal } from '../lib/errors.js';
import { isWhiteout, lstatOrNull, tarNames } from './fsutil.js';
import { childOf, childrenOf, rootOf, type LowerLayer, type MergedDir } from './lower.js';
import { dataPadding, encodeHeader, END_OF_ARCHIVE, TarParser, type TarEntry, type TarEvent } from './tar.js';
import { cleanPath } from './apply.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

export interface DiffResult {
  changes: Change[];
  /** overlay: upper directories that are opaque over a lower directory (emitted as .wh..wh..opq). */
  opaque: Set<string>;
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
function finish(raw: Map<string, 'A' | 'C' | 'D'>): Change[] {
  for (const rel of [...raw.keys()]) {
    let p = rel;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/')) {
      p = p.slice(0, i);
      if (raw.has(p)) break;
      raw.set(p, 'C');
    }
  }
  return [...raw.entries()].sort((a, b) => comparePaths(a[0], b[0])).map(([rel, kind]) => ({ kind, path: `/${rel}` }));
}

function sortedNames(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

const sameMeta = (a: Stats | BigIntStats, b: Stats | BigIntStats) => a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.rdev === b.rdev;

function lstatBig(p: string): BigIntStats | null {
  try {
    return lstatSync(p, { bigint: true });
  } catch {
    return null;
  }
}

/** The directories of `upper` whose trusted.overlay.opaque is "y" (read by GNU tar). */
async function opaqueDirs(upper: string, dirs: string[], what: string): Promise<Set<string>> {
  const out = new Set<string>();
  if (dirs.length === 0) return out;
  const { stream, done } = tarNames(upper, dirs, 'trusted.overlay.opaque', what);
  const parser = new TarParser();
  for await (const chunk of stream) {
    if (parser.ended) continue;
    parser.write(chunk as Buffer);
    for (let ev = parser.next(); ev; ev = parser.next()) {
      if (ev.kind === 'entry' && ev.entry.xattrs?.get('trusted.overlay.opaque')?.toString() === 'y') out.add(cleanPath(ev.entry.name));
    }
  }
  await done;
  return out;
}

export async function overlayChanges(upper: string, lowers: readonly LowerLayer[], what: string): Promise<DiffResult> {
  // The upper directory's tree first (it is small: what the container wrote), then its opaque dirs.
  const dirs: string[] = [];
  const walk = (rel: string) => {
    for (const name of sortedNames(rel === '' ? upper : `${upper}/${rel}`)) {
      const c = joinRel(rel, name);
      const st = lstatOrNull(`${upper}/${c}`);
      if (st?.isDirectory()) {
        dirs.push(c);
        walk(c);
      }
    }
  };
  walk('');
  const opaque = await opaqueDirs(upper, dirs, what);
  const raw = new Map<string, 'A' | 'C' | 'D'>();
  const opaqueOverLower = new Set<string>();

  /** Compares upper dir `rel` with the merged lower directory `low` (undefined: nothing below shows). */
  const visit = (rel: string, low: MergedDir | undefined) => {
    const names = sortedNames(rel === '' ? upper : `${upper}/${rel}`);
    const present = new Set<string>();
    for (const name of names) {
      const c = joinRel(rel, name);
      const st = lstatOrNull(`${upper}/${c}`);
      if (!st) continue;
      const below = low ? childOf(low, name) : undefined;
      if (isWhiteout(st)) {
        if (below) raw.set(c, 'D');
        continue;
      }
      present.add(name);
      if (st.isDirectory()) {
        const isOpaque = opaque.has(c);
        if (below?.dir) {
          if (!sameMeta(st, below.st)) raw.set(c, 'C');
          if (isOpaque) {
            opaqueOverLower.add(c);
            const upperNames = new Set(sortedNames(`${upper}/${c}`));
            for (const n of childrenOf(below.dir)) if (!upperNames.has(n)) raw.set(joinRel(c, n), 'D');
          }
          visit(c, isOpaque ? undefined : below.dir);
        } else {
          raw.set(c, below ? 'C' : 'A');
          visit(c, undefined);
        }
      } else {
        raw.set(c, below ? 'C' : 'A');
      }
    }
  };
  visit('', lowers.length ? rootOf(lowers) : undefined);
  return { changes: finish(raw), opaque: opaqueOverLower };
}

export function vfsChanges(newRoot: string, oldRoot: string | undefined): DiffResult {
  const raw = new Map<string, 'A' | 'C' | 'D'>();
  const addAll = (rel: string) => {
    for (const name of sortedNames(`${newRoot}/${rel}`)) {
      const c = joinRel(rel, name);
      raw.set(c, 'A');
      if (lstatOrNull(`${newRoot}/${c}`)?.isDirectory()) addAll(c);
    }
  };
  const cmp = (rel: string) => {
    const nDir = rel === '' ? newRoot : `${newRoot}/${rel}`;
    const oDir = rel === '' ? oldRoot! : `${oldRoot}/${rel}`;
    const newNames = sortedNames(nDir);
    const newSet = new Set(newNames);
    for (const name of sortedNames(oDir)) if (!newSet.has(name)) raw.set(joinRel(rel, name), 'D');
    for (const name of newNames) {
      const c = joinRel(rel, name);
      const n = lstatBig(`${nDir}/${name}`);
      if (!n) continue;
      const o = lstatBig(`${oDir}/${name}`);
      if (!o) {
        raw.set(c, 'A');
        if (n.isDirectory()) addAll(c);
        continue;
      }
      const typeChanged = (n.mode & 0o170000n) !== (o.mode & 0o170000n);
      if (typeChanged) {
        raw.set(c, 'C');
        if (n.isDirectory()) addAll(c);
        continue;
      }
      if (n.isDirectory()) {
        if (!sameMeta(n, o)) raw.set(c, 'C');
        cmp(c);
        continue;
      }
      if (!sameMeta(n, o) || n.size !== o.size || n.mtimeNs !== o.mtimeNs) raw.set(c, 'C');
    }
  };
  if (oldRoot === undefined) addAll('');
  else cmp('');
  return { changes: finish(raw), opaque: new Set() };
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
 * The changes as an OCI layer tar: entries for added and changed paths read from `source` (by GNU
 * tar, which also reads their xattrs and finds hardlinks among them), `.wh.NAME` for deletions,
 * `.wh..wh..opq` for opaque directories; sorted, with fixed whiteout metadata and whole-second
 * mtimes, so the same tree gives the same bytes. overlay's own xattrs are left out.
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

  const names = items.filter((it) => it.kind === 'path').map((it) => it.rel);
  const tar = names.length ? tarNames(source, names, '*', what) : undefined;
  const events = tar ? tarEvents(tar.stream) : undefined;
  let peeked: TarEvent | undefined;
  const nextEvent = async (): Promise<TarEvent | undefined> => {
    if (peeked) {
      const p = peeked;
      peeked = undefined;
      return p;
    }
    const r = await events!.next();
    return r.done ? undefined : r.value;
  };
  try {
    for (const it of items) {
      if (it.kind !== 'path') {
        yield encodeHeader({ name: it.rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtimeSec: 0 });
        continue;
      }
      // The next entry from tar; a path that vanished meanwhile is simply missing from its output.
      const ev = await nextEvent();
      if (!ev) continue;
      if (ev.kind !== 'entry') throw internal(`${what}: tar output out of step`);
      const e = ev.entry;
      let rel: string;
      try {
        rel = cleanPath(e.name);
      } catch {
        throw internal(`${what}: tar gave an unexpected name ${JSON.stringify(e.name)}`);
      }
      if (rel !== it.rel) {
        peeked = ev;
        continue;
      }
      yield header(e, rel, unshift);
      for (;;) {
        const d = await nextEvent();
        if (!d || d.kind === 'end-entry') break;
        if (d.kind === 'entry') throw internal(`${what}: tar output out of step`);
        yield d.data;
      }
      if (e.type === 'file' && e.size % 512) yield dataPadding(e.size);
    }
    yield END_OF_ARCHIVE;
    if (events) for await (const _ of events) void _; // drain
    await tar?.done;
  } finally {
    if (tar) tar.stream.destroy();
  }
}

/** An id as the image has it: the host's id back through a user namespace's mapping. */
const back = (id: number, base: number, size: number) => (id >= base && id < base + size ? id - base : id);

function header(e: TarEntry, rel: string, unshift?: { uid: number; gid: number; size: number }): Buffer {
  let xattrs: Map<string, Buffer> | undefined;
  if (e.xattrs) {
    for (const [k, v] of e.xattrs) {
      if (k.startsWith('trusted.overlay.')) continue;
      (xattrs ??= new Map()).set(k, v);
    }
  }
  return encodeHeader({
    name: rel,
    type: e.type,
    mode: e.mode,
    uid: unshift ? back(e.uid, unshift.uid, unshift.size) : e.uid,
    gid: unshift ? back(e.gid, unshift.gid, unshift.size) : e.gid,
    size: e.size,
    mtimeSec: Number(e.mtimeNs / 1_000_000_000n),
    linkname: e.type === 'link' ? cleanPath(e.linkname) : e.linkname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs,
  });
}

async function* tarEvents(stream: Readable): AsyncGenerator<TarEvent> {
  const parser = new TarParser();
  for await (const chunk of stream) {
    if (parser.ended) continue;
    parser.write(chunk as Buffer);
    for (let ev = parser.next(); ev; ev = parser.next()) yield ev;
  }
  parser.finish();
}
