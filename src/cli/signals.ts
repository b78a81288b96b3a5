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
    // Real-time signals: SIGRTMIN (34) to SIGRTMAX (64), as RTMIN+N or RTMAX-N.
    const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
    if (rt) {
      const off = Number(rt[3] ?? 0);
      const n = rt[1] === 'MIN' ? (rt[2] === '-' ? NaN : 34 + off) : rt[2] === '+' ? NaN : 64 - off;
      if (n >= 34 && n <= 64) return n;
    }
    throw invalidArgument(`invalid signal ${JSON.stringify(s)}`);
  }
  return n;
}
