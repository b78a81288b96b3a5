/**
 * The wire of a detached container's attach socket (native/monitor.c): frames of an 8-byte header
 * (type or stream, three zero bytes, big-endian length) and a payload. From the monitor: output
 * on stream 1 (stdout, or the terminal) and 2 (stderr). To it: 0 input, 1 terminal size.
 */
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';

export const FRAME_MAX = 16384;
export const enum ToMonitor {
  Input = 0,
  Resize = 1,
}

export function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Input as frames no larger than the monitor takes. */
export function inputFrames(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += FRAME_MAX) out.push(frame(ToMonitor.Input, data.subarray(i, i + FRAME_MAX)));
  return out;
}

export function resizeFrame(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(Math.min(rows, 0xffff), 0);
  p.writeUInt16BE(Math.min(cols, 0xffff), 2);
  return frame(ToMonitor.Resize, p);
}

/** Splits a byte stream into frames, calling `on(stream, payload)` for each complete one. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly on: (stream: number, payload: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const n = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + n) break;
      this.on(this.buf[0]!, this.buf.subarray(8, 8 + n));
      this.buf = this.buf.subarray(8 + n);
    }
  }
}

/** Connects to a monitor's socket (through its directory's fd: the path may be longer than a socket address holds). */
export function connectAttach(path: string): Promise<Socket> {
  const dfd = openSync(dirname(path), fsc.O_RDONLY | fsc.O_DIRECTORY);
  return new Promise<Socket>((resolve, reject) => {
    const s = connect(`/proc/self/fd/${dfd}/${basename(path)}`);
    const done = () => {
      try {
        closeSync(dfd);
      } catch {
        /* closed */
      }
    };
    s.once('connect', () => {
      done();
      resolve(s);
    });
    s.once('error', (e) => {
      done();
      reject(e);
    });
  });
}
