/** A container's file system: `diff`, `commit`, `export` and `cp` in both directions. */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, posix, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, notFound } from '../../lib/errors.js';
import { copyTree, extractInto, packFrom } from '../../snapshot/index.js';
import { withRooted } from '../../sys/rooted.js';
import { applyChanges, type ContainerConfig } from '../../image/index.js';
import { tidyConfig } from './config-merge.js';
import type { ContainerContext } from './context.js';

/** `diff`: what the container changed, like docker diff. */
export async function diff(c: ContainerContext, nameOrId: string): Promise<{ kind: string; path: string }[]> {
  // The mount points berth made for /etc/hostname, /etc/hosts and /etc/resolv.conf are not
  // the container's changes (Docker leaves them out too).
  const own = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  return (await c.images.snapshots.changes(c.store.find(nameOrId).Id)).filter((x) => !(own.has(x.path) && x.kind !== 'D'));
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
  const own = rec.Config ?? { ...((c.images.config(base).config ?? {}) as ContainerConfig), Cmd: rec.Command };
  const { expandVariables } = await import('../../builder/index.js');
  const config = tidyConfig(applyChanges(own, o.changes ?? [], (text, lookup) => expandVariables(text, lookup)));
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
    const img = await c.images.commitSnapshot(rec.Id, base, { ref: o.ref, config, message: o.message, author: o.author, createdBy: (own.Cmd ?? []).join(' ') });
    return img.id;
  } finally {
    if (paused) c.runtime.resume(rec.Id);
  }
}

/** `export`: the container's file system as a tar stream. */
export function exportFs(c: ContainerContext, nameOrId: string): Promise<Readable> {
  return c.images.exportSnapshot(c.store.find(nameOrId).Id);
}

/**
 * `cp` out of a container: `path` in its file system to a host path, or (dest undefined) as a
 * tar stream written to `out`. Read through a rooted session: a symlink the container planted in
 * the path resolves inside its root, and links in the copied tree are copied as links. A host
 * destination is opened as a root too, so no name or link from the container lands outside it.
 */
export async function copyOut(c: ContainerContext, nameOrId: string, path: string, dest: string | undefined, out?: NodeJS.WritableStream): Promise<void> {
  const rec = c.store.find(nameOrId);
  await c.images.withSnapshot(rec.Id, false, (dir) =>
    withRooted(dir, async (fs) => {
      if (!(await fs.lstatIfExists(path))) throw notFound(`Could not find the file ${path} in container ${rec.Name}`);
      const name = basename(path) || '.';
      if (dest === undefined) {
        await pipeline(packFrom(fs, path, { name: name === '.' ? '' : name, what: `cp ${rec.Name}:${path}` }), out as NodeJS.WritableStream);
        return;
      }
      const into = existsSync(dest) && statSync(dest).isDirectory();
      const hostDir = into ? dest : dirname(dest);
      if (!existsSync(hostDir)) throw notFound(`cp: no such directory: ${hostDir}`);
      await withRooted(hostDir, (host) => copyTree(fs, path, host, '/', { name: into ? name : basename(dest), what: `cp ${rec.Name}:${path} ${dest}` }));
    }),
  );
}

/**
 * `cp` into a container: a host path, or (src undefined) a tar stream from `input`, to `path`.
 * Written through a rooted session: nothing the container planted (a symlink in the path or in
 * the way of an entry, swapped in meanwhile) leads a write out of its root.
 */
export async function copyIn(c: ContainerContext, nameOrId: string, src: string | undefined, path: string, input?: Buffer): Promise<void> {
  const rec = c.store.find(nameOrId);
  if (src !== undefined && !existsSync(src)) throw notFound(`cp: no such file or directory: ${src}`);
  await c.images.withSnapshot(rec.Id, true, (dir) =>
    withRooted(dir, async (fs) => {
      const target = await fs.lstatIfExists(path).then(async (st) => (st?.type === 'symlink' ? fs.stat(path).catch(() => undefined) : st));
      if (src === undefined) {
        if (target?.type !== 'dir') throw invalidArgument(`cp: the destination ${path} must be a directory when copying a tar stream`);
        // As `tar --no-same-owner`: the entries belong to root.
        await extractInto(fs, path, [input ?? Buffer.alloc(0)], { owner: { uid: 0, gid: 0 }, what: `cp - ${rec.Name}:${path}` });
        return;
      }
      const into = target?.type === 'dir';
      const destDir = into ? path : posix.dirname(path);
      const parent = await fs.stat(destDir).catch(() => undefined);
      if (parent?.type !== 'dir') throw notFound(`cp: the directory of ${path} does not exist in container ${rec.Name}`);
      // The host source is the caller's own: its owners and modes kept (as cp -a).
      await withRooted(dirname(resolve(src)), (host) => copyTree(host, basename(resolve(src)), fs, destDir, { name: into ? basename(resolve(src)) : posix.basename(path), what: `cp ${src} ${rec.Name}:${path}` }));
    }),
  );
}
