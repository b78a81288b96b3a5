/** A container's file system: `diff`, `commit`, `export` and `cp` in both directions. */
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, notFound } from '../../lib/errors.js';
import { copyTree, extractInto, packFrom } from '../../snapshot/index.js';
import { withRooted, type RootedFs } from '../../sys/rooted.js';
import { resolveUserIn } from '../container-spec.js';
import { applyChanges, type ContainerConfig } from '../../image/index.js';
import { dockerConfigShape } from './config-merge.js';
import type { ContainerContext } from './context.js';

/** `diff`: what the container changed, like docker diff. */
export async function diff(c: ContainerContext, nameOrId: string): Promise<{ kind: string; path: string }[]> {
  // The mount points berth made for /etc/hostname, /etc/hosts and /etc/resolv.conf are not
  // the container's changes (Docker leaves them out too).
  const own = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  return c.images.snapshots.changesHiding(c.store.find(nameOrId).Id, own);
}

export interface CommitOptions {
  ref?: string;
  changes?: string[];
  message?: string;
  author?: string;
  /** Pause a running container while its layer is read (docker commit's default). */
  pause?: boolean;
}

/**
 * `commit`: the container's changes as a new image whose config is the container's own (its
 * command, environment, labels, user, working directory, exposed ports: dockerd's), with the
 * --change instructions applied over it; its history row is created by the container's command.
 */
export async function commit(c: ContainerContext, nameOrId: string, o: CommitOptions = {}): Promise<string> {
  const rec = c.store.find(nameOrId);
  const base = c.images.resolve(rec.ImageID);
  // The container's config as create kept it (the request's merged over the image's).
  const own = rec.Config ? dockerConfigShape(rec.Config as unknown as ContainerConfig) : dockerConfigShape({ ...((c.images.config(base).config ?? {}) as ContainerConfig), Cmd: rec.Command, Hostname: rec.Id.slice(0, 12), Image: rec.Image });
  const { expandVariables } = await import('../../builder/index.js');
  const config = dockerConfigShape(applyChanges(own, o.changes ?? [], (text, lookup) => expandVariables(text, lookup)));
  let paused = false;
  if (o.pause !== false && rec.State.Status === 'running') {
    try {
      c.runtime.pause(rec.Id);
      paused = true;
    } catch {
      /* paused already (or just ended): read as it is */
    }
  }
  try {
    const img = await c.images.commitSnapshot(rec.Id, base, { ref: o.ref, config, container: { id: rec.Id, config: own }, message: o.message, author: o.author, createdBy: (own.Cmd ?? []).join(' ') });
    return img.id;
  } finally {
    if (paused) c.runtime.resume(rec.Id);
  }
}

/** `export`: the container's file system as a tar stream. */
export function exportFs(c: ContainerContext, nameOrId: string): Promise<Readable> {
  return c.images.exportSnapshot(c.store.find(nameOrId).Id);
}

/** `cp` options: -L (follow a symlink given as the source) and -a (archive: the container user's ids). */
export interface CopyOptions {
  followLink?: boolean;
  archive?: boolean;
}

/** A path ending in "/." names a directory's contents (docker cp's rule), "/" a directory. */
const contentsOf = (p: string) => p === '.' || p.endsWith('/.');

/**
 * `cp` out of a container: `path` in its file system to a host path, or (dest undefined) as a
 * tar stream written to `out`. Read through a rooted session: a symlink the container planted in
 * the path resolves inside its root (and -L follows the last one inside it too), and links in
 * the copied tree are copied as links. A host destination is opened as a root too, so no name or
 * link from the container lands outside it; what lands there belongs to the caller, as the
 * docker CLI writes it (the tar stream keeps the container's owners).
 */
