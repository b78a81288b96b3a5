/**
 * `berth build` (Docker's flags; progress on stderr as BuildKit's plain output) and
 * `berth builder prune`.
 */
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import { humanSize } from '../lib/units.js';
import type { BuildOutput, ProgressEvent } from '../engine/index.js';
import { imageService, rootDir, runrootDir, type GlobalOptions } from './context.js';
import { newProgram, runProgram } from './program.js';

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function csv(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) out[part] = '';
    else out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function parseOutput(v: string): BuildOutput {
  if (!v.includes('=')) return { type: 'local', dest: v };
  const o = csv(v);
  const type = o.type ?? 'local';
  if (!['oci', 'docker', 'local', 'tar'].includes(type)) throw invalidArgument(`--output ${JSON.stringify(v)}: unknown type ${JSON.stringify(type)} (oci, docker, local, tar)`);
  if (!o.dest) throw invalidArgument(`--output ${JSON.stringify(v)}: dest=PATH is required`);
  if (type === 'local' && o.dest === '-') throw invalidArgument(`--output ${JSON.stringify(v)}: a local output needs a directory`);
  return { type: type as BuildOutput['type'], dest: o.dest, ...(o.dest === '-' ? { stream: process.stdout } : {}) };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const isTar = (b: Buffer) => (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) || (b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar') || (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') || (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) || (b.length >= 6 && b[0] === 0xfd && b.toString('latin1', 1, 5) === '7zXZ');

/** Renders progress events as BuildKit's plain output. */
function plainRenderer(write: (s: string) => void): (e: ProgressEvent) => void {
  const started = new Map<number, number>();
  const partial = new Map<number, string>();
  const secs = (id: number) => ((Date.now() - (started.get(id) ?? Date.now())) / 1000).toFixed(1);
  return (e) => {
    switch (e.type) {
      case 'step':
        started.set(e.id, Date.now());
        write(`#${e.id} ${e.text}\n`);
        break;
      case 'cached':
        write(`#${e.id} CACHED\n`);
        break;
      case 'output': {
        const text = (partial.get(e.id) ?? '') + e.data;
        const lines = text.split('\n');
        partial.set(e.id, lines.pop()!);
        for (const l of lines) write(`#${e.id} ${secs(e.id)} ${l}\n`);
        break;
      }
      case 'done': {
        const rest = partial.get(e.id);
        if (rest) write(`#${e.id} ${secs(e.id)} ${rest}\n`);
        partial.delete(e.id);
        write(`#${e.id} DONE ${secs(e.id)}s\n`);
        break;
      }
      case 'warning':
        write(`${e.text}\n`);
        break;
    }
  };
}

/**
 * BuildKit's tty view: a header with the time and the steps done, a line per step (done,
 * CACHED or its time so far) and the last lines of what running steps print, redrawn in place.
 */
function ttyRenderer(write: (s: string) => void): { on: (e: ProgressEvent) => void; end: () => void } {
  const t0 = Date.now();
  const steps = new Map<number, { text: string; start: number; end?: number; cached?: boolean; tail: string[]; partial: string }>();
  const warnings: string[] = [];
  let drawn = 0;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const draw = (final: boolean) => {
    const cols = Math.max(40, process.stderr.columns ?? 100);
    const cut = (l: string) => (l.length > cols ? l.slice(0, cols - 1) : l);
    const done = [...steps.values()].filter((x) => x.end !== undefined).length;
    const lines = [`[+] Building ${secs(Date.now() - t0)} (${done}/${steps.size})${final ? ' FINISHED' : ''}`];
    for (const st of steps.values()) {
      const right = st.cached ? 'CACHED' : secs((st.end ?? Date.now()) - st.start);
      const room = cols - right.length - 2;
      const left = ` => ${st.text}`;
      lines.push((left.length > room ? left.slice(0, room - 1) + '…' : left).padEnd(room + 1) + right);
      if (st.end === undefined && !final) for (const l of st.tail) lines.push(cut(` => => # ${l}`));
    }
    let text = drawn ? `\x1b[${drawn}F` : '';
    text += lines.map((l) => `${l}\x1b[K\n`).join('') + '\x1b[J';
    drawn = lines.length;
    write(text);
  };
  const timer = setInterval(() => draw(false), 150);
  timer.unref();
  return {
    on: (e) => {
      if (e.type === 'warning') return void warnings.push(e.text);
      if (e.type === 'step') return void steps.set(e.id, { text: e.text, start: Date.now(), tail: [], partial: '' });
      const st = steps.get(e.id);
      if (!st) return;
      if (e.type === 'cached') {
        st.cached = true;
        st.end = Date.now();
      } else if (e.type === 'done') st.end ??= Date.now();
      else if (e.type === 'output') {
        const parts = (st.partial + e.data).split('\n');
        st.partial = parts.pop()!;
        st.tail = [...st.tail, ...parts].slice(-6);
      }
    },
    end: () => {
      clearInterval(timer);
      draw(true);
      for (const w of warnings) write(`${w}\n`);
    },
  };
}

function addBuildCommands(program: Command, g: GlobalOptions): void {
  const build = (cmd: Command) =>
    cmd
      .description('build an image from a Dockerfile')
      .argument('<context>', 'the build context: a directory, or - for a tar (or a Dockerfile) on stdin')
      .option('-t, --tag <name>', 'name and optionally a tag (name:tag); may be repeated', collect, [])
      .option('-f, --file <file>', 'the Dockerfile (default CONTEXT/Dockerfile; - for stdin)')
      .option('--build-arg <arg>', 'a build-time variable NAME=VALUE (or NAME, from the environment)', collect, [])
      .option('--target <stage>', 'build this stage')
      .option('--no-cache', 'do not use the cache')
      .option('--label <label>', 'a label KEY=VALUE on the image', collect, [])
      .option('--iidfile <file>', 'write the image id to this file')
      .option('-q, --quiet', 'print only the image id')
      .option('--progress <kind>', 'auto, plain, tty or quiet', 'auto')
      .option('--network <mode>', 'network of RUN steps: default (a namespace of their own on the bridge), host or none')
      .option('--secret <spec>', 'a secret for RUN --mount=type=secret: id=ID,src=FILE (or env=VAR)', collect, [])
      .option('-o, --output <spec>', 'type=oci|docker|tar,dest=FILE, or type=local,dest=DIR (or DIR)')
      .option('--pull', 'accepted (berth does not pull yet)')
      .option('--rm', 'accepted (build containers are always removed)')
      .option('--force-rm', 'accepted (build containers are always removed)')
      .option('--platform <platform>', 'accepted when it is this machine\'s')
      .action(async (context: string, o) => {
        const cleanup: (() => void)[] = [];
        try {
          return await doBuild(g, context, o, cleanup);
        } finally {
          for (const c of cleanup) c();
        }
      });
  build(program.command('build'));
  const builder = program.command('builder').description('manage builds');
  build(builder.command('build'));
  builder
    .command('prune')
    .description('remove the build cache')
    .option('-a, --all', 'remove all of it (the only kind there is)')
    .option('-f, --force', 'do not ask (berth does not ask)')
    .action(async () => {
      const svc = await imageService(g);
      const { pruneBuildCache } = await import('../engine/index.js');
      const r = await pruneBuildCache(svc, rootDir(g));
      process.stdout.write(`Deleted build cache records: ${r.records}\nTotal reclaimed space: ${humanSize(r.reclaimed)}\n`);
    });
}

async function doBuild(g: GlobalOptions, context: string, o: Record<string, unknown>, cleanup: (() => void)[]): Promise<void> {
  const { buildImage, exportBuilt, RunFailedErrorCheck } = await loadEngine();
  const svc = await imageService(g);
  const root = rootDir(g);
  // The context: a directory, or stdin (a tar, or just a Dockerfile).
  let contextDir: string;
  let dockerfile: string | undefined;
  const file = o.file as string | undefined;
  let stdinUsed = false;
  if (context === '-') {
    const data = await readStdin();
    stdinUsed = true;
    mkdirSync(join(root, 'tmp'), { recursive: true });
    contextDir = mkdtempSync(join(root, 'tmp', 'build-context-'));
    cleanup.push(() => rmSync(contextDir, { recursive: true, force: true }));
    if (isTar(data)) {
      const tarFile = join(contextDir, '..', `${contextDir.split('/').pop()}.tar`);
      writeFileSync(tarFile, data);
      cleanup.push(() => rmSync(tarFile, { force: true }));
      const r = spawnSync('tar', ['-x', '-f', tarFile, '-C', contextDir, '--no-same-owner'], { encoding: 'utf8' });
      if (r.status !== 0) throw invalidArgument(`build -: the context tar on stdin: ${(r.stderr || '').trim().split('\n')[0]}`);
    } else {
      if (file !== undefined) throw invalidArgument('build -: a Dockerfile on stdin has no context, so -f makes no sense with it');
      dockerfile = data.toString('utf8');
    }
  } else {
    contextDir = resolve(context);
    let isDir = false;
    try {
      isDir = statSync(contextDir).isDirectory();
    } catch {
      throw invalidArgument(`unable to prepare context: path ${JSON.stringify(context)} not found`);
    }
    if (!isDir) throw invalidArgument(`unable to prepare context: ${JSON.stringify(context)} is not a directory`);
  }
  let dockerfileName = 'Dockerfile';
  if (dockerfile === undefined) {
    if (file === '-') {
      if (stdinUsed) throw invalidArgument('build: the context and the Dockerfile cannot both come from stdin');
      dockerfile = (await readStdin()).toString('utf8');
    } else {
      const path = file === undefined ? join(contextDir, 'Dockerfile') : context === '-' ? join(contextDir, file) : resolve(file);
      dockerfileName = file ?? 'Dockerfile';
      if (!existsSync(path) && file === undefined && existsSync(join(contextDir, 'dockerfile'))) dockerfile = readFileSync(join(contextDir, 'dockerfile'), 'utf8');
      else {
        try {
          dockerfile = readFileSync(path, 'utf8');
        } catch {
          throw invalidArgument(`failed to read the Dockerfile: open ${path}: no such file or directory`);
        }
      }
    }
  }
  const buildArgs: Record<string, string> = {};
  for (const a of o.buildArg as string[]) {
    const i = a.indexOf('=');
    if (i === 0) throw invalidArgument(`--build-arg ${JSON.stringify(a)}: the name is empty`);
    if (i < 0) {
      if (process.env[a] !== undefined) buildArgs[a] = process.env[a]!;
    } else buildArgs[a.slice(0, i)] = a.slice(i + 1);
  }
  const labels: Record<string, string> = {};
  for (const l of o.label as string[]) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const secrets: Record<string, string> = {};
  for (const s of o.secret as string[]) {
    const m = csv(s);
    const id = m.id;
    if (!id) throw invalidArgument(`--secret ${JSON.stringify(s)}: id=ID is required`);
    if (m.src ?? m.source) {
      const src = resolve((m.src ?? m.source)!);
      if (!existsSync(src)) throw invalidArgument(`--secret ${JSON.stringify(s)}: ${src}: no such file`);
      secrets[id] = src;
    } else {
      const envName = m.env ?? id;
      const v = process.env[envName];
      if (v === undefined) throw invalidArgument(`--secret ${JSON.stringify(s)}: no src=FILE and no environment variable ${envName}`);
      mkdirSync(join(root, 'tmp'), { recursive: true });
      const dir = mkdtempSync(join(root, 'tmp', 'secret-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'secret'), v, { mode: 0o600 });
      secrets[id] = join(dir, 'secret');
    }
  }
  let network: 'bridge' | 'host' | 'none' | undefined;
  const net = o.network as string | undefined;
  if (net !== undefined) {
    if (net === 'default' || net === 'bridge') network = 'bridge';
    else if (net === 'host' || net === 'none') network = net;
    else throw invalidArgument(`--network ${JSON.stringify(net)}: builds use default (the bridge), host or none`);
  }
  const progress = String(o.progress);
  if (!['auto', 'plain', 'tty', 'quiet'].includes(progress)) throw invalidArgument(`--progress ${JSON.stringify(progress)}: auto, plain, tty or quiet`);
  const output = o.output !== undefined ? parseOutput(o.output as string) : undefined;
  const quiet = o.quiet === true || progress === 'quiet';
  const tty = !quiet && (progress === 'tty' || (progress === 'auto' && process.stderr.isTTY === true)) ? ttyRenderer((s) => void process.stderr.write(s)) : undefined;
  const render = quiet ? undefined : tty ? tty.on : plainRenderer((s) => void process.stderr.write(s));
  cleanup.push(() => tty?.end());
  const tags = o.tag as string[];
  let result;
  // Ctrl-C or a TERM: the build stops its steps and cleans up before it exits (130).
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  cleanup.push(() => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, onSignal);
  });
  try {
    result = await buildImage(
      svc,
      { root, runroot: runrootDir(g) },
      {
        contextDir,
        dockerfile,
        dockerfileName,
        buildArgs,
        target: o.target as string | undefined,
        noCache: o.cache === false,
        labels,
        network,
        secrets,
        tags,
        onProgress: render,
        signal: abort.signal,
      },
    );
  } catch (e) {
    // Quiet: the failing step's output was not shown as it came; show it now.
    if (quiet && RunFailedErrorCheck(e) && e.output) process.stderr.write(e.output.endsWith('\n') ? e.output : e.output + '\n');
    throw e;
  }
  if (output) await exportBuilt(svc, result.id, output);
  if (o.iidfile) writeFileSync(o.iidfile as string, result.id);
  if (quiet) {
    if (!output?.stream) process.stdout.write(result.id + '\n');
  } else {
    process.stderr.write(`writing image ${result.id} done\n`);
    for (const t of tags) process.stderr.write(`naming to ${t} done\n`);
  }
}

async function loadEngine() {
  const e = await import('../engine/index.js');
  return {
    buildImage: e.buildImage,
    exportBuilt: e.exportBuilt,
    // A failed RUN carries its output (RunFailedError).
    RunFailedErrorCheck: (x: unknown): x is { output: string } => typeof x === 'object' && x !== null && typeof (x as { output?: unknown }).output === 'string',
  };
}

export async function run(argv: string[], g: GlobalOptions): Promise<number> {
  const program = newProgram();
  addBuildCommands(program, g);
  return runProgram(program, argv);
}
