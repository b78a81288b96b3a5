/**
 * `berth`: the command line. Global flags are read here; each command's module is loaded only
 * when that command runs, so that each pays only for what it uses.
 */
import { failureFor, PROG, UsageError } from './exit.js';
import { mark, timingReport } from '../lib/timing.js';
import type { GlobalOptions } from './context.js';

const USAGE = `Usage: berth [OPTIONS] COMMAND [ARGS...]

Options:
  --root DIR              state directory (default /var/lib/berth, or BERTH_ROOT)
  --runroot DIR           runtime state directory (default /run/berth, or BERTH_RUNROOT)
  --storage-driver NAME   overlay or vfs (default: overlay where the kernel has it)

Images:
  images, image ls        list images (--format json, -q, --digests, --filter)
  image inspect, history, tag, rmi, image prune, import, save, load, system df
  starter                 make the busybox starter image from the host's busybox-static

Registries (config.json, certs.d: in $BERTH_CONFIG, default ~/.config/berth):
  pull [-a] [-q] [--platform P] NAME[:TAG|@DIGEST], push [-a] [-q] NAME[:TAG]
  login [-u USER] [-p PW | --password-stdin] [SERVER], logout [SERVER], manifest inspect NAME

Builds:
  build [OPTIONS] CONTEXT   build an image from a Dockerfile (-t, -f, --build-arg, --target, --no-cache,
                          --label, --iidfile, -q, --progress, --network, --secret, -o)
  builder prune           remove the build cache

Containers:
  run [OPTIONS] IMAGE [CMD...]   run a container (-d, --rm, --name, -e, -w, -u, -h, --entrypoint,
                          -m, --cpus, --pids-limit, --read-only, -i, -t)
  ps [-a] [-q], rm [-f] [-v], logs [-f] [-n N] [-t], stop [-t S], kill [-s SIG], wait, exec,
  create, start, restart, top, stats, pause, unpause, diff, commit, export, rename, inspect
  volume create|ls|inspect|rm|prune

Networks:
  run --network bridge|NAME|none|host|container:NAME, -p [ip:]host:ctr[/proto], -P, --ip,
                          --network-alias, --dns, --dns-search, --add-host
  network create|ls|inspect|rm|connect|disconnect|prune, port, info, system prune|reset|df

Runtime:
  runtime ...             the OCI runtime (same as berth-runtime): create, start, state, kill,
                          delete, run, exec, ps, list, spec
  bundle DIR [CMD...]     write a busybox bundle (rootfs + config.json) for the runtime

  version                 print the version

What is not there yet: see README.md.
`;

/** Each command's module: one file per command or small family (`container` and `image` load the rest). */
const COMMANDS: Record<string, () => Promise<{ run(argv: string[], g: GlobalOptions): Promise<number> }>> = {
  images: () => import('./images.js'),
  image: () => import('./images.js'),
  tag: () => import('./images.js'),
  rmi: () => import('./images.js'),
  history: () => import('./images.js'),
  import: () => import('./images.js'),
  save: () => import('./images.js'),
  load: () => import('./images.js'),
  starter: () => import('./images.js'),
  inspect: () => import('./inspect.js'),
  system: () => import('./system.js'),
  info: () => import('./system.js'),
  run: () => import('./run.js'),
  create: () => import('./run.js'),
  ps: () => import('./ps.js'),
  rm: () => import('./rm.js'),
  container: () => import('./container.js'),
  logs: () => import('./logs.js'),
  start: () => import('./lifecycle.js'),
  stop: () => import('./lifecycle.js'),
  kill: () => import('./lifecycle.js'),
  wait: () => import('./lifecycle.js'),
  restart: () => import('./lifecycle.js'),
  pause: () => import('./lifecycle.js'),
  unpause: () => import('./lifecycle.js'),
  exec: () => import('./exec.js'),
  attach: () => import('./exec.js'),
  rename: () => import('./update.js'),
  update: () => import('./update.js'),
  diff: () => import('./files.js'),
  commit: () => import('./files.js'),
  export: () => import('./files.js'),
  cp: () => import('./cp.js'),
  top: () => import('./stats.js'),
  stats: () => import('./stats.js'),
  volume: () => import('./volume.js'),
  build: () => import('./build.js'),
  builder: () => import('./build.js'),
  network: () => import('./network.js'),
  port: () => import('./port.js'),
  pull: () => import('./pull.js'),
  manifest: () => import('./pull.js'),
  push: () => import('./push.js'),
  login: () => import('./login.js'),
  logout: () => import('./login.js'),
};

function parseGlobals(argv: string[]): { g: GlobalOptions; rest: string[] } {
  const g: GlobalOptions = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--(root|runroot|storage-driver)(?:=(.*))?$/.exec(a);
    if (!m) break;
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new UsageError(`flag needs an argument: --${m[1]}\n\nUsage:  ${PROG} [OPTIONS] COMMAND [ARG...]\n\nRun '${PROG} --help' for more information`, 'flag');
    if (m[1] === 'root') g.root = v;
    else if (m[1] === 'runroot') g.runroot = v;
    else g.storageDriver = v;
  }
  return { g, rest: argv.slice(i) };
}

async function main(argv: string[]): Promise<number> {
  mark('cli: main');
  const { g, rest } = parseGlobals(argv);
  const cmd = rest[0];
  switch (cmd) {
    case 'runtime': {
      const { runtimeMain } = await import('./runtime-cli.js');
      return runtimeMain(rest.slice(1), 'berth runtime');
    }
    case 'bundle': {
      const dir = rest[1];
      if (!dir) throw new UsageError(`${PROG} bundle: a directory is required`, 'arguments');
      const { writeStarterBundle } = await import('./starter-cmd.js');
      writeStarterBundle(dir, rest.slice(2));
      process.stdout.write(`${dir}\n`);
      return 0;
    }
    case 'version':
    case '--version':
    case '-v':
      if (cmd === 'version' && rest.length > 1) return (await import('./version.js')).run(rest, g);
      process.stdout.write('berth version 0.1.0\n');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    // Docker's words; a flag before the command that berth does not know is a flag error.
    if (cmd.startsWith('-')) {
      const f = cmd.split('=')[0]!;
      const what = f.startsWith('--') ? `unknown flag: ${f}` : `unknown shorthand flag: '${f.slice(1, 2)}' in ${f}`;
      throw new UsageError(`${what}\n\nUsage:  ${PROG} [OPTIONS] COMMAND [ARG...]\n\nRun '${PROG} --help' for more information`, 'flag');
    }
    throw new UsageError(`${PROG}: unknown command: ${PROG} ${cmd}\n\nRun '${PROG} --help' for more information`, 'command');
  }
  const mod = await load();
  mark(`cli: ${cmd} loaded`);
  return mod.run(rest, g);
}

process.once('exit', () => {
  mark('exit');
  process.stderr.write(timingReport());
});
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const f = failureFor('', e);
    process.stderr.write(`${f.text}\n`);
    process.exitCode = f.code;
  },
);
