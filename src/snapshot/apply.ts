/**
 * Unpacking one layer tar into a directory: the security boundary between an image and the host.
 *
 * The target directory is private (a fresh temporary directory, for vfs holding a copy of the
 * parent's tree), so the only writer is this code. Invariants that keep every write inside it:
 * - entry and hardlink paths are cleaned lexically; absolute paths and `..` that climbs out are
 *   refused;
 * - every parent directory is checked with lstat (never followed) and must be a real directory;
 *   checked directories are remembered in `knownDirs`, and forgotten when anything removes them;
 * - the final component is created with O_EXCL/O_NOFOLLOW, mkdir, symlink, link or mknod, after
 *   whatever was there was removed, so nothing is ever written through a symlink;
 * - operations Node cannot do (mknod, setxattr, times of symlinks and directories) are queued and
 *   run by berth-helper in one batch; a queued operation is dropped when a later entry replaces or
 *   removes its path, so the batch never acts on a path whose meaning changed.
 *
 * overlay: the directory holds this layer's diff only. Whiteouts become overlay's own: a char
 * device 0/0 for `.wh.NAME`, `trusted.overlay.opaque=y` for `.wh..wh..opq`. A hardlink to a file
 * of a lower layer copies that file up first (links cannot cross layers).
 * vfs: the directory holds the parent's whole tree; whiteouts delete from it.
 */
import { nodeCrypto, nodeZlib } from '../lib/builtins.js';
import { closeSync, constants, lstatSync, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { BerthError, internal, invalidArgument, isBerthError, reason } from '../lib/errors.js';
import { runFsOps, type FsOp } from '../sys/fsops.js';
import { HelperOpError } from '../sys/helper.js';
import { copyOne, isWhiteout, lstatOrNull } from './fsutil.js';
import { lookup, rootOf, childrenOf, type LowerLayer } from './lower.js';
import { TarFormatError, TarParser, type TarEntry, type TarEvent } from './tar.js';

export type Driver = 'overlay' | 'vfs';

export interface UnpackOptions {
  /** The directory to unpack into (private to this call). */
  dir: string;
  driver: Driver;
  /** overlay: the parent chain's layers, top first. */
  lowers: readonly LowerLayer[];
  /** The start of every message: `apply layer sha256:…`. */
  what: string;
  /**
   * The diff ID, when the caller has already verified the uncompressed bytes (a plain tar blob
   * read from the content store): the tar is then not hashed a second time.
   */
  verifiedDiffId?: string;
}

export interface UnpackResult {
  diffId: string;
  /** overlay: the directories this layer made opaque. */
  opaque: string[];
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Helper plans stay well under its 64 MiB limit. */
const MAX_BATCH_BYTES = 16 << 20;

class EntryError extends Error {}

/** Lexically cleans a tar path: '' is the root; throws on absolute paths and escapes. */
export function cleanPath(name: string): string {
  if (name.includes('\0')) throw new EntryError('path contains a NUL byte');
  if (name.startsWith('/')) throw new EntryError('path is absolute');
  const parts: string[] = [];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) throw new EntryError('path escapes the layer root');
      parts.pop();
      continue;
    }
    parts.push(seg);
  }
  return parts.join('/');
}

const parentOf = (rel: string) => {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
};
const joinRel = (a: string, b: string) => (a === '' ? b : `${a}/${b}`);
const under = (p: string, dir: string) => dir === '' || p === dir || p.startsWith(`${dir}/`);

type PendingKind = 'node' | 'whiteout' | 'xattr' | 'times' | 'opaque';
interface Pending {
  rel: string;
  entry: string;
  kind: PendingKind;
  op: FsOp;
}

