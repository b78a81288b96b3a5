/** `logs` (also `container logs`): a detached container's log records, as they were written. */
import type { Command } from 'commander';
import { formatRfc3339Nano, parseDockerTime, parseRfc3339Ns } from '../lib/duration.js';
import { invalidArgument, reason } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { runDefined } from './program.js';

/** --since/--until as the docker CLI reads them (a duration, an RFC 3339 time or date, a unix time). */
function timeFlag(v: string | undefined, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  try {
    return parseDockerTime(v);
  } catch (e) {
    throw cliError('InvalidArgument', `invalid value for ${JSON.stringify(name)}: ${reason(e)}`);
  }
}

export const logsCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("show a container's output")
    .argument('<container>')
    .option('-f, --follow', 'follow the output')
    .option('-n, --tail <n>', 'number of lines from the end ("all")', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--details', 'show extra details given to logs')
    .option('--since <time>', 'since a time (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <time>', 'before a time (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .action(async (name: string, o) => {
      const { containers } = await engine(g);
      // As Docker's daemon: anything but a whole number (all, -1, 1.5) is every line.
      const tail = /^\d+$/.test(o.tail) ? Number(o.tail) : undefined;
      const since = timeFlag(o.since, 'since');
      const until = o.until === '0' ? undefined : timeFlag(o.until, 'until');
      for await (const r of containers.logs(name, { follow: o.follow === true, tail, since, until })) {
        // --details: the log's extra attributes (berth keeps none), then a space.
        const line = (o.timestamps ? `${formatRfc3339Nano(parseRfc3339Ns(r.time, false) ?? 0n, true)} ` : '') + (o.details ? ' ' : '') + r.log;
        (r.stream === 'stderr' ? process.stderr : process.stdout).write(line);
      }
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { logs: logsCommand });
}
