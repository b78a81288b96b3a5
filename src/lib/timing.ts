/**
 * Opt-in timing marks (BERTH_TIMING=1): code at any layer records a label and the time since the
 * process started; the CLI prints them to stderr at exit. Off, a mark costs one comparison.
 */
const on = typeof process !== 'undefined' && process.env.BERTH_TIMING === '1';
const marks: [string, number][] = [];

export function mark(label: string): void {
  if (on) marks.push([label, performance.now()]);
}

/** The marks recorded so far, as "  12.3 ms  label" lines (empty when timing is off). */
export function timingReport(): string {
  return marks.map(([l, t]) => `${t.toFixed(1).padStart(7)} ms  ${l}\n`).join('');
}
