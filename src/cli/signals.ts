import { invalidArgument } from '../lib/errors.js';
import { signalNumber } from '../lib/signal.js';

/** Parses "KILL", "SIGKILL", "kill" or "9" into a signal number (berth-runtime's `kill`). */
export function parseSignal(s: string): number {
  const n = signalNumber(s);
  if (n === undefined) throw invalidArgument(`invalid signal ${JSON.stringify(s)}`);
  return n;
}
