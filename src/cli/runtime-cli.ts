/**
 * `berth-runtime` (also `berth runtime`): the OCI runtime command line, with runc's verbs and flags
 * so that OCI tools (podman through conmon, containerd shims) can drive it.
 */
import { Command, Option } from 'commander';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthError, invalidArgument } from '../lib/errors.js';
import type { Process } from '../oci/runtime-spec.js';
import { RuntimeService, defaultSpec } from '../engine/index.js';
import { ExitCode, forwardSignals } from './program.js';
import { parseSignal } from './signals.js';

const VERSION = '0.1.0';

interface Globals {
  root?: string;
  log?: string;
  logFormat?: string;
  debug?: boolean;
}

function logLine(g: Globals, level: string, msg: string): void {
  if (!g.log) return;
  const line = g.logFormat === 'json' ? JSON.stringify({ level, msg, time: new Date().toISOString() }) : `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
  try {
    appendFileSync(g.log, line + '\n');
  } catch {
    /* the log is best effort */
  }
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function fdList(n: string | undefined): number[] {
  const count = n === undefined ? 0 : Number(n);
  if (!Number.isInteger(count) || count < 0) throw invalidArgument(`--preserve-fds: invalid number ${JSON.stringify(n)}`);
  return Array.from({ length: count }, (_, i) => 3 + i);
}

/** Runs the runtime CLI on argv (without node and script); returns the exit code. */
export async function runtimeMain(argv: string[], progName = 'berth-runtime'): Promise<number> {
  const g: Globals = {};
  const rt = () => new RuntimeService({ root: g.root });
  const program = new Command(progName);
  program
    .description("berth's OCI runtime")
    .version(`${progName} version ${VERSION}\nspec: 1.0.2`, '-v, --version')
    .option('--root <dir>', 'root directory for container state', undefined)
    .option('--log <file>', 'log file for errors')
    .option('--log-format <format>', 'log format: text or json', 'text')
    .option('--debug', 'debug logging')
    .addOption(new Option('--systemd-cgroup', 'accepted for runc compatibility').hideHelp())
    .addOption(new Option('--criu <path>', 'accepted for runc compatibility').hideHelp())
    .addOption(new Option('--rootless <value>', 'accepted for runc compatibility').hideHelp())
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .hook('preAction', (cmd) => {
      const o = cmd.opts();
      g.root = o.root;
      g.log = o.log;
      g.logFormat = o.logFormat;
      g.debug = o.debug;
    });

  program
    .command('create')
    .description('create a container from a bundle; it waits for start')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--pid-file <file>', 'write the container pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('--no-pivot', 'do not use pivot_root (MS_MOVE and chroot instead)')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .option('--preserve-fds <n>', 'pass N extra fds (3..3+N-1) to the container')
    .action(async (id: string, o) => {
      await rt().create(id, { bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: o.pivot === false, extraFds: fdList(o.preserveFds) });
    });

  program
    .command('start')
    .description('start a created container')
    .argument('<container-id>')
    .action(async (id: string) => {
      const { warnings } = await rt().start(id);
      for (const w of warnings) {
        process.stderr.write(`${progName}: warning: ${w}\n`);
        logLine(g, 'warning', w);
      }
    });

  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action((id: string) => {
      process.stdout.write(JSON.stringify(rt().state(id), null, 2) + '\n');
    });

  program
    .command('kill')
    .description('send a signal to a container')
    .argument('<container-id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to every process of the container')
    .action((id: string, sig: string, o) => {
      rt().kill(id, parseSignal(sig), o.all === true);
    });

  program
    .command('delete')
    .description('delete a stopped container')
    .argument('<container-id>')
    .option('-f, --force', 'kill the container first if it is running')
    .action(async (id: string, o) => {
      const r = rt();
      if (o.force && !r.exists(id)) return;
      const { warnings } = await r.delete(id, o.force === true);
      for (const w of warnings) {
        process.stderr.write(`${progName}: warning: ${w}\n`);
        logLine(g, 'warning', w);
      }
    });

  program
    .command('run')
    .description('create and start a container, wait for it, then delete it')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'path to the bundle', '.')
    .option('--pid-file <file>', 'write the container pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('-d, --detach', 'detach from the container')
    .option('--keep', 'keep the container state after it exits')
    .option('--no-pivot', 'do not use pivot_root')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .option('--preserve-fds <n>', 'pass N extra fds to the container')
    .action(async (id: string, o) => {
      const r = rt();
      const copts = { bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: o.pivot === false, extraFds: fdList(o.preserveFds) };
      if (o.detach) {
        await r.create(id, copts);
        await r.start(id);
        return;
      }
      let pid = 0;
      const stopForwarding = forwardSignals(() => pid);
      try {
        const res = await r.run(id, { ...copts, keep: o.keep === true, onStart: (p) => (pid = p) });
        if (res.oomKilled) process.stderr.write(`${progName}: container ${id} was killed by the OOM killer\n`);
        throw new ExitCode(res.code);
      } finally {
        stopForwarding();
      }
    });

  program
    .command('exec')
    .passThroughOptions()
    .description('run a process in a running container')
    .argument('<container-id>')
    .argument('[command...]')
    .option('-p, --process <file>', 'process.json describing the process')
    .option('-d, --detach', 'detach from the process')
    .option('--pid-file <file>', 'write the process pid to this file')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('-t, --tty', 'allocate a terminal')
    .option('--cwd <dir>', 'working directory')
    .option('-e, --env <VAR=value>', 'environment variable', collect, [])
    .option('-u, --user <uid[:gid]>', 'user to run as')
    .option('-g, --additional-gids <gid>', 'additional group', collect, [])
    .option('-c, --cap <cap>', 'add a capability', collect, [])
    .option('--no-new-privs', 'set no_new_privs')
    .option('--preserve-fds <n>', 'pass N extra fds')
    .action(async (id: string, command: string[], o) => {
      const r = rt();
      let proc: Process;
      if (o.process) {
        proc = JSON.parse(readFileSync(o.process, 'utf8')) as Process;
      } else {
        if (command.length === 0) throw invalidArgument('exec: a command or --process is required');
        const base = r.process(id);
        const [uid, gid] = o.user ? String(o.user).split(':').map(Number) : [base?.user.uid ?? 0, base?.user.gid ?? 0];
        const caps = base?.capabilities ?? {};
        const extra = (o.cap as string[]).map((c) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : 'CAP_' + c.toUpperCase()));
        const add = (l?: string[]) => [...new Set([...(l ?? []), ...extra])];
        proc = {
          ...base,
          terminal: o.tty === true,
          args: command,
          cwd: o.cwd ?? base?.cwd ?? '/',
          env: [...(base?.env ?? []), ...(o.env as string[])],
          user: { uid: uid ?? 0, gid: gid ?? 0, additionalGids: (o.additionalGids as string[]).map(Number) },
          capabilities: { bounding: add(caps.bounding), effective: add(caps.effective), permitted: add(caps.permitted), inheritable: caps.inheritable, ambient: add(caps.ambient) },
          noNewPrivileges: o.newPrivs === false ? true : base?.noNewPrivileges,
        };
      }
      let pid = 0;
      const stopForwarding = o.detach ? () => {} : forwardSignals(() => pid);
      try {
        const res = await r.exec(id, { process: proc, detach: o.detach === true, pidFile: o.pidFile, consoleSocket: o.consoleSocket, extraFds: fdList(o.preserveFds), onStart: (p) => (pid = p) });
        if (!o.detach) throw new ExitCode(res.code);
      } finally {
        stopForwarding();
      }
    });

  program
    .command('pause')
    .description('suspend every process of a container')
    .argument('<container-id>')
    .action((id: string) => rt().pause(id));

  program
    .command('resume')
    .description('resume a paused container')
    .argument('<container-id>')
    .action((id: string) => rt().resume(id));

  program
    .command('ps')
    .passThroughOptions()
    .description('list the processes of a container')
    .argument('<container-id>')
    .argument('[ps-args...]')
    .option('-f, --format <format>', 'table or json', 'table')
    .action(async (id: string, psArgs: string[], o) => {
      const pids = rt().ps(id);
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify(pids) + '\n');
        return;
      }
      const out = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
      const lines = out.split('\n');
      const header = lines[0] ?? '';
      const cols = header.trim().split(/\s+/);
      const pidCol = cols.indexOf('PID');
      process.stdout.write(header + '\n');
      const set = new Set(pids);
      for (const l of lines.slice(1)) {
        const f = l.trim().split(/\s+/);
        if (pidCol >= 0 && set.has(Number(f[pidCol]))) process.stdout.write(l + '\n');
      }
    });

  program
    .command('list')
    .alias('ls')
    .description('list containers')
    .option('-f, --format <format>', 'table or json', 'table')
    .option('-q, --quiet', 'only ids')
    .action((o) => {
      const list = rt().list();
      if (o.quiet) {
        for (const c of list) process.stdout.write(c.id + '\n');
        return;
      }
      if (o.format === 'json') {
        process.stdout.write(JSON.stringify(list.map((c) => ({ ociVersion: c.ociVersion, id: c.id, pid: c.pid ?? 0, status: c.status, bundle: c.bundle, rootfs: '', created: c.created, owner: c.owner, annotations: c.annotations }))) + '\n');
        return;
      }
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...list.map((c) => [c.id, String(c.pid ?? 0), c.status, c.bundle, c.created, c.owner])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]! + 3)).join('').trimEnd() + '\n');
    });

  program
    .command('spec')
    .description('write a default config.json into the bundle')
    .option('-b, --bundle <dir>', 'bundle directory', '.')
    .option('--rootless', 'a spec for a user namespace with uid 0 mapped to 100000')
    .action((o) => {
      const file = resolve(o.bundle, 'config.json');
      if (existsSync(file)) throw new BerthError('AlreadyExists', `${file} already exists`);
      writeFileSync(file, JSON.stringify(defaultSpec({ rootless: o.rootless === true }), null, 2) + '\n');
    });

  program
    .command('features')
    .description('print the features this runtime supports, as JSON')
    .action(() => {
      process.stdout.write(
        JSON.stringify({
          ociVersionMin: '1.0.0',
          ociVersionMax: '1.0.2',
          hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
          mountOptions: ['ro', 'rw', 'bind', 'rbind', 'nosuid', 'nodev', 'noexec', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'],
          linux: { namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'], cgroup: { v1: true, v2: true }, seccomp: { enabled: true } },
        }, null, 2) + '\n',
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof ExitCode) return e.code;
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      return ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' || ce.code === 'commander.help' ? 0 : 1;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${progName}: ${msg}\n`);
    logLine(g, 'error', msg);
    if (g.debug && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    if (e instanceof BerthError && e.exitCode !== undefined) return e.exitCode;
    return 1;
  }
}
