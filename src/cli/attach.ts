/**
 * `attach` and `run -d`'s later terminal: this process's stdin/stdout/stderr joined to a detached
 * container through its monitor's socket. Detach keys (ctrl-p ctrl-q by default) leave it running.
 */
import { FrameReader, inputFrames, resizeFrame } from '../engine/index.js';
import { invalidArgument } from '../lib/errors.js';
import type { Socket } from 'node:net';

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

export interface AttachSession {
  socket: Socket;
  tty: boolean;
  openStdin: boolean;
}

/** Resolves when the container's output ended ('ended') or the user pressed the detach keys ('detached'). */
export function attachStdio(a: AttachSession, o: { stdin: boolean; detachKeys: number[] }): Promise<'ended' | 'detached'> {
  const stdin = process.stdin;
  const raw = a.tty && stdin.isTTY === true;
  return new Promise((resolve) => {
    let matched = 0;
    let done = false;
    const finish = (how: 'ended' | 'detached') => {
      if (done) return;
      done = true;
      if (raw) stdin.setRawMode(false);
      stdin.removeListener('data', onInput);
      // An open stdin (a pipe, a terminal) must not keep this process after the end.
      stdin.destroy();
      process.stdout.removeListener('resize', onResize);
      a.socket.destroy();
      resolve(how);
    };
    const reader = new FrameReader((stream, payload) => (stream === 2 ? process.stderr : process.stdout).write(payload));
    a.socket.on('data', (d: Buffer) => reader.push(d));
    a.socket.on('close', () => finish('ended'));
    a.socket.on('error', () => finish('ended'));
    const onResize = () => a.socket.write(resizeFrame(process.stdout.rows ?? 24, process.stdout.columns ?? 80));
    if (a.tty && process.stdout.isTTY) {
      onResize();
      process.stdout.on('resize', onResize);
    }
    const onInput = (d: Buffer) => {
      // The detach sequence, possibly split over reads; bytes of a partial match go on if it breaks.
      const keys = o.detachKeys;
      for (let i = 0; i < d.length && keys.length; i++) {
        if (d[i] === keys[matched]) {
          matched++;
          if (matched === keys.length) {
            const before = d.subarray(0, Math.max(0, i + 1 - keys.length));
            if (before.length > 0) for (const f of inputFrames(before)) a.socket.write(f);
            finish('detached');
            return;
          }
        } else matched = d[i] === keys[0] ? 1 : 0;
      }
      for (const f of inputFrames(d)) a.socket.write(f);
    };
    if (o.stdin && a.openStdin) {
      if (raw) stdin.setRawMode(true);
      stdin.on('data', onInput);
      stdin.resume();
    }
  });
}
