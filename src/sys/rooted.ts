/**
 * Rooted file access: a tree a container controls (its rootfs, a build stage, a volume) touched
 * from the host without following any symlink out of it. One berth-helper session per root
 * (OP_ROOTED, native/rooted.c) resolves every path with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), or chrooted into the root on a kernel without openat2: a symlink or `..` in a path resolves inside the root, as it would for a
 * process chrooted there, and the last component of an entry that is created, removed or changed
 * is never followed. Nothing here touches the root's paths with the host's own `fs` calls.
 *
 * Paths are the container's: `/etc/passwd` and `etc/passwd` name the same entry. They are
 * cleaned lexically first (`a/../b` is `b`), which can only keep them further inside.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, type ErrorKind } from '../lib/errors.js';
import { encodePlan, encodeRecord, Rq, type Field, type RqName } from './helper-ops.js';
import { errnoInfo } from './helper.js';
import { helperPath } from './paths.js';

export type RootedFileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface RootedStat {
  type: RootedFileType;
  /** Permission bits with setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  /** The device a char or block device node stands for. */
  rdevMajor: number;
  rdevMinor: number;
  /** The device and inode the entry lives on (hard links share them). */
  dev: bigint;
  ino: bigint;
  nlink: number;
}

export interface RootedDirEntry {
  name: string;
  /** The type readdir reported; undefined where the file system does not say (stat it). */
  type: RootedFileType | undefined;
}

/** A request of a rooted session failed; `code` is the errno's name (ENOENT, ELOOP, ...). */
export class RootedError extends BerthError {
  constructor(
    kind: ErrorKind,
    message: string,
    readonly code: string,
    readonly errno: number,
    readonly path: string,
  ) {
    super(kind, message);
  }
}

