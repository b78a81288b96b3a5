/**
 * `npm run bench -- containers`: `run --rm --network none busybox true` end to end, berth side by
 * side with podman and docker (a dockerd this benchmark starts on its own socket, if installed),
 * interleaved, medians; and `ps -a` / `image inspect` latency. Detached containers (memory per
 * container, 500 containers) come with `run -d`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthPackageRoot } from '../src/sys/paths.js';
import { hugetlbForPodman, median, table, timeCommand, which, type Row } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-ctr-'));
const berthBin = join(berthPackageRoot(), 'bin', 'berth');
const berth = ['--root', join(work, 'berth'), '--runroot', join(work, 'berth-run')];
const podman = which('podman');
let cleaned = false;
hugetlbForPodman(podman, cleanup);
const pm = ['--root', join(work, 'podman', 'storage'), '--runroot', join(work, 'podman', 'run')];
const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
const dockerCli = which('docker');
const sock = join(work, 'docker', 'docker.sock');
const dk = ['-H', `unix://${sock}`];

function ok(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim().split('\n').pop()}`);
}

// The same busybox image everywhere: berth's starter, saved and loaded into the others.
ok(berthBin, [...berth, 'starter']);
const archive = join(work, 'busybox.tar');
ok(berthBin, [...berth, 'save', '-o', archive, 'busybox']);
const rows: Row[] = [];
const row = (name: string): Row => {
  const r: Row = { name, times: [] };
  rows.push(r);
  return r;
};
const bRun = row('berth run --rm --network none busybox true');
const pRun = row('podman run --rm --network none busybox true');
const dRun = row('docker run --rm --network none busybox true');
const bPs = row('berth ps -a');
const pPs = row('podman ps -a');
const bIns = row('berth image inspect busybox');
const pIns = row('podman image inspect busybox');
const bExec = row('berth exec (running container) true');
const pExec = row('podman exec (running container) true');
const bCommit = row('berth commit');
const pCommit = row('podman commit');
let daemon: ReturnType<typeof spawn> | undefined;
if (podman) {
  try {
    ok(podman, [...pm, 'load', '-i', archive]);
  } catch (e) {
    for (const r of [pRun, pPs, pIns]) r.error = (e as Error).message.slice(0, 120);
  }
} else for (const r of [pRun, pPs, pIns]) r.error = 'podman not installed';
if (dockerd && dockerCli) {
  daemon = spawn(dockerd, ['--iptables=false', '--ip-masq=false', '--bridge=none', '--data-root', join(work, 'docker', 'data'), '--exec-root', join(work, 'docker', 'exec'), '-H', `unix://${sock}`, '--pidfile', join(work, 'docker', 'docker.pid')], { stdio: 'ignore' });
  for (let i = 0; i < 150 && spawnSync(dockerCli, [...dk, 'version'], { stdio: 'ignore' }).status !== 0; i++) await sleep(100);
  try {
    ok(dockerCli, [...dk, 'load', '-i', archive]);
  } catch (e) {
    dRun.error = (e as Error).message.slice(0, 120);
  }
} else dRun.error = 'docker (docker.io) not installed';

// One running container each, for exec and commit.
ok(berthBin, [...berth, 'run', '-d', '--network', 'none', '--name', 'execme', 'busybox', 'sleep', '600']);
if (podman && !pRun.error) ok(podman, [...pm, 'run', '-d', '--network', 'none', '--name', 'execme', 'busybox', 'sleep', '600']);
let commits = 0;
const steps: [Row, () => number][] = [
  [bExec, () => timeCommand(berthBin, [...berth, 'exec', 'execme', 'true'])],
  [pExec, () => timeCommand(podman!, [...pm, 'exec', 'execme', 'true'])],
  [bCommit, () => timeCommand(berthBin, [...berth, 'commit', 'execme', `c:${commits++}`])],
  [pCommit, () => timeCommand(podman!, [...pm, 'commit', '-q', 'execme', `c:${commits++}`])],
  [bRun, () => timeCommand(berthBin, [...berth, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [pRun, () => timeCommand(podman!, [...pm, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [dRun, () => timeCommand(dockerCli!, [...dk, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [bPs, () => timeCommand(berthBin, [...berth, 'ps', '-a'])],
  [pPs, () => timeCommand(podman!, [...pm, 'ps', '-a'])],
  [bIns, () => timeCommand(berthBin, [...berth, 'image', 'inspect', 'busybox'])],
  [pIns, () => timeCommand(podman!, [...pm, 'image', 'inspect', 'busybox'])],
];
for (const r of [pExec, pCommit]) if (pRun.error) r.error = pRun.error;
for (let i = 0; i < runs + 2; i++) {
  for (const [r, f] of [...steps].sort(() => Math.random() - 0.5)) {
    if (r.error) continue;
    try {
      const t = f();
      if (i >= 2) r.times.push(t);
    } catch (e) {
      r.error = (e as Error).message.slice(0, 160);
    }
  }
}
console.log(`containers benchmark: ${runs} runs each, interleaved, medians`);
console.log(table([bRun, pRun, dRun], 'podman run --rm --network none busybox true'));
console.log('');
console.log(table([bPs, pPs, bIns, pIns, bExec, pExec, bCommit, pCommit], 'podman ps -a'));
const ratio = (a: Row, b: Row) => (a.times.length && b.times.length ? (median(a.times) / median(b.times)).toFixed(2) : 'n/a');
console.log(`\nrun: berth / podman ${ratio(bRun, pRun)} (target ≤ 0.50), berth / docker ${ratio(bRun, dRun)}; ps: ${ratio(bPs, pPs)}; image inspect: ${ratio(bIns, pIns)}; exec: ${ratio(bExec, pExec)}; commit: ${ratio(bCommit, pCommit)}`);

// (b) and (c): many idle detached containers; host memory of what keeps each one (berth's
// monitor, podman's conmon), and the time to start, list and remove them all.
const many = Number(process.env.BENCH_MANY ?? 500);
function memOf(pids: number[]): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    try {
      const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return { rss, pss };
}
function pidsOf(comm: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
}
function fleet(name: string, bin: string, pre: string[], monitorComm: string, rm: string[]): string {
  const before = new Set(pidsOf(monitorComm));
  const t0 = Date.now();
  for (let i = 0; i < many; i++) ok(bin, [...pre, 'run', '-d', '--network', 'none', '--name', `idle${i}`, 'busybox', 'sleep', '3600']);
  const tStart = (Date.now() - t0) / 1000;
  const monitors = pidsOf(monitorComm).filter((p) => !before.has(p));
  const m = memOf(monitors);
  const t1 = Date.now();
  ok(bin, [...pre, 'ps', '-a']);
  const tPs = (Date.now() - t1) / 1000;
  const t2 = Date.now();
  const ids = spawnSync(bin, [...pre, 'ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (let i = 0; i < ids.length; i += 50) ok(bin, [...pre, ...rm, ...ids.slice(i, i + 50)]);
  const tRm = (Date.now() - t2) / 1000;
  const n = monitors.length || 1;
  return `${name.padEnd(8)} ${many} containers: start ${tStart.toFixed(1)} s, ps ${tPs.toFixed(2)} s, rm all ${tRm.toFixed(1)} s; ${monitors.length} ${monitorComm} processes, per container ${(m.rss / n / 1024).toFixed(2)} MB RSS / ${(m.pss / n / 1024).toFixed(2)} MB PSS (total ${(m.rss / 1024).toFixed(1)} MB RSS)`;
}
if (many > 0) {
  ok(berthBin, [...berth, 'rm', '-f', 'execme']);
  console.log(`\n(b, c) ${many} idle detached containers`);
  try {
    console.log(fleet('berth', berthBin, berth, 'berth-helper', ['rm', '-f']));
  } catch (e) {
    console.log(`berth    failed: ${(e as Error).message.slice(0, 160)}`);
  }
  if (podman && !pRun.error) {
    spawnSync(podman, [...pm, 'rm', '-f', 'execme'], { stdio: 'ignore' });
    try {
      console.log(fleet('podman', podman, pm, 'conmon', ['rm', '-f', '-t', '0']));
    } catch (e) {
      console.log(`podman   failed: ${(e as Error).message.slice(0, 160)}`);
    }
  }
}

cleanup();

/**
 * Removes what the benchmark made: berth's and podman's containers, the dockerd it started and
 * its mounts, the work directory. Synchronous, so that it also runs at exit after a failure.
 */
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  spawnSync(berthBin, [...berth, 'rm', '-f', 'execme'], { stdio: 'ignore' });
  // Whatever a failed round left running goes first (reset alone can leave containers behind).
  for (const id of spawnSync(berthBin, [...berth, 'ps', '-aq'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) spawnSync(berthBin, [...berth, 'rm', '-f', id], { stdio: 'ignore' });
  spawnSync(berthBin, [...berth, 'network', 'prune', '-f'], { stdio: 'ignore' });
  // Everything of berth's root goes, and nothing of it stays on the host.
  spawnSync(berthBin, [...berth, 'system', 'reset', '-f'], { stdio: 'ignore' });
  if (podman) {
    spawnSync(podman, [...pm, 'rm', '-a', '-f', '-t', '0'], { stdio: 'ignore' });
    spawnSync(podman, [...pm, 'system', 'reset', '-f'], { stdio: 'ignore' });
  }
  if (daemon?.pid && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    spawnSync('sh', ['-c', `for i in $(seq 100); do kill -0 ${daemon.pid} 2>/dev/null || exit 0; sleep 0.1; done`]);
  }
  if (daemon) spawnSync('sh', ['-c', `grep ' ${work}' /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l`]);
  rmSync(work, { recursive: true, force: true });
}
