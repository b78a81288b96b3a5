/**
 * Shared helpers for integration tests: a fresh runtime root and busybox bundles in a temporary
 * directory, containers whose output goes to a file, and cleanup that runs also on failure.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Runtime, defaultSpec, makeBusyboxRootfs } from '../src/runtime/index.js';
import type { Spec } from '../src/oci/runtime-spec.js';

let templateRootfs: string | undefined;
const tmpDirs: string[] = [];

export function tmp(prefix = 'berth-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** A busybox root filesystem, made once per process and copied per bundle. */
function template(): string {
  if (!templateRootfs) {
    templateRootfs = join(tmp('berth-rootfs-'), 'rootfs');
    makeBusyboxRootfs(templateRootfs);
  }
  return templateRootfs;
}

export function uniqueId(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  spec: Spec;
  write(): void;
}

/** A bundle with a fresh copy of the busybox rootfs and a default spec running `args`. */
export function bundle(args: string[], edit?: (s: Spec) => void): Bundle {
  const dir = tmp('berth-bundle-');
  const rootfs = join(dir, 'rootfs');
  cpSync(template(), rootfs, { recursive: true, verbatimSymlinks: true });
  const spec = defaultSpec({ args });
  spec.root = { path: 'rootfs', readonly: false };
  spec.hostname = 'berth-test';
  const b: Bundle = {
    dir,
    rootfs,
    spec,
    write() {
      writeFileSync(join(dir, 'config.json'), JSON.stringify(b.spec, null, 2));
    },
  };
  edit?.(spec);
  b.write();
  return b;
}

export class TestRuntime {
  readonly root = tmp('berth-state-');
  readonly rt = new Runtime({ root: this.root });

  /** Runs a container to completion; returns its exit status and what it wrote to stdout+stderr. */
  async run(b: Bundle, id = uniqueId(), onStart?: (pid: number) => void) {
    const out = join(b.dir, `out-${id}.txt`);
    const fd = openSync(out, 'w');
    try {
      const res = await this.rt.run(id, { bundle: b.dir, stdio: ['ignore', fd, fd], onStart });
      return { ...res, output: readFileSync(out, 'utf8') };
    } finally {
      closeSync(fd);
    }
  }

  /** Creates and starts a detached container (e.g. running `sleep`); returns its pid. */
  async start(b: Bundle, id = uniqueId()): Promise<{ id: string; pid: number }> {
    const out = join(b.dir, `out-${id}.txt`);
    const fd = openSync(out, 'w');
    try {
      const pid = await this.rt.create(id, { bundle: b.dir, stdio: ['ignore', fd, fd] });
      await this.rt.start(id);
      return { id, pid };
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes every container of this runtime root, then the root. */
  async cleanup(): Promise<void> {
    for (const c of this.rt.list()) await this.rt.delete(c.id, true).catch(() => {});
  }
}

/** Removes the temporary directories made by this process. */
/**
 * Removes every temporary directory this test file made. The list is kept: a file's describe
 * blocks make their roots when the file loads, so the first block's cleanup also takes the later
 * blocks' roots, which berth makes again when they run; their own cleanup (and the one at exit)
 * takes those too.
 */
export function cleanupTmp(): void {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
}
process.once('exit', () => {
  try {
    cleanupTmp();
  } catch {
    /* something still mounted there: its test says so */
  }
});

export function readProc(pid: number, file: string): string {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8');
}

export function statusField(pid: number, field: string): string {
  const m = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readProc(pid, 'status'));
  return m?.[1]?.trim() ?? '';
}

export const isRoot = process.getuid?.() === 0;
export const haveBusybox = ['/usr/bin/busybox', '/bin/busybox'].some((p) => existsSync(p));

/**
 * Polls `cond` (every 10 ms) until it holds; fails naming `what` once `deadlineMs` passed. The
 * deadline bounds a hang and is generous on purpose: it is no speed limit, and no test asserts
 * how fast anything is.
 */
export async function waitFor(what: string, cond: () => boolean, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** waitFor for synchronous tests (CLI calls): polls every 50 ms, same deadline rule. */
export function waitUntil(what: string, cond: () => boolean, deadlineMs = 60_000): void {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs / 1000} s waiting for ${what}`);
    spawnSync('sleep', ['0.05']);
  }
}
