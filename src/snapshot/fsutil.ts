/**
 * File system pieces the snapshotter needs: lstat without throwing, disk usage, whole-tree copies
 * (cp), the helper's fs mode run synchronously, our mounts in /proc/self/mountinfo, and GNU tar as
 * the reader of extended attributes (Node has no getxattr; tar is Essential on Debian).
 */
import { randomBytes } from '../lib/builtins.js';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errnoCode, internal, unavailable } from '../lib/errors.js';
import { fsOpToPlan, runFsPlanSync, type FsOp } from '../sys/fsops.js';

export function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p, { throwIfNoEntry: false }) ?? null;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}

/** An overlay whiteout: a character device 0/0. */
export const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

export function randomId(n = 12): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

/** Bytes of the files in a tree (their lengths, each inode once; directories count nothing): Docker's SizeRw. */
export function contentSize(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  const visit = (p: string, st: Stats) => {
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) {
        const c = `${p}/${name}`;
        const cst = lstatOrNull(c);
        if (cst) visit(c, cst);
      }
      return;
    }
    if (seen.has(st.ino)) return;
    seen.add(st.ino);
    total += st.size;
  };
  const st = lstatOrNull(dir);
  if (st) visit(dir, st);
  return total;
}

/** Bytes a tree takes on disk (allocated blocks, each inode once), like `du -s --bytes` of blocks. */
export function diskUsage(dir: string): number {
  const seen = new Set<number>();
  let total = 0;
  const visit = (p: string, st: Stats) => {
    if (st.nlink > 1 && !st.isDirectory()) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    total += st.blocks * 512;
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) {
        const c = `${p}/${name}`;
        const cst = lstatOrNull(c);
        if (cst) visit(c, cst);
      }
    }
  };
  const st = lstatOrNull(dir);
  if (st) visit(dir, st);
  return total;
}

/**
 * Copies the contents of `src` into the existing directory `dst` with everything a layer holds:
 * modes, owners, times (symlinks too), hardlinks within the tree, devices, fifos and xattrs.
 */
export function copyTree(src: string, dst: string, what: string): void {
  const r = spawnSync('cp', ['-dR', '--preserve=mode,ownership,timestamps,links,xattr', '--reflink=auto', '--', `${src}/.`, `${dst}/`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
  if (r.error) throw unavailable(`${what}: run cp: ${r.error.message}`);
  if (r.status !== 0) throw internal(`${what}: cp: ${r.stderr.toString().trim() || `exit status ${r.status}`}`);
}

/**
 * Shifts the owners of a tree in place to a user namespace's view: id N (below size) becomes
 * base+N. Each inode once (hard links); set-id bits, which chown clears, are put back.
 */
export function shiftTree(root: string, s: { uid: number; gid: number; size: number }): void {
  const seen = new Set<bigint>();
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    const st = lstatSync(p, { bigint: true });
    if (seen.has(st.ino)) continue;
    seen.add(st.ino);
    const uid = Number(st.uid);
    const gid = Number(st.gid);
    lchownSync(p, uid < s.size ? s.uid + uid : uid, gid < s.size ? s.gid + gid : gid);
    const mode = Number(st.mode);
    if (!st.isSymbolicLink() && mode & 0o6000) chmodSync(p, mode & 0o7777);
    if (st.isDirectory()) for (const n of readdirSync(p)) stack.push(join(p, n));
  }
}

/** Copies one non-directory (file, symlink, device) with its metadata and xattrs to a new path. */
export function copyOne(src: string, dst: string, what: string): void {
  const r = spawnSync('cp', ['-d', '--preserve=mode,ownership,timestamps,xattr', '--reflink=auto', '--', src, dst], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  });
  if (r.error) throw unavailable(`${what}: run cp: ${r.error.message}`);
  if (r.status !== 0) throw internal(`${what}: cp: ${r.stderr.toString().trim() || `exit status ${r.status}`}`);
}

/**
 * runFsOps, synchronously (for the constructor's probe and for remove()).
 */
export function runFsOpsSync(ops: readonly FsOp[]): void {
  if (ops.length === 0) return;
  runFsPlanSync(ops.map(fsOpToPlan));
}

export interface MountEntry {
  mountPoint: string;
  fstype: string;
  superOptions: string;
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** This process's mount table. */
export function mountTable(): MountEntry[] {
  const out: MountEntry[] = [];
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0 || f.length < dash + 4) continue;
    out.push({ mountPoint: unescapeMount(f[4]!), fstype: f[dash + 1]!, superOptions: f[dash + 3] ?? '' });
  }
  return out;
}

/**
 * Runs GNU tar to archive `names` (relative to `dir`, no recursion, in this order) with all
 * xattrs, as PAX, and returns its output stream. The caller reads the stream to its end and
 * awaits `done`, which rejects on a tar failure (exit status 1, "file changed as we read it",
 * is accepted: a live container may be writing).
 */
export function tarNames(dir: string, names: readonly string[], xattrInclude: string, what: string): { stream: Readable; done: Promise<void> } {
  const child = spawn(
    'tar',
    [
      '-C',
      dir,
      '-c',
      '-f',
      '-',
      '-b',
      '512',
      '--format=pax',
      '--xattrs',
      `--xattrs-include=${xattrInclude}`,
      '--numeric-owner',
      '--no-recursion',
      '--null',
      '--verbatim-files-from',
      '-T',
      '-',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  child.stdin.on('error', () => {});
  child.stdin.end(names.length ? Buffer.from(names.join('\0') + '\0') : Buffer.alloc(0));
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(unavailable(`${what}: run tar: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (code === 0 || code === 1) resolve();
      else reject(internal(`${what}: tar: ${stderr.trim() || (sig ? `killed by ${sig}` : `exit status ${code}`)}`));
    });
  });
  done.catch(() => {});
  return { stream: child.stdout, done };
}
