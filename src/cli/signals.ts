import { constants } from 'node:os';
import { invalidArgument } from '../lib/errors.js';

/** Parses "KILL", "SIGKILL", "kill" or "9" into a signal number. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw invalidArgument(`invalid signal ${JSON.stringify(s)}`);
    return n;
  }
  const up = s.toUpperCase();
  const name = (up.startsWith('SIG') ? up : 'SIG' + up) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) {
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
    throw invalidArgument(`invalid signal ${JSON.stringify(s)}`);
  }
  return n;
}
