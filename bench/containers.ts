/**
 * `npm run bench -- containers`: `run --rm --network none busybox true` end to end, berth side by
 * side with podman and docker (a dockerd this benchmark starts on its own socket, if installed),
 * interleaved, medians; and `ps -a` / `image inspect` latency. Detached containers (memory per
 * container, 500 containers) come with `run -d`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthPackageRoot } from '../src/sys/paths.js';
import { median, table, timeCommand, which, type Row } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 20);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-ctr-'));
const berthBin = join(berthPackageRoot(), 'bin', 'berth');
const berth = ['--root', join(work, 'berth'), '--runroot', join(work, 'berth-run')];
const podman = which('podman');
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

const steps: [Row, () => number][] = [
  [bRun, () => timeCommand(berthBin, [...berth, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [pRun, () => timeCommand(podman!, [...pm, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [dRun, () => timeCommand(dockerCli!, [...dk, 'run', '--rm', '--network', 'none', 'busybox', 'true'])],
  [bPs, () => timeCommand(berthBin, [...berth, 'ps', '-a'])],
  [pPs, () => timeCommand(podman!, [...pm, 'ps', '-a'])],
  [bIns, () => timeCommand(berthBin, [...berth, 'image', 'inspect', 'busybox'])],
  [pIns, () => timeCommand(podman!, [...pm, 'image', 'inspect', 'busybox'])],
];
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
console.log(table([bPs, pPs, bIns, pIns], 'podman ps -a'));
const ratio = (a: Row, b: Row) => (a.times.length && b.times.length ? (median(a.times) / median(b.times)).toFixed(2) : 'n/a');
console.log(`\nrun: berth / podman ${ratio(bRun, pRun)} (target ≤ 0.50), berth / docker ${ratio(bRun, dRun)}; ps: ${ratio(bPs, pPs)}; image inspect: ${ratio(bIns, pIns)}`);

if (podman) spawnSync(podman, [...pm, 'system', 'reset', '-f'], { stdio: 'ignore' });
if (daemon) {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon!.once('exit', r));
  spawnSync('sh', ['-c', `grep ' ${work}' /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l`]);
}
rmSync(work, { recursive: true, force: true });
