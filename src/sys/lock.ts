/**
 * A lock between processes: a file holding the owner's pid and start time, made whole and then
 * linked into place (link fails when the name exists), so no taker ever sees an empty lock file.
 * A lock whose owner is gone (kill -9) is taken over. Breaking a stale lock is itself done under a
 * short second lock (PATH.break), so two breakers cannot both act and none removes a live owner's
 * file. Synchronous: the critical sections it guards are short (read, decide, write a record; run
 * ip/nft).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { errnoCode, unavailable } from '../lib/errors.js';
import { createFileExclusive } from './fs.js';
import { procStat, processAlive } from './proc.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

let ownLine: string | undefined;
const myLine = () => (ownLine ??= `${process.pid} ${procStat(process.pid)?.startTime ?? ''}\n`);

/** Creates PATH holding this process's line, or returns false when it exists. */
function tryTake(path: string): boolean {
  return createFileExclusive(path, myLine(), { mode: 0o600 });
}

/** Whether the owner named in a lock file is alive; 'gone' when there is no file. */
function owner(path: string): 'alive' | 'dead' | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return errnoCode(e) === 'ENOENT' ? 'gone' : 'alive';
  }
  const [pid, start] = text.trim().split(' ');
  return processAlive(Number(pid), start) ? 'alive' : 'dead';
}

/** Removes PATH when its owner is gone. */
function breakStale(path: string): void {
  if (owner(path) !== 'dead') return;
  const brk = `${path}.break`;
  if (!tryTake(brk)) {
    // Another process is breaking it. One that died right there (kill -9 in a window of a few
    // system calls) leaves its file: clear that.
    if (owner(brk) === 'dead') rmSync(brk, { force: true });
    return;
  }
  try {
    // Under the break lock nobody else removes PATH and a dead owner cannot release it, so a
    // file judged dead here is still the one removed below. If the stale file was already
    // broken and PATH taken again, this reads the new live owner and leaves it.
    if (owner(path) === 'dead') rmSync(path, { force: true });
  } finally {
    rmSync(brk, { force: true });
  }
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

/**
 * Shared holds against one exclusive holder, for work that may run side by side but not beside a
 * sweep (image imports and commits against garbage collection). A shared hold is a file named for
 * its process in PATH.shared/, made under the lock PATH (held only for that instant); release()
 * removes it. Holds of processes that are gone (kill -9) do not count.
 */
export function holdShared(path: string): () => void {
  const dir = `${path}.shared`;
  const file = `${dir}/${process.pid}-${Math.random().toString(36).slice(2)}`;
  withLock(path, () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, myLine(), { mode: 0o600 });
  });
  return () => rmSync(file, { force: true });
}

/**
 * Runs `fn` holding PATH while no shared hold is alive: new shared holds wait meanwhile. When
 * live shared holds do not end within `waitMs`, `fn` does not run and undefined is returned.
 */
export function withExclusive<T>(path: string, fn: () => T, waitMs = 10_000): T | undefined {
  const dir = `${path}.shared`;
  return withLock(path, () => {
    const deadline = Date.now() + waitMs;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      let live = 0;
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        /* none yet */
      }
      for (const n of names) {
        if (owner(`${dir}/${n}`) === 'alive') live++;
        else rmSync(`${dir}/${n}`, { force: true });
      }
      if (live === 0) return fn();
      if (Date.now() > deadline) return undefined;
      sleep(wait);
    }
  }, waitMs + 60_000);
}
