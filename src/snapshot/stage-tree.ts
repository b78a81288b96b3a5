/**
 * A build stage's tree (or an image's, mounted for COPY --from) as the builder reads and writes it:
 * a rooted session (sys/rooted.ts) behind the few operations COPY and RUN's mount points need.
 * A stage is the container's: its RUN steps may have planted links anywhere in it. Here every path
 * is the stage's own, resolved inside its root (a link in a path leads where it would for a
 * process chrooted there), and an entry that is created, replaced or changed is never followed.
 * What to copy and with which owner and mode is the builder's decision.
 */
import { basename, dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, reason } from '../lib/errors.js';
import { cleanRootedPath, openRooted, RootedError, withRooted, type RootedFs, type RootedStat } from '../sys/rooted.js';
import { copyTree } from './rooted-tar.js';

export type StageFileType = RootedStat['type'];

export interface StageStat {
  type: StageFileType;
  /** Permission bits with setuid/setgid/sticky. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: bigint;
  mtimeNs: bigint;
}

/** What an entry placed by COPY gets. */
export interface PlaceMeta {
  mode: number;
  uid: number;
  gid: number;
  /** Times to keep (the source's); none: left as creating it set them. */
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

const statOf = (s: RootedStat): StageStat => ({ type: s.type, mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, atimeNs: s.atimeNs, mtimeNs: s.mtimeNs });
const isErrno = (e: unknown, ...codes: string[]) => e instanceof RootedError && codes.includes(e.code);

export class StageTree {
  private constructor(private readonly fs: RootedFs) {}

  /** A session on the stage mounted at `dir` (a host directory); close() it when done. */
  static async open(dir: string): Promise<StageTree> {
    return new StageTree(await openRooted(dir));
  }

  close(): Promise<void> {
    return this.fs.close();
  }

  /** The entry (`follow`: a link followed inside the stage), or undefined where there is none. */
  async stat(path: string, follow = false): Promise<StageStat | undefined> {
    try {
      return statOf(follow ? await this.fs.stat(path) : await this.fs.lstat(path));
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
      throw e;
    }
  }

  async isDir(path: string): Promise<boolean> {
    return (await this.stat(path, true))?.type === 'dir';
  }

  /** A directory's names, sorted (`follow`: the directory itself may be a link, followed inside the stage). */
  async names(path: string, follow = false): Promise<string[]> {
    return (await this.fs.readdir(path, { follow })).map((e) => e.name).sort();
  }

  readlink(path: string): Promise<string> {
    return this.fs.readlink(path);
  }

  /** A file's contents, a link followed inside the stage (/etc/passwd); undefined where there is none. */
  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await this.fs.readFile(path, { follow: true });
    } catch (e) {
      if (isErrno(e, 'ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR', 'EINVAL')) return undefined;
      throw e;
    }
  }

  /** A regular file's data (`follow`: the file itself may be a link, followed inside the stage). */
  async openStream(path: string, follow = false): Promise<{ stat: StageStat; stream: Readable }> {
    const h = await this.fs.openRead(path, { follow });
    return { stat: statOf(h.stat), stream: this.fs.readStream(h) };
  }

