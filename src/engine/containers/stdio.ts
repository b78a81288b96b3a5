/** The caller's streams (ContainerStdio) as the runtime's stdio for a container's fds 0-2. */
import type { StdioOptions } from 'node:child_process';
import type { ContainerStdio } from './types.js';

/** Streams with an fd of their own are passed down as it by the helper; the rest it relays. */
export function helperStdio(io: ContainerStdio | undefined): StdioOptions {
  if (!io) return ['ignore', 'ignore', 'ignore'];
  return [io.stdin ?? 'ignore', io.stdout, io.stderr];
}
