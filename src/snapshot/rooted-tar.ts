/**
 * Tar in and out of a tree a container controls, through a rooted session (sys/rooted.ts) and
 * berth's own tar code (tar.ts): `cp` in and out, `export`, `ADD` of a local archive, volume
 * seeding and copies between build stages. Never the host's `tar` or `cp`.
 *
 * - Every path is resolved inside the root: a symlink in the destination or source *path* (or in
 *   an entry's parent directories) resolves as it would for a process chrooted there.
 * - Names in an archive are confined: `..` cannot climb above the destination and an absolute
 *   name is taken relative to it.
 * - An entry is never written through a symlink: a symlink (or any non-directory) where an entry
 *   goes is replaced, and files are created with O_EXCL | O_NOFOLLOW.
 * - Symlinks inside a packed tree are archived as symlinks, as Docker does.
 */
import { Readable } from 'node:stream';
import { BerthError, invalidArgument, reason } from '../lib/errors.js';
import { cleanRootedPath, RootedError, type RootedFs, type RootedReadHandle, type RootedStat } from '../sys/rooted.js';
import { dataPadding, encodeHeader, END_OF_ARCHIVE, TarFormatError, TarParser, type EntryType, type TarEntry } from './tar.js';

export interface ExtractOptions {
  /** Every entry owned by this uid/gid (e.g. `cp` without -a); else the archive's owners. */
  owner?: { uid: number; gid: number };
  /** Keep the archive's owners (default true); false leaves entries to the helper's (root's). */
  sameOwner?: boolean;
  /** Apply SCHILY.xattr records (default true). */
  xattrs?: boolean;
  /** Refuse to replace a directory by a non-directory or the other way round (Docker's NoOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean;
  /** What is being done, for messages (`cp - box:/tmp`). */
  what?: string;
}

export interface ExtractResult {
  /** Entries written (the destination's own "." entry not counted). */
  entries: number;
}

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
const parentOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const isErrno = (e: unknown, ...codes: string[]) => e instanceof RootedError && codes.includes(e.code);

/** How many writes of one file may be in flight at once. */
const WRITE_WINDOW = 8;

/**
 * Unpacks a (plain) tar stream (a Readable, or any iterable of chunks) into `destPath` (a directory inside the root; a symlink to one is
 * followed inside the root). Directory times are set last, so that later entries do not change
 * them.
 */