class Applier {
  /** Relative paths known to be real directories, with all their ancestors. */
  private readonly knownDirs = new Set<string>(['']);
  /** Directory mtimes to set at the end, after everything inside them was written. */
  private readonly dirTimes = new Map<string, bigint>();
  private pending: (Pending | null)[] = [];
  private readonly pendingAt = new Map<string, number[]>();
  /** vfs: paths this layer wrote (an opaque marker keeps them and removes the rest). */
  private readonly unpacked = new Set<string>();
  /** Directories this call created: what it did not write there does not exist (no lstat needed). */
  private readonly freshDirs = new Set<string>();
  /** overlay: directories this layer made opaque. */
  readonly opaque = new Set<string>();
  private cur: { fd: number; entry: TarEntry; rel: string } | undefined;
  private entryName = '';

  constructor(private readonly o: UnpackOptions) {
    if (readdirSync(o.dir).length === 0) this.freshDirs.add('');
  }

  private abs(rel: string): string {
    return rel === '' ? this.o.dir : `${this.o.dir}/${rel}`;
  }

  private bad(msg: string): never {
    throw new EntryError(msg);
  }

  handle(ev: TarEvent): void | Promise<void> {
    switch (ev.kind) {
      case 'data':
        if (this.cur) this.write(ev.data);
        return;
      case 'end-entry':
        if (this.cur) this.closeFile();
        return;
      case 'entry':
        this.entryName = ev.entry.name;
        return this.entry(ev.entry);
    }
  }

  /** The name of the entry being applied (for messages). */
  get currentEntry(): string {
    return this.entryName;
  }

  abort(): void {
    if (this.cur) {
      try {
        closeSync(this.cur.fd);
      } catch {
        // already closed
      }
      this.cur = undefined;
    }
  }

  private entry(e: TarEntry): void | Promise<void> {
    const rel = cleanPath(e.name);
    const parts = rel === '' ? [] : rel.split('/');
    // AUFS metadata (.wh..wh.plnk, .wh..wh.aufs, ...) at the root: not content.
    if (parts.length > 0 && parts[0]!.startsWith('.wh..wh.') && !(parts.length === 1 && parts[0] === '.wh..wh..opq')) return;
    for (let i = 0; i < parts.length - 1; i++) {
      if (parts[i]!.startsWith('.wh.')) this.bad(`whiteout name "${parts[i]}" used as a directory`);
    }
    const base = parts.length ? parts[parts.length - 1]! : '';
    if (base.startsWith('.wh.')) {
      const dirRel = parentOf(rel);
      if (base === '.wh..wh..opq') return this.opaqueDir(dirRel);
      if (base.startsWith('.wh..wh.')) return; // other AUFS metadata
      const name = base.slice(4);
      if (name === '' || name === '.' || name === '..') this.bad(`whiteout "${base}" escapes its directory`);
      return this.whiteout(dirRel, name);
    }
    if (rel === '') {
      if (e.type === 'dir') return; // the layer root itself: as Docker, keep the root as it is
      this.bad('entry would replace the layer root');
    }
    switch (e.type) {
      case 'dir':
        return this.dir(rel, e);
      case 'file':
        return this.file(rel, e);
      case 'symlink':
        return this.symlink(rel, e);
      case 'link':
        return this.hardlink(rel, e);
      case 'char':
      case 'block':
      case 'fifo':
        return this.node(rel, e);
    }
  }

  // ---- the pending batch ----

  private push(kind: PendingKind, rel: string, op: FsOp): void {
    const idx = this.pending.length;
    this.pending.push({ rel, entry: this.entryName, kind, op });
    const list = this.pendingAt.get(rel);
    if (list) list.push(idx);
    else this.pendingAt.set(rel, [idx]);
  }

  /** The kind of node (device, fifo, whiteout) queued at rel, if any. */
  private pendingNode(rel: string): 'node' | 'whiteout' | undefined {
    const list = this.pendingAt.get(rel);
    if (!list) return undefined;
    for (const i of list) {
      const p = this.pending[i];
      if (p && (p.kind === 'node' || p.kind === 'whiteout')) return p.kind;
    }
    return undefined;
  }

  private dropPendingAt(rel: string): void {
    const list = this.pendingAt.get(rel);
    if (!list) return;
    for (const i of list) this.pending[i] = null;
    this.pendingAt.delete(rel);
  }