const S_IFMT = 0o170000;
const TYPES: Record<number, RootedFileType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o020000: 'char',
  0o060000: 'block',
  0o010000: 'fifo',
  0o140000: 'socket',
};
/** d_type values (DT_*). */
const DTYPES: Record<number, RootedFileType> = { 1: 'fifo', 2: 'char', 4: 'dir', 6: 'block', 8: 'file', 10: 'symlink', 12: 'socket' };
const TYPE_BITS: Record<'file' | 'char' | 'block' | 'fifo' | 'socket', number> = {
  file: 0o100000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

const STAT_SIZE = 80;
/** The most bytes one read request asks for (the helper's own limit is 1 MiB). */
const READ_CHUNK = 1 << 20;
/** The most bytes one write request carries (the helper accepts 16 MiB records). */
const WRITE_CHUNK = 4 << 20;

function decodeStat(b: Buffer, off = 0): RootedStat {
  const u = (i: number) => b.readBigUInt64LE(off + 8 * i);
  const mode = Number(u(0));
  const rdev = u(6);
  return {
    type: TYPES[mode & S_IFMT] ?? 'file',
    mode: mode & 0o7777,
    uid: Number(u(1)),
    gid: Number(u(2)),
    size: Number(u(3)),
    atimeNs: u(4),
    mtimeNs: u(5),
    rdevMajor: Number(((rdev >> 32n) & 0xfffff000n) | ((rdev >> 8n) & 0xfffn)),
    rdevMinor: Number(((rdev >> 12n) & 0xffffff00n) | (rdev & 0xffn)),
    dev: u(7),
    ino: u(8),
    nlink: Number(u(9)),
  };
}

function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** A path inside the root, cleaned: '' is the root itself, else no leading or trailing '/'. */
export function cleanRootedPath(p: string): string {
  return posix.normalize(`/${p}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** [parent, name] of a cleaned path; the root itself is ['.', '.']. */
function split(p: string): [string, string] {
  const c = cleanRootedPath(p);
  if (c === '') return ['.', '.'];
  const i = c.lastIndexOf('/');
  return i < 0 ? ['.', c] : [c.slice(0, i), c.slice(i + 1)];
}

const asArg = (p: string) => cleanRootedPath(p) || '.';

function kindOf(code: string): ErrorKind {
  switch (code) {
    case 'ENOENT':
      return 'NotFound';
    case 'EEXIST':
      return 'AlreadyExists';
    case 'EINVAL':
    case 'ENOTDIR':
    case 'EISDIR':
    case 'ELOOP':
      return 'InvalidArgument';
    case 'ENOSYS':
      return 'Unavailable';
    default:
      return 'Internal';
  }
}

interface Pending {
  resolve(b: Buffer): void;
  reject(e: Error): void;
  what: string;
  path: string;
}

/** An open file of a session (read or write). */
export interface RootedHandle {
  readonly id: number;
  readonly path: string;
}

export interface RootedReadHandle extends RootedHandle {
  /** The file as it was opened (a regular file: anything else is refused). */
  readonly stat: RootedStat;
}

/** One berth-helper session serving one root. Requests may overlap; they run in order. */
export class RootedFs {
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private ended: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    /** The host directory this session is rooted at (for messages only: never opened again). */
    readonly root: string,
    private readonly child: ChildProcess,
    private readonly req: Socket,
    res: Socket,
  ) {
    res.on('data', (chunk: Buffer) => this.onData(chunk));
    res.on('error', () => {});
    req.on('error', () => {});
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (b: Buffer) => stderr.push(b));
    child.once('error', (e) => this.endAll(new BerthError('Unavailable', `start berth-helper ${JSON.stringify(helperPath())}: ${e.message}`)));
    child.once('close', (code, signal) => {
      const detail = Buffer.concat(stderr).toString().trim();
      this.endAll(new BerthError('Internal', `rooted file access to ${JSON.stringify(root)}: berth-helper ended (${signal ?? `exit status ${code}`})${detail ? `: ${detail}` : ''}`));
    });
  }

  /**
   * Opens a session on `root` (a host directory, opened once, by the helper). Paths resolve with
   * openat2 where the kernel has it (5.6+); without it (or with BERTH_ROOTED_RESOLVE=chroot, which
   * the tests use to run the same checks on this fallback) the session chroots into the root.
   */
  static async open(root: string): Promise<RootedFs> {
    if (process.env.BERTH_ROOTED_RESOLVE === 'chroot') return RootedFs.openMode(root, 1);
    try {
      return await RootedFs.openMode(root, 0);
    } catch (e) {
      if (e instanceof RootedError && e.code === 'ENOSYS') return RootedFs.openMode(root, 1);
      throw e;
    }
  }

  private static async openMode(root: string, mode: 0 | 1): Promise<RootedFs> {
    const child = spawn(helperPath(), ['3', '4'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: {} });
    const fs = new RootedFs(root, child, child.stdio[3] as Socket, child.stdio[4] as Socket);
    const opened = new Promise<Buffer>((resolve, reject) => fs.pending.push({ resolve, reject, what: 'open the root', path: '' }));
    fs.req.write(encodePlan([{ op: 'FS_MODE', fields: [], what: 'file system operations' }, { op: 'ROOTED', fields: [root, mode], what: `open ${JSON.stringify(root)}` }]));
    try {
      await opened;
    } catch (e) {
      await fs.close();
      throw e;
    }
    return fs;
  }

  /** The serving helper's pid (its /proc/PID/root shows how it resolves). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.buf.length < 8) return;
      // A plan the helper rejected before serving is answered by a text line.
      if (this.buf.subarray(0, 6).toString('latin1') === 'error ') {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        const m = /^error (-?\d+) (\d+) ?(.*)$/.exec(this.buf.subarray(0, nl).toString());
        this.buf = this.buf.subarray(nl + 1);
        const [name, msg] = errnoInfo(Number(m?.[2] ?? 5));
        this.endAll(new RootedError(kindOf(name), `rooted file access to ${JSON.stringify(this.root)}: ${msg}${m?.[3] ? ` (${m[3]})` : ''}`, name, Number(m?.[2] ?? 5), ''));
        continue;
      }
      const err = this.buf.readUInt32LE(0);
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) return;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      const p = this.pending.shift();
      if (!p) continue;
      if (err === 0) p.resolve(payload);
      else {
        const [name, msg] = errnoInfo(err);
        const where = p.path === '' && p.what === 'open the root' ? JSON.stringify(this.root) : `${JSON.stringify(`/${cleanRootedPath(p.path)}`)} in ${JSON.stringify(this.root)}`;
        p.reject(new RootedError(kindOf(name), `${p.what} ${where}: ${msg}`, name, err, p.path));
      }
    }
  }

  private endAll(e: Error): void {
    this.ended ??= e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  private call(code: RqName, what: string, path: string, fields: readonly Field[]): Promise<Buffer> {
    if (this.ended) return Promise.reject(this.ended);
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.push({ resolve, reject, what, path });
      this.req.write(encodeRecord(Rq[code], fields));
    });
  }

  /** The entry itself (a symlink is not followed). */
  async lstat(path: string): Promise<RootedStat> {
    return decodeStat(await this.call('STAT', 'lstat', path, [0, asArg(path)]));
  }

  /** The entry, a symlink followed (inside the root). */
  async stat(path: string): Promise<RootedStat> {
    return decodeStat(await this.call('STAT', 'stat', path, [1, asArg(path)]));
  }

  /** lstat, or undefined where nothing is there. */
  async lstatIfExists(path: string): Promise<RootedStat | undefined> {
    try {
      return await this.lstat(path);
    } catch (e) {
      if (e instanceof RootedError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** A symlink's target, as stored (not resolved). */
  async readlink(path: string): Promise<string> {
    return (await this.call('READLINK', 'readlink', path, [asArg(path)])).toString();
  }

  /** A directory's entries (without . and ..), in the order the file system gives. */
  async readdir(path: string, opts: { follow?: boolean } = {}): Promise<RootedDirEntry[]> {
    const b = await this.call('READDIR', 'read the directory', path, [opts.follow ? 1 : 0, asArg(path)]);
    const out: RootedDirEntry[] = [];
    let off = 0;
    while (off < b.length) {
      const t = b[off]!;
      const nul = b.indexOf(0, off + 1);
      if (nul < 0) break;
      out.push({ name: b.toString('utf8', off + 1, nul), type: DTYPES[t] });
      off = nul + 1;
    }
    return out;
  }

  /** Opens a regular file for reading (anything else is refused: EISDIR, ELOOP, EINVAL). */
  async openRead(path: string, opts: { follow?: boolean } = {}): Promise<RootedReadHandle> {
    const b = await this.call('OPEN', 'open', path, [opts.follow ? 1 : 0, asArg(path)]);
    return { id: Number(b.readBigUInt64LE(0)), path, stat: decodeStat(b, 8) };
  }

  /** Up to `max` bytes of an open file (fewer at its end, none after it). */
  read(h: RootedHandle, max = READ_CHUNK): Promise<Buffer> {
    return this.call('READ', 'read', h.path, [h.id, Math.min(max, READ_CHUNK)]);
  }

  /** Creates a file that must not exist yet (O_CREAT | O_EXCL | O_NOFOLLOW), for writing. */
  async create(path: string, mode = 0o644): Promise<RootedHandle> {
    const [parent, name] = split(path);
    const b = await this.call('CREATE', 'create', path, [mode & 0o7777, parent, name]);
    return { id: Number(b.readBigUInt64LE(0)), path };
  }

  async write(h: RootedHandle, data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; off += WRITE_CHUNK) await this.call('WRITE', 'write', h.path, [h.id, data.subarray(off, off + WRITE_CHUNK)]);
  }

  /** Sends a write without waiting for it (its failure rejects the promise; later ones still run). */
  writeQueued(h: RootedHandle, data: Buffer): Promise<void> {
    const parts: Promise<Buffer>[] = [];
    for (let off = 0; off < data.length; off += WRITE_CHUNK) parts.push(this.call('WRITE', 'write', h.path, [h.id, data.subarray(off, off + WRITE_CHUNK)]));
    return Promise.all(parts).then(() => undefined);
  }

  /**
   * Owner, mode and times of a file this session created, on its open handle (so they reach the
   * file that was created, whatever its path names meanwhile): chown first (it clears setuid
   * bits), then chmod, then the times; each only where given.
   */
  async fsetmeta(h: RootedHandle, m: { uid?: number; gid?: number; mode?: number; atimeNs?: bigint; mtimeNs?: bigint }): Promise<void> {
    const chown = m.uid !== undefined && m.gid !== undefined;
    const times = m.mtimeNs !== undefined;
    const what = (chown ? 1 : 0) | (m.mode !== undefined ? 2 : 0) | (times ? 4 : 0);
    if (what === 0) return;
    await this.call('FSETMETA', 'set owner, mode and times of', h.path, [h.id, what, m.uid ?? 0, m.gid ?? 0, (m.mode ?? 0) & 0o7777, m.atimeNs ?? m.mtimeNs ?? 0n, m.mtimeNs ?? 0n]);
  }

  /** An xattr on a file this session created, on its open handle. */
  async fsetxattr(h: RootedHandle, name: string, value: Buffer): Promise<void> {
    await this.call('FSETXATTR', `setxattr ${name} on`, h.path, [h.id, name, value]);
  }

  async closeHandle(h: RootedHandle): Promise<void> {
    await this.call('CLOSE', 'close', h.path, [h.id]);
  }

  /** A file's contents (a symlink followed inside the root only with `follow`). */
  async readFile(path: string, opts: { follow?: boolean } = {}): Promise<Buffer> {
    const h = await this.openRead(path, opts);
    const parts: Buffer[] = [];
    try {
      for (;;) {
        const b = await this.read(h);
        if (b.length === 0) break;
        parts.push(b);
      }
    } finally {
      await this.closeHandle(h);
    }
    return Buffer.concat(parts);
  }

  /** A stream of an open file's data; the handle is closed at its end (or when it is destroyed). */
  readStream(h: RootedHandle): Readable {
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await this.closeHandle(h);
    };
    const stream = new Readable({
      read: () => {
        this.read(h).then(
          async (b) => {
            if (b.length === 0) {
              await close();
              stream.push(null);
            } else stream.push(b);
          },
          (e: Error) => stream.destroy(e),
        );
      },
      destroy: (err, cb) => {
        close().then(
          () => cb(err),
          () => cb(err),
        );
      },
    });
    return stream;
  }

  /** Creates a new file with these contents (it must not exist yet). */
  async writeFile(path: string, data: Buffer | string | AsyncIterable<Buffer>, mode = 0o644): Promise<void> {
    const h = await this.create(path, mode);
    try {
      if (typeof data === 'string' || Buffer.isBuffer(data)) await this.write(h, Buffer.from(data));
      else for await (const chunk of data) await this.write(h, chunk);
    } finally {
      await this.closeHandle(h);
    }
  }

  async mkdir(path: string, mode = 0o755): Promise<void> {
    const [parent, name] = split(path);
    await this.call('MKDIR', 'mkdir', path, [mode & 0o7777, parent, name]);
  }

  /** mkdir -p: each missing directory created (an existing one, or a symlink to one inside the root, is kept). */
  async mkdirAll(path: string, mode = 0o755): Promise<void> {
    const parts = cleanRootedPath(path).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      try {
        await this.mkdir(p, mode);
      } catch (e) {
        if (!(e instanceof RootedError && e.code === 'EEXIST')) throw e;
        if ((await this.stat(p)).type !== 'dir') throw new RootedError('InvalidArgument', `mkdir ${JSON.stringify(`/${p}`)} in ${JSON.stringify(this.root)}: not a directory`, 'ENOTDIR', 20, p);
      }
    }
  }

  /** A symlink at `path` holding `target` as is. */
  async symlink(target: string, path: string): Promise<void> {
    const [parent, name] = split(path);
    await this.call('SYMLINK', 'symlink', path, [target, parent, name]);
  }

  /** A hard link at `path` to `existing` (both inside the root; `existing` is not followed). */
  async link(existing: string, path: string): Promise<void> {
    const [parent, name] = split(path);
    await this.call('LINK', 'link', path, [asArg(existing), parent, name]);
  }

  async mknod(path: string, type: 'char' | 'block' | 'fifo' | 'socket' | 'file', mode: number, major = 0, minor = 0): Promise<void> {
    const [parent, name] = split(path);
    await this.call('MKNOD', 'mknod', path, [TYPE_BITS[type] | (mode & 0o7777), makedev(major, minor), parent, name]);
  }

  /** chown of the entry itself (a symlink's own owner). */
  async lchown(path: string, uid: number, gid: number): Promise<void> {
    const [parent, name] = split(path);
    await this.call('LCHOWN', 'chown', path, [uid, gid, parent, name]);
  }

  /** chmod of an entry that is not a symlink (ELOOP on one: it is never followed). */
  async chmod(path: string, mode: number): Promise<void> {
    await this.call('CHMOD', 'chmod', path, [mode & 0o7777, asArg(path)]);
  }

  /** Access and modification times of the entry itself. */
  async utimes(path: string, atimeNs: bigint, mtimeNs: bigint): Promise<void> {
    const [parent, name] = split(path);
    await this.call('UTIMES', 'set times of', path, [atimeNs, mtimeNs, parent, name]);
  }

  async unlink(path: string): Promise<void> {
    const [parent, name] = split(path);
    await this.call('UNLINK', 'unlink', path, [parent, name]);
  }

  async rmdir(path: string): Promise<void> {
    const [parent, name] = split(path);
    await this.call('RMDIR', 'rmdir', path, [parent, name]);
  }

  /** rm -rf of the entry (a symlink is removed, never followed); nothing there is fine. */
  async removeAll(path: string): Promise<void> {
    const st = await this.lstatIfExists(path);
    if (!st) return;
    if (st.type !== 'dir') return this.unlink(path);
    const base = cleanRootedPath(path);
    for (const e of await this.readdir(base)) await this.removeAll(`${base}/${e.name}`);
    await this.rmdir(base);
  }

  /** An xattr on an entry that is not a symlink. */
  async setxattr(path: string, name: string, value: Buffer): Promise<void> {
    await this.call('SETXATTR', `setxattr ${name} on`, path, [asArg(path), name, value]);
  }

  async listxattr(path: string): Promise<string[]> {
    const b = await this.call('LISTXATTR', 'list xattrs of', path, [asArg(path)]);
    return b.toString('latin1').split('\0').filter(Boolean).map((n) => Buffer.from(n, 'latin1').toString());
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    return Buffer.from(await this.call('GETXATTR', `getxattr ${name} of`, path, [asArg(path), name]));
  }

  /** Ends the session (requests still queued are answered first). */
  async close(): Promise<void> {
    this.req.end();
    await this.exited;
  }
}

/** A rooted session on `root` (a host directory); close() it when done. */
export function openRooted(root: string): Promise<RootedFs> {
  return RootedFs.open(root);
}

/** Runs `fn` with a rooted session on `root`, closed afterwards. */
export async function withRooted<T>(root: string, fn: (fs: RootedFs) => Promise<T>): Promise<T> {
  const fs = await openRooted(root);
  try {
    return await fn(fs);
  } finally {
    await fs.close();
  }
}
