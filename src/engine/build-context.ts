/**
 * What a build starts from, as `docker build` takes it: a directory, or `-` — an input (the
 * CLI's stdin, the API's request body) holding a tar of the context (gzip, bzip2, xz, zstd or
 * plain) or just a Dockerfile; the Dockerfile (`-f`: a path, in the context when that came as a
 * tar, or `-` for the input); and secrets (a file, or a value written to a private file for the
 * build). Scratch copies live under ROOT/tmp and go with `cleanup`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { invalidArgument, reason } from '../lib/errors.js';
import { extractArchiveFile } from './archive-file.js';

export interface BuildContextRequest {
  /** A directory, or '-': `input` is the context (a tar) or the Dockerfile. */
  context: string;
  /** `-f`: the Dockerfile's path (default CONTEXT/Dockerfile), or '-': `input` is the Dockerfile. */
  file?: string;
  /** What '-' reads; read at most once. */
  input?: () => Promise<Buffer>;
}

export interface BuildContext {
  contextDir: string;
  dockerfile: string;
  /** As the build's messages name it. */
  dockerfileName: string;
}

/** A secret for RUN --mount=type=secret: a file, or a value. */
export type BuildSecret = { file: string } | { value: string };

/** Scratch files a build made; removed, in reverse, when it ends. */
export class Scratch {
  private readonly undo: (() => void)[] = [];

  constructor(private readonly root: string) {}

  /** A new directory under ROOT/tmp. */
  dir(prefix: string): string {
    mkdirSync(join(this.root, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(this.root, 'tmp', prefix));
    this.onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  onCleanup(f: () => void): void {
    this.undo.push(f);
  }

  cleanup(): void {
    for (const f of this.undo.splice(0).reverse()) f();
  }
}

const isTar = (b: Buffer) => (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) || (b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar') || (b.length >= 3 && b.toString('latin1', 0, 3) === 'BZh') || (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) || (b.length >= 6 && b[0] === 0xfd && b.toString('latin1', 1, 5) === '7zXZ');

/** The context directory and the Dockerfile's text. */
export async function prepareContext(scratch: Scratch, r: BuildContextRequest): Promise<BuildContext> {
  let inputUsed = false;
  const input = async () => {
    if (!r.input) throw invalidArgument('build: "-" needs an input (a tar or a Dockerfile)');
    inputUsed = true;
    return r.input();
  };
  const file = r.file;
  let contextDir: string;
  let dockerfile: string | undefined;
  if (r.context === '-') {
    const data = await input();
    contextDir = scratch.dir('build-context-');
    if (isTar(data)) {
      const tarFile = join(contextDir, '..', `${contextDir.split('/').pop()}.tar`);
      writeFileSync(tarFile, data);
      scratch.onCleanup(() => rmSync(tarFile, { force: true }));
      try {
        await extractArchiveFile(tarFile, contextDir, '/', 'build -: the context tar on stdin', { sameOwner: false });
      } catch (e) {
        throw invalidArgument(reason(e), { cause: e });
      }
    } else {
      if (file !== undefined) throw invalidArgument('build -: a Dockerfile on stdin has no context, so -f makes no sense with it');
      dockerfile = data.toString('utf8');
    }
  } else {
    contextDir = resolve(r.context);
    let isDir = false;
    try {
      isDir = statSync(contextDir).isDirectory();
    } catch {
      throw invalidArgument(`unable to prepare context: path ${JSON.stringify(r.context)} not found`);
    }
    if (!isDir) throw invalidArgument(`unable to prepare context: ${JSON.stringify(r.context)} is not a directory`);
  }
  let dockerfileName = 'Dockerfile';
  if (dockerfile === undefined) {
    if (file === '-') {
      if (inputUsed) throw invalidArgument('build: the context and the Dockerfile cannot both come from stdin');
      dockerfile = (await input()).toString('utf8');
    } else {
      const path = file === undefined ? join(contextDir, 'Dockerfile') : r.context === '-' ? join(contextDir, file) : resolve(file);
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
  return { contextDir, dockerfile, dockerfileName };
}

/** The secrets as files the build mounts: values are written to private scratch files. */
export function secretFiles(scratch: Scratch, secrets: Record<string, BuildSecret>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, s] of Object.entries(secrets)) {
    if ('file' in s) out[id] = s.file;
    else {
      const dir = scratch.dir('secret-');
      writeFileSync(join(dir, 'secret'), s.value, { mode: 0o600 });
      out[id] = join(dir, 'secret');
    }
  }
  return out;
}
