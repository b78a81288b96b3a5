/** `logs` (also `container logs`): a detached container's log records, as they were written. */
import type { Command } from 'commander';
import { invalidArgument } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError } from './exit.js';
import { runDefined } from './program.js';

export const logsCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description("show a container's output")
    .argument('<container>')
    .option('-f, --follow', 'follow the output')
    .option('-n, --tail <n>', 'number of lines from the end ("all")', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'since a time (RFC 3339, or a duration like 10m)')
    .action(async (name: string, o) => {
      const { containers } = await engine(g);
      const tail = o.tail === 'all' ? undefined : Number(o.tail);
      if (tail !== undefined && !(tail >= 0)) throw invalidArgument(`invalid value for --tail: ${JSON.stringify(o.tail)}`);
      let since: number | undefined;
      if (o.since) {
        const d = /^(\d+)(s|m|h)$/.exec(o.since);
        since = d ? Date.now() - Number(d[1]) * { s: 1e3, m: 6e4, h: 36e5 }[d[2] as 's' | 'm' | 'h'] : Date.parse(o.since);
        if (!Number.isFinite(since)) throw cliError('InvalidArgument', `invalid value for "since": failed to parse value as time or duration: ${JSON.stringify(o.since)}`);
      }
      for await (const r of containers.logs(name, { follow: o.follow === true, tail, since })) {
        const line = (o.timestamps ? `${r.time} ` : '') + r.log;
        (r.stream === 'stderr' ? process.stderr : process.stdout).write(line);
      }
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { logs: logsCommand });
}
