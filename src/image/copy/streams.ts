/** Stream helpers of the copy pipeline. */
import type { PassThrough, Readable } from 'node:stream';

/** Copies one stream into two, going at the pace of the slower one; an error reaches both. */
export function tee(src: Readable, a: PassThrough, b: PassThrough): void {
  let waiting = 0;
  const resume = () => {
    if (--waiting === 0) src.resume();
  };
  src.on('data', (chunk: Buffer) => {
    const okA = a.write(chunk);
    const okB = b.write(chunk);
    if (!okA) (waiting++, a.once('drain', resume));
    if (!okB) (waiting++, b.once('drain', resume));
    if (waiting > 0) src.pause();
  });
  src.on('end', () => {
    a.end();
    b.end();
  });
  src.on('error', (e: Error) => {
    a.destroy(e);
    b.destroy(e);
  });
}

/** Resolves with the first chunk of `src` (empty at its end), taken out of it: `replay` puts it back in front of the rest. */
export async function peek(src: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = src.read() as Buffer | null;
      if (chunk === null) return;
      src.off('readable', onReadable);
      src.off('end', onEnd);
      src.off('error', reject);
      resolve(chunk);
    };
    const onEnd = () => resolve(Buffer.alloc(0));
    src.on('readable', onReadable);
    src.once('end', onEnd);
    src.once('error', reject);
  });
}

/** Writes `first` and then the rest of `src` into `dest`. */
export function replay(src: Readable, first: Buffer, dest: PassThrough): void {
  if (first.length) dest.write(first);
  src.on('error', (e) => dest.destroy(e));
  src.pipe(dest);
}
