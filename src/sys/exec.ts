/** Running the host's tools (ip, nft, unshare, nsenter) synchronously, with their error text. */
import { spawnSync } from 'node:child_process';

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment for the tools: PATH with the sbin directories (ip, nft, iptables live there),
 * also when berth runs with an empty environment (a monitor's exit command).
 */
let toolEnv: NodeJS.ProcessEnv | undefined;
function env(): NodeJS.ProcessEnv {
  if (toolEnv) return toolEnv;
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
  return (toolEnv = { ...process.env, PATH: dirs.join(':') });
}

export function execTool(cmd: string, args: readonly string[], input?: string): ExecResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: env(), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) return { status: 127, stdout: '', stderr: `${cmd}: ${r.error.message}` };
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True when `cmd` is an executable on PATH (or an absolute path). */
export function haveTool(cmd: string): boolean {
  return execTool('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
