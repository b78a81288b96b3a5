/**
 * `berth`: the command line. Commands are loaded lazily so that each pays only for what it uses.
 */
import { exitCodeFor } from './exit.js';

const USAGE = `Usage: berth [--root DIR] COMMAND [ARGS...]

Commands:
  runtime ...     the OCI runtime (same as berth-runtime): create, start, state, kill, delete,
                  run, exec, ps, list, spec
  starter DIR     write a busybox bundle (rootfs + config.json) made from the host's busybox-static
  version         print the version

Images, containers, networks and builds are not there yet: see README.md.
`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  switch (cmd) {
    case 'runtime': {
      const { runtimeMain } = await import('./runtime-cli.js');
      return runtimeMain(argv.slice(1), 'berth runtime');
    }
    case 'starter': {
      const dir = argv[1];
      if (!dir) {
        process.stderr.write('berth starter: a directory is required\n');
        return 125;
      }
      const { writeStarterBundle } = await import('./starter-cmd.js');
      writeStarterBundle(dir, argv.slice(2));
      process.stdout.write(`${dir}\n`);
      return 0;
    }
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write('berth version 0.1.0\n');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      process.stderr.write(`berth: unknown command ${JSON.stringify(cmd)}\nRun 'berth --help' for usage.\n`);
      return 125;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = exitCodeFor(e);
  },
);