  async flush(): Promise<void> {
    const live = this.pending.filter((p): p is Pending => p !== null);
    this.pending = [];
    this.pendingAt.clear();
    let start = 0;
    while (start < live.length) {
      let bytes = 0;
      let end = start;
      while (end < live.length && (end === start || bytes < MAX_BATCH_BYTES)) {
        const op = live[end]!.op;
        bytes += 64 + ('path' in op ? Buffer.byteLength(op.path) : 0) + (op.op === 'setxattr' ? (typeof op.value === 'string' ? Buffer.byteLength(op.value) : op.value.length) + op.name.length : 0);
        end++;
      }
      const batch = live.slice(start, end);
      try {
        await runFsOps(batch.map((p) => p.op));
      } catch (e) {
        if (e instanceof HelperOpError && e.opIndex >= 1 && e.opIndex <= batch.length) {
          const p = batch[e.opIndex - 1]!;
          const kind = e.errnoName === 'EINVAL' || e.errnoName === 'ENOTSUP' || e.errnoName === 'EOPNOTSUPP' ? 'InvalidArgument' : 'Internal';
          throw new BerthError(kind, `${this.o.what}: entry ${JSON.stringify(p.entry)}: ${e.message}`, { cause: e });
        }
        throw e;
      }
      start = end;
    }
  }

  // ---- the tree ----

  /** Forgets everything about rel and below (after it was removed). */
  private forget(rel: string): void {
    for (const d of this.knownDirs) if (d !== '' && under(d, rel)) this.knownDirs.delete(d);
    for (const d of this.dirTimes.keys()) if (under(d, rel)) this.dirTimes.delete(d);
    for (const d of this.opaque) if (under(d, rel)) this.opaque.delete(d);
    for (const d of this.freshDirs) if (under(d, rel)) this.freshDirs.delete(d);
    for (const [p, list] of this.pendingAt) {
      if (!under(p, rel)) continue;
      for (const i of list) this.pending[i] = null;
      this.pendingAt.delete(p);
    }
  }

  private removeTree(rel: string): void {
    rmSync(this.abs(rel), { recursive: true, force: true });
    this.forget(rel);
  }

  /**
   * Makes dirRel and its ancestors real directories (creating missing ones), refusing symlinks
   * and other non-directories on the way.
   */
  private ensureDir(dirRel: string): void {
    if (this.knownDirs.has(dirRel)) return;
    const parts = dirRel.split('/');
    let cur = '';
    let hidden = false; // overlay: an ancestor in this layer is opaque: lower layers do not show through
    for (const part of parts) {
      cur = joinRel(cur, part);
      if (this.opaque.has(cur)) hidden = true;
      if (this.knownDirs.has(cur)) continue;
      const pend = this.pendingNode(cur);
      if (pend === 'node') this.bad(`parent "${cur}" is not a directory`);
      const abs = this.abs(cur);
      const st = lstatOrNull(abs);
      let wasWhiteout = pend === 'whiteout';
      if (st) {
        if (st.isDirectory()) {
          this.knownDirs.add(cur);
          continue;
        }
        if (st.isSymbolicLink()) this.bad(`parent "${cur}" is a symbolic link`);
        if (this.o.driver === 'overlay' && isWhiteout(st)) {
          unlinkSync(abs);
          wasWhiteout = true;
        } else this.bad(`parent "${cur}" is not a directory`);
      }
      if (wasWhiteout) {
        // This layer deleted the lower entry: the new directory hides what lies below.
        this.dropPendingAt(cur);
        hidden = true;
      }
      this.makeImplicitDir(cur, hidden);
      if (wasWhiteout) this.markOpaque(cur);
    }
  }

