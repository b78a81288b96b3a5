import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../lib/errors.js';

let counter = 0;

/** Writes a file so that readers see either the old or the whole new content: temp file + rename. */
export function writeFileAtomic(path: string, data: string | Buffer, opts: { mode?: number; fsync?: boolean } = {}): void {
  const tmp = `${path}.tmp-${process.pid}-${counter++}`;
  const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (opts.fsync) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Creates a file only if there is none by that name: written whole aside (a dot name beside it,
 * flushed to disk first with `fsync`), then linked into place (link fails when the name exists),
 * so at most one of several creators wins and nobody ever reads it half-made. False when the name
 * is taken. Makes its directory.
 */
export function createFileExclusive(path: string, data: string | Buffer, opts: { mode?: number; fsync?: boolean } = {}): boolean {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
  const write = () => {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      if (opts.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  try {
    try {
      write();
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e;
      mkdirSync(dirname(path), { recursive: true });
      write();
    }
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The JSON records (NAME.json) of a directory; none when it does not exist; one being written or removed is skipped. */
export function readJsonRecords<T>(dir: string): T[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: T[] = [];
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as T);
    } catch {
      /* being written or removed */
    }
  }
  return out;
}
