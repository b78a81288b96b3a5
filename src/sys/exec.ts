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
  // BERTH_TOOL_PATH: exactly where to look (a host whose tools live elsewhere; tests of a host that lacks them).
  if (process.env.BERTH_TOOL_PATH !== undefined) return (toolEnv = { ...process.env, PATH: process.env.BERTH_TOOL_PATH });
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (!dirs.includes(d)) dirs.push(d);
  return (toolEnv = { ...process.env, PATH: dirs.join(':') });
}

/** The Debian package of each host tool berth runs, for the error when one is missing. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  tc: 'iproute2',
  nft: 'nftables',
  iptables: 'iptables',
  'iptables-restore': 'iptables',
  'iptables-save': 'iptables',
  tar: 'tar',
  cp: 'coreutils',
  unshare: 'util-linux',
  nsenter: 'util-linux',
};

export function execTool(cmd: string, args: readonly string[], input?: string): ExecResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', env: env(), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    const pkg = TOOL_PACKAGES[cmd];
    return { status: 127, stdout: '', stderr: missing ? `${cmd}: command not found${pkg ? ` (install the Debian package ${pkg})` : ''}` : `${cmd}: ${r.error.message}` };
  }
  return { status: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** True when `cmd` is an executable on PATH (or an absolute path). */
export function haveTool(cmd: string): boolean {
  return execTool('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
