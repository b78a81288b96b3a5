/**
 * `attach` and `run -d`'s later terminal: this process's stdin/stdout/stderr joined to a detached
 * container through its monitor's socket. Detach keys (ctrl-p ctrl-q by default) leave it running.
 * And the same stdio given to a container in the foreground (processStdio).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { isatty } from 'node:tty';
import { attachStreams, type AttachSession, type ContainerStdio } from '../engine/index.js';
import { invalidArgument } from '../lib/errors.js';

/** "ctrl-p,ctrl-q" → bytes, as Docker's --detach-keys reads them. */
export function parseDetachKeys(s: string): number[] {
  if (s === '') return [];
  return s.split(',').map((k) => {
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(k);
    if (m) return m[1]!.charCodeAt(0) & 0x1f;
    if (k.length === 1) return k.charCodeAt(0);
    throw invalidArgument(`invalid detach keys ${JSON.stringify(s)}: ${JSON.stringify(k)} is not a key (a letter, or ctrl-X)`);
  });
}

/** Resolves when the container's output ended ('ended') or the user pressed the detach keys ('detached'). */
export async function attachStdio(a: AttachSession, o: { stdin: boolean; detachKeys: number[] }): Promise<'ended' | 'detached'> {
  const stdin = process.stdin;
  const input = o.stdin && a.openStdin;
  const raw = a.tty && stdin.isTTY === true && input;
  if (raw) stdin.setRawMode(true);
  const attached = attachStreams(a, { stdin: o.stdin ? stdin : undefined, stdout: process.stdout, stderr: process.stderr }, { detachKeys: o.detachKeys });
  const onResize = () => attached.resize(process.stdout.rows ?? 24, process.stdout.columns ?? 80);
  if (a.tty && process.stdout.isTTY) {
    onResize();
    process.stdout.on('resize', onResize);
  }
  const how = await attached.done;
  if (raw) stdin.setRawMode(false);
  // An open stdin (a pipe, a terminal) must not keep this process after the end.
  stdin.destroy();
  process.stdout.removeListener('resize', onResize);
  return how;
}

/**
 * This process's stdin/stdout/stderr as a container's stdio (`run`, `exec`, `start -a`): as
 * streams of their fds, which the container gets straight (this process does not read them, and
 * does not make a pipe on stdin non-blocking). With a terminal: this terminal raw while the
 * container runs, and its size and new sizes passed on. `restore` gives the terminal back.
 */
export function processStdio(o: { stdin: boolean; tty: boolean }): { stdio: ContainerStdio; restore(): void } {
  const stdio: ContainerStdio = {
    stdin: o.stdin ? createReadStream('', { fd: 0, autoClose: false }) : undefined,
    stdout: createWriteStream('', { fd: 1, autoClose: false }),
    stderr: createWriteStream('', { fd: 2, autoClose: false }),
  };
  let restore = () => {};
  if (o.tty && o.stdin && isatty(0)) {
    process.stdin.setRawMode(true);
    restore = () => {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    };
  }
  if (o.tty && isatty(1)) {
    const out = process.stdout;
    stdio.terminal = {
      rows: out.rows,
      cols: out.columns,
      onResize(listener) {
        const f = () => listener(out.rows, out.columns);
        out.on('resize', f);
        return () => out.removeListener('resize', f);
      },
    };
  }
  return { stdio, restore };
}
