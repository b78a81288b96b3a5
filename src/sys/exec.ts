/** Running the host's tools (ip, nft, unshare, nsenter) synchronously, with their error text. */
import { spawnSync } from 'node:child_process';

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function execTool(cmd: string, args: readonly string[], input?: string): ExecResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) return { status: 127, stdout: '', stderr: `${cmd}: ${r.error.message}` };
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True when `cmd` is an executable on PATH (or an absolute path). */
export function haveTool(cmd: string): boolean {
  return execTool('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
