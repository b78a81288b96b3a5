/**
 * A lock between processes: a file made with O_EXCL holding the owner's pid and start time. A lock
 * whose owner is gone (kill -9) is taken over. Synchronous: the critical sections it guards are
 * short (read, decide, write a record; run ip/nft).
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, unavailable } from '../lib/errors.js';
import { procStat, processAlive } from './proc.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

function tryTake(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    if (errnoCode(e) === 'ENOENT') {
      mkdirSync(dirname(path), { recursive: true });
      return tryTake(path);
    }
    throw e;
  }
  writeSync(fd, `${process.pid} ${procStat(process.pid)?.startTime ?? ''}\n`);
  closeSync(fd);
  return true;
}

/** True when the lock file's owner is gone; then the file is moved away (one taker wins). */
function breakStale(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const [pid, start] = text.trim().split(' ');
  if (text.endsWith('\n') && processAlive(Number(pid), start)) return;
  // An owner that has not written its line yet is alive: give it a moment before judging.
  if (!text.endsWith('\n')) {
    sleep(20);
    try {
      if (readFileSync(path, 'utf8') !== text) return;
    } catch {
      return;
    }
  }
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return;
  }
  // Someone else may have broken it and taken it between our read and the rename: give it back.
  let moved = '';
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    /* gone */
  }
  if (moved !== text) {
    try {
      renameSync(aside, path);
    } catch {
      /* ignore */
    }
    return;
  }
  rmSync(aside, { force: true });
}

export function withLock<T>(path: string, fn: () => T, timeoutMs = 60_000): T {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  while (!tryTake(path)) {
    breakStale(path);
    if (Date.now() > deadline) throw unavailable(`timed out waiting for the lock ${path}`);
    sleep(wait);
    wait = Math.min(wait * 2, 20);
  }
  try {
    return fn();
  } finally {
    rmSync(path, { force: true });
  }
}
