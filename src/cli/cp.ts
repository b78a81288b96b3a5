/** `cp`: files between a container and the host, or a tar stream on stdin/stdout (`-`). */
import type { Command } from 'commander';
import { BerthError } from '../lib/errors.js';
import { cliError } from './exit.js';
import { engine, type GlobalOptions } from './context.js';
import { runDefined } from './program.js';

const cpCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('copy files between a container and the host (- for a tar stream)')
    .argument('<src>', 'CONTAINER:PATH, a host path, or -')
    .argument('<dest>', 'CONTAINER:PATH, a host path, or -')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'suppress progress output during copy')
    .action(async (src: string, dest: string, flags: { archive?: boolean; followLink?: boolean }) => {
      const o = { archive: flags.archive === true, followLink: flags.followLink === true };
      const { containers } = await engine(g);
      const ctr = (s: string) => (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*:/.exec(s) && !s.startsWith('/') ? ([s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)] as const) : undefined);
      const from = ctr(src);
      const to = ctr(dest);
      if (from && to) throw cliError('InvalidArgument', 'copying between containers is not supported');
      if (!from && !to) throw cliError('InvalidArgument', 'must specify at least one container source');
      try {
        if (from) await containers.copyOut(from[0], from[1] || '/', dest === '-' ? undefined : dest, process.stdout, o);
        else {
          let input: Buffer | undefined;
          if (src === '-') {
            const chunks: Buffer[] = [];
            for await (const c of process.stdin) chunks.push(c as Buffer);
            input = Buffer.concat(chunks);
          }
          await containers.copyIn(to![0], src === '-' ? undefined : src, to![1] || '/', input, o);
        }
      } catch (e) {
        // The docker CLI's words for a container path that is not there (the engine's are dockerd's).
        // (To `-` the docker CLI streams the daemon's answer as it is; to a path it looks first.)
        const missing = e instanceof BerthError && e.kind === 'NotFound' && !(from && dest === '-') ? /^Could not find the file (.*) in container /.exec(e.message) : null;
        if (missing) throw cliError('NotFound', `Error: No such container:path: ${(from ?? to)![0]}:${missing[1]}`);
        throw e;
      }
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { cp: cpCommand });
}