  /** A directory no entry described: in overlay it takes the lower directory's metadata. */
  private makeImplicitDir(rel: string, lowerHidden: boolean): void {
    const abs = this.abs(rel);
    if (this.o.driver === 'overlay' && !lowerHidden) {
      const f = lookup(this.o.lowers, rel);
      if (f && !f.st.isDirectory()) this.bad(`parent "${rel}" is ${f.st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'} in a lower layer`);
      if (f) {
        mkdirSync(abs, 0o700);
        lchownSync(abs, f.st.uid, f.st.gid);
        chmodSync(abs, f.st.mode & 0o7777);
        this.dirTimes.set(rel, lstatSync(f.abs, { bigint: true }).mtimeNs);
        this.knownDirs.add(rel);
        this.freshDirs.add(rel);
        this.unpacked.add(rel);
        return;
      }
    }
    mkdirSync(abs, 0o755);
    chmodSync(abs, 0o755);
    this.knownDirs.add(rel);
    this.freshDirs.add(rel);
    this.unpacked.add(rel);
  }

  /**
   * Clears the slot for a new entry at rel: drops queued work there, removes what exists unless
   * both are directories. Returns whether the existing directory is kept, and whether a whiteout
   * was replaced (a directory replacing a whiteout must be opaque in overlay).
   */
  private clearSlot(rel: string, newIsDir: boolean): { keep: boolean; wasWhiteout: boolean } {
    if (this.freshDirs.has(parentOf(rel)) && !this.unpacked.has(rel) && !this.pendingAt.has(rel)) return { keep: false, wasWhiteout: false };
    const abs = this.abs(rel);
    const st = lstatOrNull(abs);
    if (st?.isDirectory() && newIsDir) return { keep: true, wasWhiteout: false };
    let wasWhiteout = this.pendingNode(rel) === 'whiteout';
    this.dropPendingAt(rel);
    if (st) {
      if (st.isDirectory()) this.removeTree(rel);
      else {
        if (this.o.driver === 'overlay' && isWhiteout(st)) wasWhiteout = true;
        unlinkSync(abs);
      }
    }
    return { keep: false, wasWhiteout };
  }

  private markOpaque(rel: string): void {
    if (this.opaque.has(rel)) return;
    this.opaque.add(rel);
    this.push('opaque', rel, { op: 'setxattr', path: this.abs(rel), name: 'trusted.overlay.opaque', value: 'y' });
  }

  private xattrs(rel: string, e: TarEntry): void {
    if (!e.xattrs) return;
    for (const [name, value] of e.xattrs) {
      if (name.startsWith('trusted.overlay.')) this.bad(`xattr "${name}" is reserved for overlayfs`);
      this.push('xattr', rel, { op: 'setxattr', path: this.abs(rel), name, value });
    }
  }

  // ---- entries ----

  private dir(rel: string, e: TarEntry): void {
    this.ensureDir(parentOf(rel));
    const { keep, wasWhiteout } = this.clearSlot(rel, true);
    const abs = this.abs(rel);
    if (!keep) {
      mkdirSync(abs, 0o700);
      this.freshDirs.add(rel);
    }
    lchownSync(abs, e.uid, e.gid);
    chmodSync(abs, e.mode);
    this.knownDirs.add(rel);
    this.unpacked.add(rel);
    this.dirTimes.set(rel, e.mtimeNs);
    if (wasWhiteout) this.markOpaque(rel);
    this.xattrs(rel, e);
  }

  private file(rel: string, e: TarEntry): void {
    this.ensureDir(parentOf(rel));
    this.clearSlot(rel, false);
    const fd = openSync(this.abs(rel), OPEN_NEW, 0o600);
    this.cur = { fd, entry: e, rel };
    this.unpacked.add(rel);
    this.xattrs(rel, e);
    if (e.size === 0) return; // end-entry closes it
  }

  private write(data: Buffer): void {
    const fd = this.cur!.fd;
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  }

  private closeFile(): void {
    const { fd, entry: e } = this.cur!;
    this.cur = undefined;
    try {
      // Owner first: chown clears setuid/setgid bits, chmod puts them back.
      fchownSync(fd, e.uid, e.gid);
      fchmodSync(fd, e.mode);
      const t = Number(e.mtimeNs) / 1e9;
      futimesSync(fd, t, t);
    } finally {
      closeSync(fd);
    }
  }

