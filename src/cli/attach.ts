/**
 * `attach` and `run -d`'s later terminal: this process's stdin/stdout/stderr joined to a detached
 * container through its monitor's socket. Detach keys (ctrl-p ctrl-q by default) leave it running.
 */
import { attachStreams, type AttachSession } from '../engine/index.js';
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