export async function copyOut(c: ContainerContext, nameOrId: string, path: string, dest: string | undefined, out?: NodeJS.WritableStream, o: CopyOptions = {}): Promise<void> {
  const rec = c.store.find(nameOrId);
  await c.images.withSnapshot(rec.Id, false, (dir) =>
    withRooted(dir, async (fs) => {
      const first = await fs.lstatIfExists(path);
      if (!first) throw notFound(`Could not find the file ${path} in container ${rec.Name}`);
      // -L: the link's target (resolved inside the root), archived under the link's name.
      const from = o.followLink && first.type === 'symlink' ? await followInRoot(fs, path) : path;
      const st = from === path ? first : await fs.lstatIfExists(from);
      if (!st) throw notFound(`Could not find the file ${from} in container ${rec.Name}`);
      const isDir = st.type === 'dir';
      if (path.endsWith('/') && !isDir) throw invalidArgument(`lstat ${path}: not a directory`);
      const contents = contentsOf(path) && isDir;
      const name = contents ? '.' : posix.basename(path) || '.';
      const pack = { what: `cp ${rec.Name}:${path}` };
      if (dest === undefined) {
        // The stream names a followed link by its target's name (dockerd's archive); a host copy renames it.
        const top = from !== path ? posix.basename(from) : name === '.' && !contents ? '' : name;
        await pipeline(packFrom(fs, from, { ...pack, name: top }), out as NodeJS.WritableStream);
        return;
      }
      const destIsDir = existsSync(dest) && statSync(dest).isDirectory();
      if (existsSync(dest) && !destIsDir && isDir) throw invalidArgument('cannot copy directory');
      if (!destIsDir && (dest.endsWith('/') || contentsOf(dest)) && !isDir) throw notFound('no such directory');
      // Into an existing directory: under the source's name (its contents, for "/."); else as the destination's name.
      const into = destIsDir && !contents;
      const hostDir = into || (destIsDir && contents) ? dest : dirname(resolve(dest));
      if (!existsSync(hostDir)) throw notFound(`invalid output path: directory ${JSON.stringify(hostDir)} does not exist`);
      const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
      await withRooted(hostDir, (host) => copyTree(fs, from, host, '/', { ...pack, owner, name: into ? name : destIsDir ? '.' : basename(resolve(dest)), what: `cp ${rec.Name}:${path} ${dest}` }));
    }),
  );
}

/**
 * `cp` into a container: a host path, or (src undefined) a tar stream from `input`, to `path`.
 * Written through a rooted session: nothing the container planted (a symlink in the path or in
 * the way of an entry, swapped in meanwhile) leads a write out of its root. The entries keep
 * their owners (as dockerd extracts them); with -a they belong to the container's user.
 */
export async function copyIn(c: ContainerContext, nameOrId: string, src: string | undefined, path: string, input?: Buffer, o: CopyOptions = {}): Promise<void> {
  const rec = c.store.find(nameOrId);
  if (src !== undefined && !existsSync(src) && !isLink(src)) throw notFound(`lstat ${resolve(src)}: no such file or directory`);
  await c.images.withSnapshot(rec.Id, true, (dir) =>
    withRooted(dir, async (fs) => {
      const user = rec.Config?.User ?? '';
      const owner = o.archive && user ? resolveUserIn(dir, user) : undefined;
      const target = await fs.lstatIfExists(path).then(async (st) => (st?.type === 'symlink' ? fs.stat(path).catch(() => undefined) : st));
      if (src === undefined) {
        if (target?.type !== 'dir') throw invalidArgument(`cp: the destination ${path} must be a directory when copying a tar stream`);
        await extractInto(fs, path, [input ?? Buffer.alloc(0)], { ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}), what: `cp - ${rec.Name}:${path}` });
        return;
      }
      // -L: the host link's target, copied under the link's name.
      const given = resolve(src);
      const abs = o.followLink && isLink(given) ? realpathSync(given) : given;
      const srcIsDir = existsSync(abs) && statSync(abs).isDirectory() && !isLink(abs);
      if (target && target.type !== 'dir' && srcIsDir) throw invalidArgument('cannot copy directory');
      // A destination written as a directory ("dir/") must be one.
      if (path.endsWith('/') && target?.type !== 'dir') throw notFound('no such directory');
      const contents = contentsOf(src) && srcIsDir;
      const into = target?.type === 'dir';
      const destDir = into ? path : posix.dirname(path);
      const parent = await fs.stat(destDir).catch(() => undefined);
      if (parent?.type !== 'dir') throw notFound(`Could not find the file ${destDir} in container ${rec.Name}`);
      const name = contents ? (into ? '.' : posix.basename(path)) : into ? basename(given) : posix.basename(path);
      await withRooted(dirname(abs), (host) =>
        copyTree(host, basename(abs), fs, destDir, { name, ...(owner ? { owner: { uid: owner.uid, gid: owner.gid } } : {}), what: `cp ${src} ${rec.Name}:${path}` }),
      );
    }),
  );
}

/** The path a symlink at `path` leads to, resolved inside the root (at most 40 links, as the kernel). */
async function followInRoot(fs: RootedFs, path: string): Promise<string> {
  let p = posix.resolve('/', path);
  for (let i = 0; i < 40; i++) {
    const st = await fs.lstatIfExists(p);
    if (st?.type !== 'symlink') return p;
    const target = await fs.readlink(p);
    p = posix.resolve(posix.dirname(p), target);
  }
  throw invalidArgument(`cp: ${path}: too many levels of symbolic links`);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