  private symlink(rel: string, e: TarEntry): void {
    if (e.linkname === '') this.bad('symbolic link with an empty target');
    this.ensureDir(parentOf(rel));
    this.clearSlot(rel, false);
    const abs = this.abs(rel);
    symlinkSync(e.linkname, abs);
    lchownSync(abs, e.uid, e.gid);
    this.unpacked.add(rel);
    this.xattrs(rel, e);
    this.push('times', rel, { op: 'utimes', path: abs, atimeNs: e.mtimeNs, mtimeNs: e.mtimeNs });
  }

  private node(rel: string, e: TarEntry): void {
    this.ensureDir(parentOf(rel));
    this.clearSlot(rel, false);
    const abs = this.abs(rel);
    const fmt = e.type === 'char' ? S_IFCHR : e.type === 'block' ? S_IFBLK : S_IFIFO;
    this.push('node', rel, { op: 'mknod', path: abs, mode: fmt | e.mode, major: e.devmajor, minor: e.devminor, uid: e.uid, gid: e.gid });
    this.unpacked.add(rel);
    this.xattrs(rel, e);
    this.push('times', rel, { op: 'utimes', path: abs, atimeNs: e.mtimeNs, mtimeNs: e.mtimeNs });
  }

  private async hardlink(rel: string, e: TarEntry): Promise<void> {
    const link = e.linkname;
    if (link === '') this.bad('hardlink with an empty target');
    let trel: string;
    try {
      trel = cleanPath(link);
    } catch (err) {
      this.bad(`hardlink target ${JSON.stringify(link)}: ${(err as Error).message}`);
    }
    if (trel === '') this.bad(`hardlink target ${JSON.stringify(link)} is the layer root`);
    if (trel === rel) this.bad('hardlink to itself');
    if (under(trel, rel)) this.bad(`hardlink target ${JSON.stringify(link)} is inside the entry it would replace`);
    const src = await this.linkSource(trel, link);
    this.ensureDir(parentOf(rel));
    this.clearSlot(rel, false);
    linkSync(src, this.abs(rel));
    this.unpacked.add(rel);
  }

