import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';

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
