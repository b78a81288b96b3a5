/**
 * `berth build` (Docker's flags; progress on stderr as BuildKit's plain output) and
 * `berth builder prune`.
 */
import type { api } from '../engine/index.js';
import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalidArgument } from '../lib/errors.js';
import { humanSize } from '../lib/units.js';
import type { BuildOutput, BuildSecret } from '../engine/index.js';
import { plainRenderer, ttyRenderer } from './build-progress.js';
import { engine, type GlobalOptions } from './context.js';
import { collect, runDefined } from './program.js';

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

/** --secret id=ID,src=FILE (or env=VAR, by default the variable named ID). */
function parseSecret(s: string): [string, BuildSecret] {
  const m = csv(s);
  const id = m.id;
  if (!id) throw invalidArgument(`--secret ${JSON.stringify(s)}: id=ID is required`);
  if (m.src ?? m.source) {
    const src = resolve((m.src ?? m.source)!);
    if (!existsSync(src)) throw invalidArgument(`--secret ${JSON.stringify(s)}: ${src}: no such file`);
    return [id, { file: src }];
  }
  const envName = m.env ?? id;
  const v = process.env[envName];
  if (v === undefined) throw invalidArgument(`--secret ${JSON.stringify(s)}: no src=FILE and no environment variable ${envName}`);
  return [id, { value: v }];
}

const build = (cmd: Command, g: GlobalOptions) =>
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
    .option('--platform <platform>', "accepted when it is this machine's")
    .action(async (context: string, o) => {
      const cleanup: (() => void)[] = [];
      try {
        return await doBuild(g, context, o, cleanup);
      } finally {
        for (const c of cleanup) c();
      }
    });

async function doBuild(g: GlobalOptions, context: string, o: Record<string, unknown>, cleanup: (() => void)[]): Promise<void> {
  const { builds } = await engine(g);
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
  const secrets = Object.fromEntries((o.secret as string[]).map(parseSecret));
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
    // Docker's POST /build query, as the docker CLI sends it.
    const query: api.BuildRequest = { dockerfile: o.file as string | undefined, t: tags, buildargs: buildArgs, target: o.target as string | undefined, nocache: o.cache === false, labels, networkmode: o.network as string | undefined };
    result = await builds.build({ context, input: readStdin, query, secrets, onProgress: render, signal: abort.signal });
  } catch (e) {
    // Quiet: the failing step's output was not shown as it came; show it now (a RunFailedError's).
    const output = (e as { output?: unknown } | null)?.output;
    if (quiet && typeof output === 'string' && output) process.stderr.write(output.endsWith('\n') ? output : output + '\n');
    throw e;
  }
  if (output) await builds.export(result.id, output);
  if (o.iidfile) writeFileSync(o.iidfile as string, result.id);
  if (quiet) {
    if (!output?.stream) process.stdout.write(result.id + '\n');
  } else {
    process.stderr.write(`writing image ${result.id} done\n`);
    for (const t of tags) process.stderr.write(`naming to ${t} done\n`);
  }
}

const builder = (cmd: Command, g: GlobalOptions) => {
  cmd.description('manage builds');
  build(cmd.command('build'), g);
  cmd
    .command('prune')
    .description('remove the build cache')
    .option('-a, --all', 'remove all of it (the only kind there is)')
    .option('-f, --force', 'do not ask (berth does not ask)')
    .action(async () => {
      const r = await (await engine(g)).builds.prune();
      process.stdout.write(`Deleted build cache records: ${r.records}\nTotal reclaimed space: ${humanSize(r.reclaimed, 4)}\n`);
    });
};

export function run(argv: string[], g: GlobalOptions): Promise<number> {
  return runDefined(argv, g, { build, builder });
}
