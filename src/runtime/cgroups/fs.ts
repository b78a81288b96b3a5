/**
 * The few file operations the cgroup manager performs, behind one small interface so that unit
 * tests can run the same code against a temporary directory that imitates the kernel (files that
 * appear on mkdir, directories that rmdir removes with their files).
 *
 * The interface throws raw Node errors (with `code` = errno name); `at*` helpers below turn them
 * into BerthErrors whose message names the file, the value and the reason.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { BerthError, errnoCode, type ErrorKind } from '../../lib/errors.js';

export interface CgroupFs {
  /** The whole content of a file. */
  read(file: string): string;
  /** Writes `value` with one write(2) on an fd opened O_WRONLY|O_TRUNC (never creates the file). */
  write(file: string, value: string): void;
  exists(path: string): boolean;
  /** Creates one directory level; throws EEXIST if it is there. */
  mkdir(dir: string): void;
  /** Removes one (cgroup) directory. */
  rmdir(dir: string): void;
  /** Names of the subdirectories of `dir` (child cgroups). */
  subdirs(dir: string): string[];
  /** Names of all entries of `dir`. */
  list(dir: string): string[];
}

/** The real file system. */
export const nodeCgroupFs: CgroupFs = {
  read: (file) => fs.readFileSync(file, 'utf8'),
  write(file, value) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    try {
      fs.writeSync(fd, value);
    } finally {
      fs.closeSync(fd);
    }
  },
  exists: (p) => fs.existsSync(p),
  mkdir: (dir) => fs.mkdirSync(dir),
  rmdir: (dir) => fs.rmdirSync(dir),
  subdirs: (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name),
  list: (dir) => fs.readdirSync(dir),
};

const REASONS: Record<string, string> = {
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  ENOENT: 'no such file or directory',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  ENOSPC: 'no space left on device',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  EEXIST: 'file exists',
  ENOTEMPTY: 'directory not empty',
  ERANGE: 'numerical result out of range',
  ESRCH: 'no such process',
  EROFS: 'read-only file system',
  ENODEV: 'no such device',
  EAGAIN: 'resource temporarily unavailable',
  E2BIG: 'argument list too long',
};

/** The errno-style reason of a Node system error ("device or resource busy"). */
export function errnoReason(e: unknown): string {
  const code = errnoCode(e);
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  return e instanceof Error ? e.message : String(e);
}

function kindFor(e: unknown): ErrorKind {
  switch (errnoCode(e)) {
    case 'ENOENT':
      return 'NotFound';
    case 'EINVAL':
    case 'ERANGE':
      return 'InvalidArgument';
    case 'EBUSY':
    case 'EPERM':
    case 'EACCES':
    case 'ENOSPC':
    case 'EROFS':
    case 'EOPNOTSUPP':
    case 'ENOTSUP':
    case 'ENODEV':
      return 'FailedPrecondition';
    default:
      return 'Internal';
  }
}

/** A BerthError "<what>: <errno reason>" whose cause is the original error (errnoCode(err.cause) works). */
export function fsError(what: string, e: unknown): BerthError {
  if (e instanceof BerthError) return new BerthError(e.kind, `${what}: ${e.message}`, { cause: e.cause ?? e });
  return new BerthError(kindFor(e), `${what}: ${errnoReason(e)}`, { cause: e });
}

/** The errno code behind an error thrown by the helpers here (or a raw Node error). */
export function causeCode(e: unknown): string | undefined {
  return errnoCode(e) ?? (e instanceof Error ? errnoCode(e.cause) : undefined);
}

/**
 * Writes `value` to `dir/file`; on failure throws `[<jsonPath>: ]write <file> "<value>": <reason>`.
 */
export function writeAt(cfs: CgroupFs, dir: string, file: string, value: string, jsonPath?: string): void {
  const full = nodePath.join(dir, file);
  try {
    cfs.write(full, value);
  } catch (e) {
    const what = `write ${full} ${JSON.stringify(value)}`;
    throw fsError(jsonPath ? `${jsonPath}: ${what}` : what, e);
  }
}

/** Reads `dir/file`; on failure throws `read <file>: <reason>`. */
export function readAt(cfs: CgroupFs, dir: string, file: string): string {
  const full = nodePath.join(dir, file);
  try {
    return cfs.read(full);
  } catch (e) {
    throw fsError(`read ${full}`, e);
  }
}

/** Reads `dir/file`, or undefined when it cannot be read (missing file, controller not enabled). */
export function tryReadAt(cfs: CgroupFs, dir: string, file: string): string | undefined {
  try {
    return cfs.read(nodePath.join(dir, file));
  } catch {
    return undefined;
  }
}

export function hasFile(cfs: CgroupFs, dir: string, file: string): boolean {
  return cfs.exists(nodePath.join(dir, file));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread for `ms` milliseconds (the manager is synchronous by design). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
