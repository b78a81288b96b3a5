/** A container's file system: `diff`, `commit`, `export` and `cp` in both directions. */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument, notFound } from '../../lib/errors.js';
import { secureJoin } from '../../sys/securejoin.js';
import type { ContainerContext } from './context.js';

/** `diff`: what the container changed, like docker diff. */
export async function diff(c: ContainerContext, nameOrId: string): Promise<{ kind: string; path: string }[]> {
  // The mount points berth made for /etc/hostname, /etc/hosts and /etc/resolv.conf are not
  // the container's changes (Docker leaves them out too).
  const own = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  return (await c.images.snapshots.changes(c.store.find(nameOrId).Id)).filter((x) => !(own.has(x.path) && x.kind !== 'D'));
}

/** `commit`: the container's changes as a new image. */
export async function commit(c: ContainerContext, nameOrId: string, o: { ref?: string; changes?: string[]; message?: string; author?: string } = {}): Promise<string> {
  const rec = c.store.find(nameOrId);
  const base = c.images.resolve(rec.ImageID);
  const img = await c.images.commitSnapshot(rec.Id, base, { ...o, createdBy: `berth commit ${rec.Name}` });
  return img.id;
}

/** `export`: the container's file system as a tar stream. */
export function exportFs(c: ContainerContext, nameOrId: string): Promise<Readable> {
  return c.images.exportSnapshot(c.store.find(nameOrId).Id);
}

/**
 * `cp` out of a container: `path` in its file system to a host path, or (dest undefined) as a
 * tar stream written to `out`.
 */
export async function copyOut(c: ContainerContext, nameOrId: string, path: string, dest: string | undefined, out?: NodeJS.WritableStream): Promise<void> {
  const rec = c.store.find(nameOrId);
  await c.images.withSnapshot(rec.Id, false, async (dir) => {
    const src = secureJoin(dir, path);
    if (!existsSync(src)) throw notFound(`Could not find the file ${path} in container ${rec.Name}`);
    if (dest === undefined) {
      const r = spawnSync('tar', ['-c', '-C', dirname(src), basename(src) || '.'], { maxBuffer: 1 << 30 });
      if (r.status !== 0) throw invalidArgument(`cp ${path}: ${String(r.stderr).trim()}`);
      out!.write(r.stdout);
      return;
    }
    const to = existsSync(dest) && statSync(dest).isDirectory() ? join(dest, basename(src)) : dest;
    const r = spawnSync('cp', ['-a', src, to]);
    if (r.status !== 0) throw invalidArgument(`cp ${path} ${dest}: ${String(r.stderr).trim()}`);
  });
}

/** `cp` into a container: a host path, or (src undefined) a tar stream from `input`, to `path`. */
export async function copyIn(c: ContainerContext, nameOrId: string, src: string | undefined, path: string, input?: Buffer): Promise<void> {
  const rec = c.store.find(nameOrId);
  if (src !== undefined && !existsSync(src)) throw notFound(`cp: no such file or directory: ${src}`);
  await c.images.withSnapshot(rec.Id, true, async (dir) => {
    const target = secureJoin(dir, path);
    if (src === undefined) {
      if (!existsSync(target) || !statSync(target).isDirectory()) throw invalidArgument(`cp: the destination ${path} must be a directory when copying a tar stream`);
      const r = spawnSync('tar', ['-x', '-C', target, '--no-same-owner'], { input });
      if (r.status !== 0) throw invalidArgument(`cp - ${path}: ${String(r.stderr).trim()}`);
      return;
    }
    const to = existsSync(target) && statSync(target).isDirectory() ? join(target, basename(src)) : target;
    if (!existsSync(dirname(to))) throw notFound(`cp: the directory of ${path} does not exist in container ${rec.Name}`);
    const r = spawnSync('cp', ['-a', src, to]);
    if (r.status !== 0) throw invalidArgument(`cp ${src} ${path}: ${String(r.stderr).trim()}`);
  });
}
