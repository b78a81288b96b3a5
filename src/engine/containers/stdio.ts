/** The caller's streams (ContainerStdio) as the runtime's stdio for a container's fds 0-2. */
import type { StdioOptions } from 'node:child_process';
import type { ContainerStdio } from './types.js';

/**
 * Streams with an fd of their own are passed down as it by the helper; the rest it relays. A
 * detached process outlives the call: nothing is relayed to it (such streams are /dev/null).
 */
export function helperStdio(io: ContainerStdio | undefined, o: { detached?: boolean } = {}): StdioOptions {
  if (!io) return ['ignore', 'ignore', 'ignore'];
  const streams = [io.stdin, io.stdout, io.stderr];
  return streams.map((x) => (x === undefined || (o.detached && typeof (x as { fd?: unknown }).fd !== 'number') ? 'ignore' : x));
}
