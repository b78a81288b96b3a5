/** Signal names and numbers as Docker reads them (`kill -s`, `stop -s`, `--stop-signal`, STOPSIGNAL). */
import { constants } from 'node:os';
import { invalidArgument } from './errors.js';

/** "KILL", "SIGKILL", "kill", "9", "RTMIN+3" → its number (1..64); undefined when it is none. */
export function signalNumber(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n >= 1 && n <= 64 ? n : undefined;
  }
  const up = s.toUpperCase();
  const name = up.startsWith('SIG') ? up : 'SIG' + up;
  const n = (constants.signals as Record<string, number | undefined>)[name];
  if (n !== undefined) return n;
  // Real-time signals: SIGRTMIN (34) to SIGRTMAX (64), as RTMIN+N or RTMAX-N.
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (!rt) return undefined;
  const off = Number(rt[3] ?? 0);
  const r = rt[1] === 'MIN' ? (rt[2] === '-' ? NaN : 34 + off) : rt[2] === '+' ? NaN : 64 - off;
  return r >= 34 && r <= 64 ? r : undefined;
}

/** A signal as the Docker daemon takes it (a number or a name): its number, or Docker's "Invalid signal: X". */
export function dockerSignal(s: string | number): number {
  const n = typeof s === 'number' ? (Number.isInteger(s) && s >= 1 && s <= 64 ? s : undefined) : signalNumber(s);
  if (n === undefined) throw invalidArgument(`Invalid signal: ${s}`);
  return n;
}