  /** The path of a hardlink's target in this directory; in overlay, copied up from a lower layer. */
  private async linkSource(trel: string, link: string): Promise<string> {
    const missing: () => never = () => this.bad(`hardlink target ${JSON.stringify(link)} does not exist`);
    const parts = trel.split('/');
    let cur = '';
    let inThisLayer = true;
    let hidden = false;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = joinRel(cur, parts[i]!);
      if (this.opaque.has(cur)) hidden = true;
      if (this.knownDirs.has(cur)) continue;
      if (this.pendingNode(cur)) missing();
      const st = lstatOrNull(this.abs(cur));
      if (!st) {
        inThisLayer = false;
        break;
      }
      if (st.isSymbolicLink()) this.bad(`hardlink target ${JSON.stringify(link)}: "${cur}" is a symbolic link`);
      if (!st.isDirectory()) missing();
      this.knownDirs.add(cur);
    }
    if (inThisLayer) {
      const pend = this.pendingNode(trel);
      if (pend === 'whiteout') missing();
      if (pend === 'node') await this.flush(); // the device must exist before it can be linked
      const st = lstatOrNull(this.abs(trel));
      if (st) {
        if (st.isDirectory()) this.bad(`hardlink target ${JSON.stringify(link)} is a directory`);
        if (this.o.driver === 'overlay' && isWhiteout(st)) missing();
        return this.abs(trel);
      }
      if (this.opaque.has(trel)) hidden = true;
    }
    if (this.o.driver === 'vfs' || hidden) missing();
    const f = lookup(this.o.lowers, trel);
    if (!f) missing();
    if (f!.st.isDirectory()) this.bad(`hardlink target ${JSON.stringify(link)} is a directory`);
    // Copy up: the lower file becomes part of this layer, then the link joins it.
    this.ensureDir(parentOf(trel));
    this.clearSlot(trel, false);
    copyOne(f!.abs, this.abs(trel), `${this.o.what}: copy up ${JSON.stringify(trel)}`);
    this.unpacked.add(trel);
    return this.abs(trel);
  }

  private whiteout(dirRel: string, name: string): void {
    this.ensureDir(dirRel);
    const rel = joinRel(dirRel, name);
    const abs = this.abs(rel);
    const st = lstatOrNull(abs);
    if (this.o.driver === 'vfs') {
      if (!st) return;
      if (this.unpacked.has(rel)) {
        // Whiteouts hide lower content only: this layer's own directory stays, without the rest.
        if (st.isDirectory()) this.keepOnlyUnpacked(rel);
        return;
      }
      if (st.isDirectory()) this.removeTree(rel);
      else {
        unlinkSync(abs);
        this.dropPendingAt(rel);
      }
      return;
    }
    if (st) {
      // Written by this layer: a directory loses what lies below it, a file hides it already.
      if (st.isDirectory()) this.markOpaque(rel);
      return;
    }
    if (this.pendingNode(rel)) return; // already a whiteout, or a device of this layer
    this.push('whiteout', rel, { op: 'mknod', path: abs, mode: S_IFCHR, major: 0, minor: 0, uid: 0, gid: 0 });
  }

  private opaqueDir(dirRel: string): void {
    this.ensureDir(dirRel);
    if (this.o.driver === 'vfs') {
      this.keepOnlyUnpacked(dirRel);
      return;
    }
    if (dirRel !== '') {
      this.markOpaque(dirRel);
      return;
    }
    // overlayfs ignores opaque on the root of a layer: white out each lower name instead.
    for (const name of childrenOf(rootOf(this.o.lowers))) {
      const st = lstatOrNull(this.abs(name));
      if (st?.isDirectory()) this.markOpaque(name); // this layer's own directory: nothing below it shows
      if (st || this.pendingNode(name)) continue;
      this.push('whiteout', name, { op: 'mknod', path: this.abs(name), mode: S_IFCHR, major: 0, minor: 0, uid: 0, gid: 0 });
    }
  }

  /** vfs: removes everything below dirRel that this layer did not write. */
  private keepOnlyUnpacked(dirRel: string): void {
    for (const name of readdirSync(this.abs(dirRel))) {
      const rel = joinRel(dirRel, name);
      if (!this.unpacked.has(rel)) {
        const st = lstatOrNull(this.abs(rel));
        if (st?.isDirectory()) this.removeTree(rel);
        else if (st) {
          unlinkSync(this.abs(rel));
          this.dropPendingAt(rel);
        }
        continue;
      }
      const st = lstatOrNull(this.abs(rel));
      if (st?.isDirectory()) this.keepOnlyUnpacked(rel);
    }
  }

  async finish(): Promise<void> {
    // Directory times last: creating entries (mknod included) changes them.
    for (const [rel, ns] of this.dirTimes) this.push('times', rel, { op: 'utimes', path: this.abs(rel), atimeNs: ns, mtimeNs: ns });
    this.entryName = '';
    await this.flush();
  }
}

