/**
 * `attach` and `run -d`'s later terminal: this process's stdin/stdout/stderr joined to a detached
 * container through its monitor's socket. Detach keys (ctrl-p ctrl-q by default) leave it running.
 * And the same stdio given to a container in the foreground (processStdio).
 */
import { read, write } from 'node:fs';
import { Readable, Writable } from 'node:stream';
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
 * One of this process's fds as a stream. The engine passes such a stream down as its fd, so it is
 * read or written here only where someone else uses it as a stream. (Cheaper to make than an fs
 * stream, on the path of every `run`; and unlike process.stdin it leaves a pipe's flags alone.)
 */
class FdReadable extends Readable {
  constructor(readonly fd: number) {
    super();
  }
  override _read(size: number): void {
    read(this.fd, Buffer.allocUnsafe(size), 0, size, null, (err, n, buf) => (err ? this.destroy(err) : this.push(n > 0 ? buf.subarray(0, n) : null)));
  }
}
class FdWritable extends Writable {
  constructor(readonly fd: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    const from = (off: number): void => write(this.fd, chunk, off, chunk.length - off, null, (err, n) => (err ? done(err) : off + n < chunk.length ? from(off + n) : done()));
    from(0);
  }
}

/**
 * This process's stdin/stdout/stderr as a container's stdio (`run`, `exec`, `start -a`): streams
 * of its fds, which the container (or with a terminal, the helper) gets straight. With a
 * terminal: this terminal raw while the container runs, and its size and new sizes passed on.
 * `restore` gives the terminal back.
 */
export function processStdio(o: { stdin: boolean; tty: boolean }): { stdio: ContainerStdio; restore(): void } {
  const stdio: ContainerStdio = { stdin: o.stdin ? new FdReadable(0) : undefined, stdout: new FdWritable(1), stderr: new FdWritable(2) };
  let restore = () => {};
  if (!o.tty) return { stdio, restore };
  if (o.stdin && isatty(0)) {
    process.stdin.setRawMode(true);
    restore = () => {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    };
  }
  if (isatty(1)) {
    const out = process.stdout;
    stdio.terminal = {
      get rows() {
        return out.rows;
      },
      get cols() {
        return out.columns;
      },
      onResize(listener) {
        const f = () => listener(out.rows, out.columns);
        out.on('resize', f);
        return () => out.removeListener('resize', f);
      },
    };
  }
  return { stdio, restore };
}
