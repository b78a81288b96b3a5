/** `push` with Docker's flags and output: `ID: Preparing`, `ID: Pushed` / `Layer already exists` / `Mounted from …`, `TAG: digest: … size: …`. */
import type { Command } from 'commander';
import { engine, type GlobalOptions } from './context.js';
import { runDefined } from './program.js';
import { namesNoTag, progressPrinter } from './pull.js';

const push = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-a, --all-tags', 'push all tags of the repository')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--disable-content-trust', 'skip image signing (berth does not sign)')
    .action(async (name: string, o: { allTags?: boolean; quiet?: boolean }) => {
      const e = await engine(g);
      const say = o.quiet ? undefined : progressPrinter(process.stdout);
      if (!o.allTags && namesNoTag(name)) say?.({ status: 'Using default tag: latest' });
      const reg = await e.registry();
      const res = await reg.push({ ref: name, all: o.allTags === true, onMessage: say });
      if (o.quiet) for (const r of res) process.stdout.write(`${r.name}\n`);
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { push });
}
