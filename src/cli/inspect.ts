/** `inspect`: containers, images, networks or volumes (--type), as JSON or a template. */
import type { Command } from 'commander';
import { isBerthError } from '../lib/errors.js';
import { engine, type GlobalOptions } from './context.js';
import { cliError, errorText } from './exit.js';
import { printInspect, type InspectOptions } from './output.js';
import { ExitCode, runDefined } from './program.js';

/**
 * What every `inspect` does with its names, as the docker CLI: the objects found (a JSON array,
 * `[]` when none, or the template once per object), then an error line for each name not found;
 * exit 1 if any was not.
 */
export async function inspectEach(names: string[], find: (name: string) => object | Promise<object>, format: string | undefined, opts: InspectOptions = {}): Promise<void> {
  const items: object[] = [];
  const errors: string[] = [];
  for (const n of names) {
    try {
      items.push(await find(n));
    } catch (e) {
      errors.push(errorText(e));
    }
  }
  // The objects found (with a template and none found, an empty line), then the errors.
  let templateError: unknown;
  try {
    printInspect(items, format, opts);
  } catch (e) {
    templateError = e;
  }
  for (const e of errors) process.stderr.write(`${e}\n`);
  if (templateError !== undefined) throw templateError;
  if (errors.length) throw new ExitCode(1);
}

type Kind = 'container' | 'image' | 'network' | 'volume';

const inspectCommand = (cmd: Command, g: GlobalOptions, only?: Kind) =>
  cmd
    .description('details of containers, images, networks or volumes, as JSON')
    .argument('<name...>')
    .option('-f, --format <format>', 'a {{.Field}} template')
    .option('--type <type>', 'container, image, network or volume')
    .action(async (names: string[], o) => {
      const e = await engine(g);
      const type = (only ?? o.type) as Kind | undefined;
      if (type !== undefined && !['container', 'image', 'network', 'volume'].includes(type)) throw cliError('InvalidArgument', `unknown type: ${JSON.stringify(type)}: must be one of "config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"`);
      const finders: Record<Kind, (n: string) => object | Promise<object>> = {
        container: (n) => e.containers.inspect(n),
        image: (n) => e.images.inspect(n),
        network: (n) => e.networks.inspect(n),
        volume: (n) => e.volumes.inspect(n),
      };
      // Without --type: the first kind that has the name (docker's order), else "No such object".
      const find = type
        ? finders[type]
        : async (n: string) => {
            for (const k of ['container', 'image', 'network', 'volume'] as const) {
              try {
                return await finders[k](n);
              } catch (err) {
                if (!isBerthError(err, 'NotFound')) throw err;
              }
            }
            throw cliError('NotFound', `Error: No such object: ${n}`);
          };
      await inspectEach(names, find, o.format);
    });

/** `container inspect`: `inspect --type container`. */
export const containerInspectCommand = (cmd: Command, g: GlobalOptions) => inspectCommand(cmd, g, 'container');

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { inspect: (cmd, g) => inspectCommand(cmd, g) });
}