  /**
   * mkdir -p: each missing directory made with `meta`'s mode and owner; an existing directory (or
   * a link to one, inside the stage) is kept as it is. Throws where a component is no directory.
   */
  async mkdirp(path: string, meta: { mode: number; uid: number; gid: number }, depth = 0): Promise<void> {
    const parts = cleanRootedPath(path).split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      const st = await this.stat(p, true);
      if (st?.type === 'dir') continue;
      const own = st ? undefined : await this.stat(p);
      if (own?.type === 'symlink' && depth < 40) {
        // A link to where nothing is yet: the directory is made where it leads, inside the stage
        // (as Docker does).
        const target = await this.fs.readlink(p);
        await this.mkdirp(target.startsWith('/') ? target : `${parts.slice(0, i - 1).join('/')}/${target}`, meta, depth + 1);
        if ((await this.stat(p, true))?.type === 'dir') continue;
      }
      if (st || own) throw new BerthError('InvalidArgument', `/${p} exists in the image and is not a directory`);
      await this.fs.mkdir(p, meta.mode);
      await this.fs.chmod(p, meta.mode);
      await this.fs.lchown(p, meta.uid, meta.gid);
    }
  }

  /** A directory at `target` (replacing a non-directory there), then its mode and owner. */
  async placeDir(target: string, meta: PlaceMeta): Promise<void> {
    const cur = await this.stat(target);
    if (cur && cur.type !== 'dir') await this.fs.unlink(target);
    if (!cur || cur.type !== 'dir') await this.fs.mkdir(target, 0o700);
    await this.fs.chmod(target, meta.mode);
    await this.fs.lchown(target, meta.uid, meta.gid);
  }

  /** Makes room for a non-directory at `target`: what is there is removed, a directory refused. */
  async remove(target: string, what: string): Promise<void> {
    const cur = await this.stat(target);
    if (cur?.type === 'dir') throw new BerthError('InvalidArgument', `cannot copy ${what} onto the directory /${cleanRootedPath(target)}`);
    if (cur) await this.fs.unlink(target);
  }

  /** A symlink at `target` holding `linkTarget` as it is, owned as given, with the given times. */
  async placeSymlink(target: string, linkTarget: string, meta: PlaceMeta, what: string): Promise<void> {
    await this.remove(target, what);
    await this.fs.symlink(linkTarget, target);
    await this.fs.lchown(target, meta.uid, meta.gid);
    if (meta.mtimeNs !== undefined) await this.fs.utimes(target, meta.atimeNs ?? meta.mtimeNs, meta.mtimeNs);
  }

  /**
   * A new regular file at `target` (what is there removed first; never written through) with
   * these contents; owner, mode and times set on the file that was created.
   */
  async placeFile(target: string, data: Buffer | AsyncIterable<Buffer | Uint8Array | string>, meta: PlaceMeta, what: string): Promise<void> {
    await this.remove(target, what);
    const h = await this.fs.create(target, 0o600);
    try {
      if (Buffer.isBuffer(data)) await this.fs.write(h, data);
      else {
        const inflight: Promise<void>[] = [];
        for await (const chunk of data) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          const w = this.fs.writeQueued(h, b);
          w.catch(() => {});
          inflight.push(w);
          if (inflight.length >= 8) await inflight.shift();
        }
        await Promise.all(inflight);
      }
      await this.fs.fsetmeta(h, { uid: meta.uid, gid: meta.gid });
      await this.fs.fsetmeta(h, { mode: meta.mode, atimeNs: meta.atimeNs, mtimeNs: meta.mtimeNs });
    } finally {
      await this.fs.closeHandle(h);
    }
  }

  /** The components of `path` the stage lacks, top first ('/a', '/a/b'); a link in it followed inside the stage. */
  async missing(path: string): Promise<string[]> {
    const parts = cleanRootedPath(path).split('/').filter(Boolean);
    const out: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (out.length || !(await this.stat(p, true))) out.push(`/${p}`);
    }
    return out;
  }

  /** Removes an empty directory or an empty file at `path` (a mount point made for a RUN); anything else is left. */
  async removeIfEmpty(path: string): Promise<void> {
    const st = await this.stat(path);
    try {
      if (st?.type === 'dir') await this.fs.rmdir(path);
      else if (st?.type === 'file' && st.size === 0) await this.fs.unlink(path);
    } catch (e) {
      if (!isErrno(e, 'ENOTEMPTY', 'EEXIST', 'ENOENT', 'EBUSY')) throw e;
    }
  }

  /** The stage's root directory, for messages. */
  get root(): string {
    return this.fs.root;
  }
}

/** Runs `fn` with a session on the stage mounted at `dir`, closed afterwards; rooted failures say what was being done. */
export async function withStageTree<T>(dir: string, what: string, fn: (t: StageTree) => Promise<T>): Promise<T> {
  const t = await StageTree.open(dir).catch((e: unknown) => {
    throw new BerthError(e instanceof BerthError ? e.kind : 'Internal', `${what}: ${reason(e)}`, { cause: e });
  });
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/**
 * `cp -a` of a host file or directory to the new entry `destDir/name`, through rooted sessions
 * and berth's own tar code (never the host's cp): links copied as links, owners, modes, times and
 * xattrs kept. For the copy a step may change (RUN --mount=type=bind,rw).
 */
export async function copyPreserving(src: string, destDir: string, name: string, what: string): Promise<void> {
  const from = resolve(src);
  try {
    await withRooted(dirname(from), (host) => withRooted(destDir, (to) => copyTree(host, basename(from), to, '/', { name, xattrs: true, what })));
  } catch (e) {
    throw new BerthError(e instanceof BerthError ? e.kind : 'Internal', `${what}: ${reason(e)}`, { cause: e });
  }
}
