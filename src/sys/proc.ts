import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { errnoCode } from '../lib/errors.js';

/** Field 22 of /proc/PID/stat (start time in clock ticks), and the state letter; undefined if gone. */
export function procStat(pid: number): { startTime: string; state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  return { state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

/** True when PID is alive (not a zombie) and, if given, started at `startTime`. */
export function processAlive(pid: number, startTime?: string): boolean {
  if (!(pid > 0)) return false;
  const st = procStat(pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X') return false;
  if (startTime !== undefined && startTime !== '' && st.startTime !== startTime) return false;
  return true;
}

/** Inode of a namespace of a process (/proc/PID/ns/TYPE), or undefined. */
export function nsInode(pid: number | 'self', type: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return undefined;
  }
}

/** dev:ino of the executable of a process, or undefined when gone. */
export function exeId(pid: number): string | undefined {
  try {
    const st = statSync(`/proc/${pid}/exe`);
    return `${st.dev}:${st.ino}`;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ESRCH') return undefined;
    return 'unknown';
  }
}
