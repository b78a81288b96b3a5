/**
 * How a process ended, as berth-helper tells it: one line, the same in its result stream and in
 * a monitored container's status file (native/supervise.c `status_line`):
 * `exit CODE TIME` or `signal SIG CORE TIME` (CORE 1 when it dumped core; TIME RFC 3339, UTC).
 */
export interface HelperExit {
  /** Exit code, or 128+signal when killed by a signal (the shell's convention). */
  code: number;
  signal?: number;
  coreDumped?: boolean;
  /** When it ended (absent in a line without the time). */
  finishedAt?: string;
}

/**
 * The end told by `line`; undefined when it is not such a line. Also reads the lines of helpers
 * before the one format (`signal SIG CORE`, a monitor's `signal SIG TIME`), which containers
 * started by them still leave in their status files.
 */
export function parseExitStatus(line: string): HelperExit | undefined {
  const exit = /^exit (\d+)(?: (\d{4}-\S+))?$/.exec(line);
  if (exit) return withTime({ code: Number(exit[1]) }, exit[2]);
  const sig = /^signal (\d+)(?: ([01]))?(?: (\d{4}-\S+))?$/.exec(line);
  if (!sig) return undefined;
  const signal = Number(sig[1]);
  return withTime({ code: 128 + signal, signal, coreDumped: sig[2] === '1' }, sig[3]);
}

function withTime(x: HelperExit, time: string | undefined): HelperExit {
  if (time !== undefined) x.finishedAt = time;
  return x;
}