export async function extractInto(fs: RootedFs, destPath: string, tar: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer | Uint8Array>, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const what = opts.what ?? `extract into ${JSON.stringify(`/${cleanRootedPath(destPath)}`)}`;
  const dest = cleanRootedPath(destPath);
  let destStat: RootedStat;
  try {
    destStat = await fs.stat(dest);
  } catch (e) {
    throw isErrno(e, 'ENOENT', 'ENOTDIR') ? new BerthError('NotFound', `${what}: the destination does not exist`, { cause: e }) : e;
  }
  if (destStat.type !== 'dir') throw invalidArgument(`${what}: the destination is not a directory`);

  const parser = new TarParser();
  const dirTimes: { path: string; mtimeNs: bigint }[] = [];
  let entries = 0;
  let current = '';
  /** The file being written: its handle, its entry and the writes in flight. */
  let file: { h: Awaited<ReturnType<RootedFs['create']>>; entry: TarEntry; path: string; inflight: Promise<void>[] } | undefined;
  let skipping = false;

  const ownerOf = (entry: TarEntry) => opts.owner ?? (opts.sameOwner === false ? undefined : { uid: entry.uid, gid: entry.gid });
  /** An xattr where the file system may not take it (ENOTSUP is no failure). */
  const tolerant = (p: Promise<void>) => p.catch((e: unknown) => {
    if (!isErrno(e, 'ENOTSUP', 'EOPNOTSUPP')) throw e;
  });

  /**
   * Owner, xattrs, mode and times of an entry, sent at once (the helper runs them in order): the
   * chown first, as it clears setuid and setgid bits.
   */
  const metadata = async (path: string, entry: TarEntry) => {
    const owner = ownerOf(entry);
    const steps: Promise<void>[] = [];
    if (owner) steps.push(fs.lchown(path, owner.uid, owner.gid));
    if (entry.type !== 'symlink') {
      if (opts.xattrs !== false && entry.xattrs) for (const [name, value] of entry.xattrs) steps.push(tolerant(fs.setxattr(path, name, value)));
      steps.push(fs.chmod(path, entry.mode));
    }
    if (entry.type === 'dir') dirTimes.push({ path, mtimeNs: entry.mtimeNs });
    else steps.push(fs.utimes(path, entry.mtimeNs, entry.mtimeNs));
    await Promise.all(steps);
  };

  /**
   * Makes the entry at `path`: where its parent is missing, the parent is made (inside the root)
   * first; where something is there already, it is replaced (never written through), except
   * that a directory entry keeps an existing directory. Returns false when it kept one.
   */
  const place = async (path: string, entry: TarEntry, make: () => Promise<void>): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await make();
        return true;
      } catch (e) {
        if (attempt >= 2 || !isErrno(e, 'ENOENT', 'EEXIST')) throw e;
        if (isErrno(e, 'ENOENT')) {
          await fs.mkdirAll(parentOf(path));
          continue;
        }
        const existing = await fs.lstatIfExists(path);
        const isDir = existing?.type === 'dir';
        if (isDir && entry.type === 'dir') return false;
        if (existing && opts.noOverwriteDirNonDir && isDir !== (entry.type === 'dir'))
          throw invalidArgument(`${what}: cannot overwrite ${isDir ? 'a directory' : 'a non-directory'} ${JSON.stringify(`/${path}`)} with ${isDir ? 'a non-directory' : 'a directory'}`);
        await fs.removeAll(path);
      }
    }
  };

  const begin = async (entry: TarEntry) => {
    const name = cleanRootedPath(entry.name);
    current = entry.name;
    if (name === '') {
      // The destination itself ("./"): kept as it is, as Docker does.
      skipping = entry.type === 'file';
      return;
    }
    const path = join(dest, name);
    entries++;
    switch (entry.type) {
      case 'dir':
        await place(path, entry, () => fs.mkdir(path, 0o700));
        await metadata(path, entry);
        return;
      case 'file': {
        let h!: Awaited<ReturnType<RootedFs['create']>>;
        await place(path, entry, async () => {
          h = await fs.create(path, 0o600);
        });
        file = { h, entry, path, inflight: [] };
        return;
      }
      case 'symlink':
        await place(path, entry, () => fs.symlink(entry.linkname, path));
        await metadata(path, entry);
        return;
      case 'link': {
        const target = cleanRootedPath(entry.linkname);
        if (target === '') throw invalidArgument(`${what}: entry ${JSON.stringify(entry.name)}: a hard link to the destination itself`);
        await place(path, entry, () => fs.link(join(dest, target), path));
        return;
      }
      case 'char':
      case 'block':
      case 'fifo':
        await place(path, entry, () => fs.mknod(path, entry.type as 'char' | 'block' | 'fifo', 0o600, entry.devmajor, entry.devminor));
        await metadata(path, entry);
        return;
    }
  };

  const data = async (chunk: Buffer) => {
    if (!file) return;
    const w = fs.writeQueued(file.h, chunk);
    w.catch(() => {}); // awaited below or in end()
    file.inflight.push(w);
    if (file.inflight.length >= WRITE_WINDOW) await file.inflight.shift();
  };

  const end = async () => {
    skipping = false;
    if (!file) return;
    const f = file;
    file = undefined;
    // On the open file (it is the one created, whatever its path names by now), sent at once
    // after its data: owner, xattrs, mode and times, then the close.
    const e = f.entry;
    const owner = ownerOf(e);
    const steps: Promise<void>[] = [...f.inflight];
    if (owner) steps.push(fs.fsetmeta(f.h, owner));
    if (opts.xattrs !== false && e.xattrs) for (const [name, value] of e.xattrs) steps.push(tolerant(fs.fsetxattr(f.h, name, value)));
    steps.push(fs.fsetmeta(f.h, { mode: e.mode, mtimeNs: e.mtimeNs }));
    steps.push(fs.closeHandle(f.h));
    const settled = await Promise.allSettled(steps);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  try {
    for await (const raw of tar) {
      if (parser.ended) continue;
      parser.write(typeof raw === 'string' ? Buffer.from(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
      for (let ev = parser.next(); ev !== null; ev = parser.next()) {
        if (ev.kind === 'entry') await begin(ev.entry);
        else if (ev.kind === 'data') {
          if (!skipping) await data(ev.data);
        } else await end();
      }
    }
    parser.finish();
    // Innermost directories first: setting a directory's times never touches its parent's.
    for (const d of dirTimes.reverse()) await fs.utimes(d.path, d.mtimeNs, d.mtimeNs);
  } catch (e) {
    if (file) {
      const f = file;
      file = undefined;
      await Promise.allSettled(f.inflight);
      await fs.closeHandle(f.h).catch(() => {});
    }
    if (e instanceof BerthError && !(e instanceof RootedError)) throw e;
    const at = current ? `: entry ${JSON.stringify(current)}` : '';
    if (e instanceof TarFormatError) throw invalidArgument(`${what}: ${e.message}`, { cause: e });
    if (e instanceof RootedError) throw new BerthError(e.kind, `${what}${at}: ${e.message}`, { cause: e });
    throw new BerthError('Internal', `${what}${at}: ${reason(e)}`, { cause: e });
  }
  return { entries };
}

export interface PackOptions {
  /**
   * The name of the source's own entry in the archive, its contents below it (`cp`: the source's
   * base name). '' archives the contents at the top with no entry for the source itself
   * (`export`, `cp box:/dir/. -`). Default: the source's base name ('' for the root).
   */
  name?: string;
  /** Follow the source itself where it is a symlink (inside the root); else it is archived as a symlink. */
  followLink?: boolean;
  /** Keep xattrs (all of them, or those this accepts). Default: none. */
  xattrs?: boolean | ((name: string) => boolean);
  /** Leaves out an entry (and, for a directory, all below it): its path inside the root. */
  exclude?: (path: string) => boolean;
  /** The owners the archive gives (e.g. a user namespace's ids mapped back); default: the tree's. */
  ids?: (uid: number, gid: number) => { uid: number; gid: number };
  what?: string;
}

const TAR_TYPE: Partial<Record<RootedStat['type'], EntryType>> = { file: 'file', dir: 'dir', symlink: 'symlink', char: 'char', block: 'block', fifo: 'fifo' };

/** The entries of one archive: `entry` yields an entry's blocks (and, with `recurse`, those below it). */
function packer(fs: RootedFs, opts: PackOptions, what: string) {
  const links = new Map<string, string>();
  const owners = (st: RootedStat) => (opts.ids ? opts.ids(st.uid, st.gid) : { uid: st.uid, gid: st.gid });

  const xattrsOf = async (path: string, st: RootedStat): Promise<Map<string, Buffer> | undefined> => {
    if (!opts.xattrs || st.type === 'symlink') return undefined;
    const names = (await fs.listxattr(path)).filter((n) => opts.xattrs === true || (typeof opts.xattrs === 'function' && opts.xattrs(n))).sort();
    if (names.length === 0) return undefined;
    const m = new Map<string, Buffer>();
    for (const n of names) {
      try {
        m.set(n, await fs.getxattr(path, n));
      } catch (e) {
        if (!isErrno(e, 'ENODATA')) throw e;
      }
    }
    return m.size ? m : undefined;
  };

  async function* entry(path: string, name: string, st: RootedStat, followDir: boolean, recurse = true): AsyncGenerator<Buffer> {
    if (opts.exclude?.(path)) return;
    const type = TAR_TYPE[st.type];
    if (!type) return; // a socket
    const base = { name, ...owners(st), mode: st.mode, mtimeSec: Number(st.mtimeNs / 1_000_000_000n) };
    if (type === 'dir' && !recurse) {
      yield encodeHeader({ ...base, type, size: 0, xattrs: await xattrsOf(path, st) });
      return;
    }
    if (type === 'dir') {
      let children;
      try {
        children = await fs.readdir(path, { follow: followDir });
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return;
        throw e;
      }
      if (name !== '') yield encodeHeader({ ...base, type, size: 0, xattrs: await xattrsOf(path, st) });
      for (const c of children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const p = join(path, c.name);
        const n = name === '' ? c.name : `${name}/${c.name}`;
        if (c.type === 'file' && !opts.exclude?.(p)) {
          // A regular file by readdir's word: opened at once (the open says what it is).
          const h = await fs.openRead(p).catch((e: unknown) => {
            if (isErrno(e, 'ENOENT', 'ELOOP', 'EISDIR', 'EINVAL')) return undefined; // gone or changed: looked at again below
            throw e;
          });
          if (h) {
            yield* fileData(p, n, h);
            continue;
          }
        }
        const cst = await fs.lstatIfExists(p);
        if (cst) yield* entry(p, n, cst, false);
      }
      return;
    }
    if (name === '') throw invalidArgument(`${what}: not a directory`);
    if (type === 'symlink') {
      let target: string;
      try {
        target = await fs.readlink(path);
      } catch (e) {
        if (isErrno(e, 'ENOENT')) return;
        throw e;
      }
      yield encodeHeader({ ...base, type, size: 0, linkname: target });
      return;
    }
    if (type !== 'file') {
      yield encodeHeader({ ...base, type, size: 0, devmajor: st.rdevMajor, devminor: st.rdevMinor, xattrs: await xattrsOf(path, st) });
      return;
    }
    let h;
    try {
      h = await fs.openRead(path);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
    yield* fileData(path, name, h);
  }

  /** A regular file's entry and data, from its open handle (closed at the end). */
  async function* fileData(path: string, name: string, h: RootedReadHandle): AsyncGenerator<Buffer> {
    try {
      // The header describes the file that was opened, whatever the path names meanwhile.
      const fst = h.stat;
      const base = { name, ...owners(fst), mode: fst.mode, mtimeSec: Number(fst.mtimeNs / 1_000_000_000n) };
      const key = `${fst.dev}:${fst.ino}`;
      if (fst.nlink > 1) {
        const first = links.get(key);
        if (first !== undefined) {
          yield encodeHeader({ ...base, type: 'link', size: 0, linkname: first });
          return;
        }
        links.set(key, name);
      }
      yield encodeHeader({ ...base, type: 'file', size: fst.size, xattrs: await xattrsOf(path, fst) });
      let left = fst.size;
      while (left > 0) {
        const b = await fs.read(h, Math.min(left, 1 << 20));
        if (b.length === 0) break;
        yield b.length > left ? b.subarray(0, left) : b;
        left -= Math.min(b.length, left);
      }
      // A file that shrank while it was read is padded to the size its header gave.
      while (left > 0) {
        const n = Math.min(left, 1 << 20);
        yield Buffer.alloc(n);
        left -= n;
      }
      yield dataPadding(fst.size);
    } finally {
      // Not waited for: the next request is answered after it.
      fs.closeHandle(h).catch(() => {});
    }
  }

  return entry;
}

/** A rooted failure as a BerthError that says what was being archived. */
function packError(e: unknown, what: string): BerthError {
  if (e instanceof BerthError && !(e instanceof RootedError)) return e;
  if (e instanceof RootedError) return new BerthError(e.kind, `${what}: ${e.message}`, { cause: e });
  return new BerthError('Internal', `${what}: ${reason(e)}`, { cause: e });
}

/**
 * A tar stream of `srcPath` (inside the root): a symlink in its path resolved inside the root;
 * symlinks below it archived as symlinks; hard links within it as hard links; sockets left out.
 * The stream errors where the tree cannot be read (an entry that vanishes meanwhile is left out).
 */
export function packFrom(fs: RootedFs, srcPath: string, opts: PackOptions = {}): Readable {
  const src = cleanRootedPath(srcPath);
  const what = opts.what ?? `archive ${JSON.stringify(`/${src}`)}`;
  const top = opts.name ?? (src === '' ? '' : src.slice(src.lastIndexOf('/') + 1));
  const entry = packer(fs, opts, what);

  async function* archive(): AsyncGenerator<Buffer> {
    try {
      const follow = opts.followLink === true;
      let st: RootedStat;
      try {
        st = follow ? await fs.stat(src) : await fs.lstat(src);
      } catch (e) {
        if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new BerthError('NotFound', `${what}: no such file or directory`, { cause: e });
        throw e;
      }
      yield* entry(src, top, st, follow);
      yield END_OF_ARCHIVE;
    } catch (e) {
      throw packError(e, what);
    }
  }

  return Readable.from(archive(), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * The blocks of a tar of exactly these entries (paths inside the root, named as given without the
 * leading '/'), in this order, without recursion, none of them followed: what a layer diff
 * archives. A Buffer among them is a header of the caller's (a whiteout), put there as it is. An
 * entry that is missing by now is left out; hard links among the entries are archived as links
 * to the first of them.
 */
export async function* packNamesBlocks(fs: RootedFs, paths: Iterable<string | Buffer>, opts: Omit<PackOptions, 'name' | 'followLink'> = {}): AsyncGenerator<Buffer> {
  const what = opts.what ?? 'archive the changes';
  const entry = packer(fs, opts, what);
  try {
    for (const p of paths) {
      if (Buffer.isBuffer(p)) {
        yield p;
        continue;
      }
      const clean = cleanRootedPath(p);
      if (clean === '') continue;
      const st = await fs.lstatIfExists(clean);
      if (st) yield* entry(clean, clean, st, false, false);
    }
    yield END_OF_ARCHIVE;
  } catch (e) {
    throw packError(e, what);
  }
}

/** packNamesBlocks as a stream. */
export function packNames(fs: RootedFs, paths: readonly (string | Buffer)[], opts: Omit<PackOptions, 'name' | 'followLink'> = {}): Readable {
  return Readable.from(packNamesBlocks(fs, paths, opts), { objectMode: false, highWaterMark: 1 << 20 });
}

/**
 * Copies `srcPath` of one root into the directory `destPath` of another (or the same) root:
 * stage copies, volume seeding, `cp` between a container and a host directory opened as a root.
 * Links in the copied tree are copied as links; nothing is followed out of either root.
 */
export async function copyTree(from: RootedFs, srcPath: string, to: RootedFs, destPath: string, opts: PackOptions & ExtractOptions = {}): Promise<ExtractResult> {
  const stream = packFrom(from, srcPath, opts);
  try {
    return await extractInto(to, destPath, stream, opts);
  } finally {
    stream.destroy();
  }
}
