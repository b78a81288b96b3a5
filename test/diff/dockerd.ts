/**
 * A dockerd of the test's own (Debian's docker.io), for side-by-side checks against berth: its
 * data, exec root, socket and pid file in a temporary directory, no iptables rules and no bridge,
 * so that it changes nothing on the host. `stop` ends it by its pid, unmounts what it left and
 * removes the directory.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface Dockerd {
  docker(args: string[], opts?: { input?: string | Buffer }): SpawnSyncReturns<string>;
  stop(): void;
}

export const dockerdPath = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
export const dockerCliPath = ['/usr/bin/docker', '/usr/local/bin/docker'].find((p) => existsSync(p));
/** The current docker CLI (28), where it is installed beside Debian's 20.10 one: its words are what users see today. */
export const modernDockerCliPath = ['/usr/local/bin/docker'].find((p) => existsSync(p));

/** Why a side-by-side test cannot run here, or undefined. */
export function dockerdSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!dockerdPath || !dockerCliPath) return 'docker.io is not installed (scripts/setup.sh installs it for the tests)';
  return undefined;
}

/** `cli`: the docker CLI to drive it with (default: dockerCliPath). */
export async function startDockerd(dir: string, opts: { cli?: string } = {}): Promise<Dockerd> {
  const cli = opts.cli ?? dockerCliPath!;
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  const daemon: ChildProcess = spawn(
    dockerdPath!,
    ['--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none', '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${sock}`, '--pidfile', join(dir, 'docker.pid'), '--log-level', 'error'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  daemon.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const docker = (args: string[], opts: { input?: string | Buffer } = {}) =>
    spawnSync(cli, ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', input: opts.input, timeout: 120_000, env: { ...process.env, DOCKER_CONFIG: join(dir, 'cli') } });
  const stop = () => {
    if (daemon.pid && daemon.exitCode === null) {
      // Its containers and networks first: a bridge of a network dockerd made outlives dockerd.
      const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) docker(['rm', '-f', ...ids]);
      const nets = docker(['network', 'ls', '-q', '--filter', 'type=custom']).stdout.split('\n').filter(Boolean);
      if (nets.length) docker(['network', 'rm', ...nets]);
      daemon.kill('SIGTERM');
      spawnSync('sh', ['-c', `for i in $(seq 150); do kill -0 ${daemon.pid} 2>/dev/null || exit 0; sleep 0.1; done; kill -9 ${daemon.pid}`]);
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir + '/')).sort().reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Up to 60 s for the daemon (and the containerd it starts) to answer.
  for (let i = 0; i < 600; i++) {
    if (daemon.exitCode !== null) break;
    if (existsSync(sock) && docker(['version', '--format', '{{.Server.Version}}']).status === 0) return { docker, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error(`dockerd did not start: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
}
