/** `inspect`: containers or images (--type), as JSON or a template. */
import type { Command } from 'commander';
import { notFound } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { printInspect } from './output.js';
import { runDefined } from './program.js';

const inspectCommand = (cmd: Command, g: GlobalOptions) =>
  cmd
    .description('details of containers or images, as JSON')
    .argument('<name...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .option('--type <type>', 'container or image')
    .action(async (names: string[], o) => {
      const { containers, images } = await engine(g);
      const items = names.map((n) => {
        if (o.type !== 'image') {
          try {
            return containers.inspect(n);
          } catch (e) {
            if (o.type === 'container') throw e;
          }
        }
        try {
          return images.inspect(n);
        } catch {
          throw notFound(`No such object: ${n}`);
        }
      });
      printInspect(items, o.format);
    });

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { inspect: inspectCommand });
}