/** The layer's bytes, gunzipped when they start with gzip's magic (zstd: fzstd). */
export async function* decompress(src: Readable, what: string): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer | string | Uint8Array>;
  const readNext = async (): Promise<IteratorResult<Buffer | string | Uint8Array>> => {
    try {
      return await it.next();
    } catch (e) {
      throw internal(`${what}: read the layer: ${reason(e)}`, { cause: e });
    }
  };
  const toBuf = (v: Buffer | string | Uint8Array) => (Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  const gunzip = nodeZlib().createGunzip({ chunkSize: 256 << 10 });
  try {
    while (head.length < 6) {
      const r = await readNext();
      if (r.done) {
        ended = true;
        break;
      }
      head = head.length ? Buffer.concat([head, toBuf(r.value)]) : toBuf(r.value);
    }
    if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) {
      // zstd: decompressed with fzstd (pure JavaScript; Node 20's zlib has no zstd).
      gunzip.destroy();
      // Loaded here: its set-up costs every command that never meets a zstd layer.
      const { Decompress: ZstdDecompress } = await import('fzstd');
      const out: Buffer[] = [];
      const z = new ZstdDecompress((chunk) => out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      const feed = (b: Buffer, final: boolean) => {
        try {
          z.push(b, final);
        } catch (e) {
          throw invalidArgument(`${what}: corrupt zstd stream: ${reason(e)}`, { cause: e });
        }
      };
      feed(head, false);
      while (true) {
        for (const c of out.splice(0)) yield c;
        if (ended) break;
        const r = await readNext();
        if (r.done) break;
        feed(toBuf(r.value), false);
      }
      feed(Buffer.alloc(0), true);
      for (const c of out.splice(0)) yield c;
      return;
    }
    if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw invalidArgument(`${what}: xz-compressed layers are not supported`);
    if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
      gunzip.destroy();
      if (head.length) yield head;
      while (!ended) {
        const r = await readNext();
        if (r.done) break;
        yield toBuf(r.value);
      }
      return;
    }
    let readError: unknown;
    const pump = (async () => {
      try {
        if (!gunzip.write(head)) await once(gunzip, 'drain');
        while (!ended) {
          const r = await it.next();
          if (r.done) break;
          if (!gunzip.write(toBuf(r.value))) await once(gunzip, 'drain');
        }
        gunzip.end();
      } catch (e) {
        readError ??= e;
        gunzip.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    })();
    try {
      for await (const c of gunzip) yield c as Buffer;
    } catch (e) {
      if (readError !== undefined && e === readError) throw internal(`${what}: read the layer: ${reason(e)}`, { cause: e });
      const code = (e as { code?: string }).code;
      if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(reason(e))) throw invalidArgument(`${what}: unexpected end of gzip stream`, { cause: e });
      throw invalidArgument(`${what}: corrupt gzip stream: ${reason(e)}`, { cause: e });
    }
    await pump;
  } finally {
    gunzip.destroy();
    try {
      await it.return?.();
    } catch {
      // the source failed or was destroyed already
    }
  }
}

/**
 * Unpacks a layer tar (plain or gzip) from src into o.dir, hashing the uncompressed bytes as they
 * pass (all of them, also after the end-of-archive marker). Throws a BerthError naming the layer
 * and the entry; the caller removes o.dir.
 */
export async function unpackLayer(src: Readable, o: UnpackOptions): Promise<UnpackResult> {
  const hash = o.verifiedDiffId === undefined ? nodeCrypto().createHash('sha256') : undefined;
  const parser = new TarParser();
  const ap = new Applier(o);
  try {
    for await (const chunk of decompress(src, o.what)) {
      hash?.update(chunk);
      if (parser.ended) continue;
      parser.write(chunk);
      for (let ev = parser.next(); ev !== null; ev = parser.next()) {
        const r = ap.handle(ev);
        if (r) await r;
      }
    }
    parser.finish();
    await ap.finish();
  } catch (e) {
    ap.abort();
    throw wrapError(e, o.what, ap.currentEntry);
  }
  return { diffId: hash ? `sha256:${hash.digest('hex')}` : o.verifiedDiffId!, opaque: [...ap.opaque].sort() };
}

function wrapError(e: unknown, what: string, entry: string): BerthError {
  if (isBerthError(e)) return e;
  const at = entry ? `: entry ${JSON.stringify(entry)}` : '';
  if (e instanceof EntryError) return invalidArgument(`${what}${at}: ${e.message}`);
  if (e instanceof TarFormatError) {
    // The format error names its entry itself where it knows it.
    return invalidArgument(`${what}: ${e.message}`);
  }
  return internal(`${what}${at}: ${reason(e)}`, { cause: e });
}
