/**
 * Attaching to a detached container: the caller's streams joined to the container's monitor
 * socket (from ContainerService.attach). Output frames go to `stdout` or `stderr` by their stream;
 * input from `stdin` goes in as frames until the detach keys; the terminal's size goes in on
 * `resize`. The streams are the caller's: a terminal for the CLI, a hijacked connection for an API.
 */
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { FrameReader, inputFrames, resizeFrame } from '../sys/attach.js';

/** What ContainerService.attach returns: the monitor's socket, and whether the container has a terminal and an open stdin. */
export interface AttachSession {
  socket: Socket;
  tty: boolean;
  openStdin: boolean;
}

export interface AttachStreams {
  /** Input for the container (read only where the container keeps its stdin open); none: output only. */
  stdin?: Readable;
  stdout: Writable;
  /** Stream 2 of a container without a terminal. */
  stderr: Writable;
}

export interface Attached {
  /** Resolves when the container's output ended ('ended') or the input held the detach keys ('detached'). */
  done: Promise<'ended' | 'detached'>;
  /** Tells the container's terminal its size. */
  resize(rows: number, cols: number): void;
}

/**
 * Joins `io` to an attach session. `detachKeys` (bytes; none: no detaching) end it from the input
 * side, the container keeps running; bytes of a partial match go on when the match breaks. At the
 * end the socket is closed and `stdin` no longer read; the streams are left to their owner.
 */
export function attachStreams(a: AttachSession, io: AttachStreams, o: { detachKeys: number[] }): Attached {
  const stdin = a.openStdin ? io.stdin : undefined;
  let finish: (how: 'ended' | 'detached') => void = () => {};
  const done = new Promise<'ended' | 'detached'>((resolve) => {
    let matched = 0;
    let over = false;
    finish = (how) => {
      if (over) return;
      over = true;
      stdin?.removeListener('data', onInput);
      a.socket.destroy();
      resolve(how);
    };
    const reader = new FrameReader((stream, payload) => (stream === 2 ? io.stderr : io.stdout).write(payload));
    a.socket.on('data', (d: Buffer) => reader.push(d));
    a.socket.on('close', () => finish('ended'));
    a.socket.on('error', () => finish('ended'));
    const onInput = (d: Buffer) => {
      // The detach sequence, possibly split over reads.
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
    if (stdin) {
      stdin.on('data', onInput);
      stdin.resume();
    }
  });
  return {
    done,
    resize: (rows, cols) => {
      if (!a.socket.destroyed) a.socket.write(resizeFrame(rows, cols));
    },
  };
}
