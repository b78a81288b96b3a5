/**
 * `npm run bench -- network`: TCP throughput (iperf3) container → container and host → a
 * published port on 127.0.0.1, and connections per second through a published port, for berth
 * and podman (rootful, its default netavark bridge) in one run, next to the kernel's own path: two
 * network namespaces and a veth pair made here (no bridge, no NAT). iperf3 and the connection
 * server run from the host inside each container's network namespace (nsenter), so every engine
 * is measured with the same binaries and only the network path differs. Traffic stays on this host:
 * loopback and the subnets of the bridges and namespaces involved.
 *
 * Docker runs in a network namespace of its own (a dockerd this benchmark starts there, with its
 * own data root and socket): its bridge needs --iptables, which would otherwise rewrite the host's
 * shared filter and nat tables (DOCKER* chains, the FORWARD policy) and leave them behind. Its
 * "host" side (the iperf3 and connection clients for published ports) runs in that namespace too.
 * Docker publishes 127.0.0.1 ports through its userland proxy (docker-proxy), its default.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthPackageRoot } from '../src/sys/paths.js';
import { hugetlbForPodman, median, table, timeCommand, which, type Row } from './common.js';

const secs = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// BENCH_ENGINES=berth,podman,docker (the default: all) picks the engines besides the kernel path.
const engines = new Set((process.env.BENCH_ENGINES ?? 'berth,podman,docker').split(','));
const work = mkdtempSync(join(tmpdir(), 'berth-bench-net-'));
const berthBin = join(berthPackageRoot(), 'bin', 'berth');
const berth = ['--root', join(work, 'berth'), '--runroot', join(work, 'berth-run')];
const podman = which('podman');
hugetlbForPodman(podman);
const pm = ['--root', join(work, 'podman', 'storage'), '--runroot', join(work, 'podman', 'run')];
const iperf = which('iperf3');
const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
const dockerCli = which('docker');
const dockerNs = join(work, 'docker-netns');
const dk = ['-H', `unix://${join(work, 'docker', 'docker.sock')}`];
const children: ChildProcess[] = [];

function ok(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(-6).join(' ')}: ${r.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ')}`);
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A server in a network namespace: iperf3 -s, and a tiny TCP server that answers and closes. */
async function servers(ns: string, iperfPort: number, connPort: number): Promise<void> {
  children.push(spawn('nsenter', [`--net=${ns}`, iperf!, '-s', '-p', String(iperfPort)], { stdio: 'ignore' }));
  children.push(spawn('nsenter', [`--net=${ns}`, process.execPath, '-e', `require('net').createServer((s) => { s.on('error', () => {}); s.end('x'); }).listen(${connPort})`], { stdio: 'ignore' }));
  await sleep(400);
}

/** iperf3 from a namespace (or the host) to host:port; Gbit/s received. */
// (the engine's "host": docker's is its own namespace)
let hostNs: string | undefined;
function throughput(ns: string | undefined, host: string, port: number): number {
  const args = [iperf!, '-c', host, '-p', String(port), '-t', String(secs), '-J'];
  let last = '';
  for (let i = 0; i < 20; i++) {
    const r = ns ? spawnSync('nsenter', [`--net=${ns}`, ...args], { encoding: 'utf8' }) : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (r.status === 0) return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
    last = (r.stdout + r.stderr).slice(0, 200);
    spawnSync('sleep', ['0.2']);
  }
  throw new Error(`iperf3 to ${host}:${port}: ${last}`);
}

/** Connections per second from the host (or a namespace) to host:port: a client process. */
function connRate(host: string, port: number, ns?: string): number {
  const script = `(${connLoop.toString()})(${JSON.stringify(host)}, ${port}, ${secs}).then((r) => process.stdout.write(String(r)), (e) => { process.stderr.write(String(e)); process.exitCode = 1; })`;
  const args = [process.execPath, '-e', script];
  const r = ns ? spawnSync('nsenter', [`--net=${ns}`, ...args], { encoding: 'utf8' }) : spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`connections to ${host}:${port}: ${r.stderr.slice(0, 200)}`);
  return Number(r.stdout);
}

/** 8 loops, each connect → read → close, for `secs`; connections per second. Runs in a child. */
async function connLoop(host: string, port: number, secs: number): Promise<number> {
  const { connect } = await import('node:net');
  const end = Date.now() + secs * 1000;
  let n = 0;
  let failed = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const s = connect({ host, port });
      s.on('data', () => s.destroy());
      s.on('close', () => resolve());
      s.on('error', () => {
        failed++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        await one();
        n++;
      }
    }),
  );
  if (failed > n / 2) throw new Error(`connections to ${host}:${port} failed (${failed} of ${n})`);
  return (n - failed) / secs;
}

interface Result {
  c2c?: number;
  pub?: number;
  conns?: number;
  error?: string;
}
/** Each round's figures, per path. */
const all: Record<string, Result[]> = {};
const fresh = (name: string): Result => {
  const r: Result = {};
  (all[name] ??= []).push(r);
  return r;
};

let round = 0;
async function engineRun(name: string, bin: string, pre: string[]): Promise<void> {
  const res = fresh(name);
  const [srv, cli] = [`srv${round}`, `cli${round}`];
  hostNs = name === 'docker' ? dockerNs : undefined;
  const ip = name === 'berth' ? '{{.NetworkSettings.Networks.bridge.IPAddress}}' : '{{.NetworkSettings.IPAddress}}';
  const pid = (c: string) => ok(bin, [...pre, 'inspect', '--format', '{{.State.Pid}}', c]).trim();
  const [ipPort, connPort] = [await freePort(), await freePort()];
  try {
    ok(bin, [...pre, 'run', '-d', '--name', srv, '-p', `127.0.0.1:${ipPort}:5201`, '-p', `127.0.0.1:${connPort}:7000`, 'busybox', 'sleep', '600']);
    ok(bin, [...pre, 'run', '-d', '--name', cli, 'busybox', 'sleep', '600']);
    const srvNs = `/proc/${pid(srv)}/ns/net`;
    const cliNs = `/proc/${pid(cli)}/ns/net`;
    const srvIp = ok(bin, [...pre, 'inspect', '--format', ip, srv]).trim();
    await servers(srvNs, 5201, 7000);
    res.c2c = throughput(cliNs, srvIp, 5201);
    res.pub = throughput(hostNs, '127.0.0.1', ipPort);
    res.conns = connRate('127.0.0.1', connPort, hostNs);
  } catch (e) {
    res.error = (e as Error).message.slice(0, 200);
  } finally {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    spawnSync(bin, [...pre, 'rm', '-f', ...(name === 'podman' ? ['-t', '0'] : []), srv, cli], { stdio: 'ignore' });
  }
}

/** The kernel's path: namespaces a and b joined by a veth pair; the host reaches a by another one. */
async function kernelRun(): Promise<void> {
  const res = fresh('kernel');
  const tag = process.pid.toString(16).slice(-4);
  const a = join(work, 'ns-a');
  const b = join(work, 'ns-b');
  writeFileSync(a, '');
  writeFileSync(b, '');
  const script = [
    `unshare --net=${a} true`,
    `unshare --net=${b} true`,
    `ip link add bka${tag} type veth peer name eth0 netns ${a}`,
    `ip link add bkb${tag} netns ${b} type veth peer name eth1 netns ${a}`,
    `ip addr add 10.254.77.1/30 dev bka${tag}`,
    `ip link set bka${tag} up`,
    `nsenter --net=${a} sh -c 'ip link set lo up; ip addr add 10.254.77.2/30 dev eth0; ip link set eth0 up; ip addr add 10.254.78.1/30 dev eth1; ip link set eth1 up'`,
    `nsenter --net=${b} sh -c 'ip link set lo up; ip link set bkb${tag} name eth0; ip addr add 10.254.78.2/30 dev eth0; ip link set eth0 up'`,
  ].join(' && ');
  try {
    ok('sh', ['-c', script]);
    await servers(a, 5201, 7000);
    res.c2c = throughput(b, '10.254.78.1', 5201);
    res.pub = throughput(undefined, '10.254.77.2', 5201);
    res.conns = connRate('10.254.77.2', 7000);
  } catch (e) {
    res.error = (e as Error).message.slice(0, 200);
  } finally {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    spawnSync('sh', ['-c', `ip link del bka${tag} 2>/dev/null; umount ${a} ${b} 2>/dev/null`]);
  }
}

if (!iperf) {
  console.log('network benchmark: iperf3 is not installed (scripts/setup.sh installs it)');
  process.exit(0);
}
ok(berthBin, [...berth, 'starter']);
const archive = join(work, 'busybox.tar');
ok(berthBin, [...berth, 'save', '-o', archive, 'busybox']);
console.log(`network benchmark: iperf3 ${secs} s per figure, connections ${secs} s (8 at a time), ${rounds} rounds interleaved, medians; all on this host\n`);
let podmanError = !engines.has('podman') ? 'not asked for (BENCH_ENGINES)' : podman ? '' : 'podman not installed';
if (podman) {
  try {
    ok(podman, [...pm, 'load', '-i', archive]);
  } catch (e) {
    podmanError = (e as Error).message.slice(0, 200);
  }
}
let docker: ChildProcess | undefined;
let dockerError = !engines.has('docker') ? 'not asked for (BENCH_ENGINES)' : dockerd && dockerCli ? '' : 'docker (docker.io) not installed';
if (!dockerError) {
  try {
    writeFileSync(dockerNs, '');
    ok('unshare', [`--net=${dockerNs}`, 'true']);
    ok('nsenter', [`--net=${dockerNs}`, 'ip', 'link', 'set', 'lo', 'up']);
    docker = spawn('nsenter', [`--net=${dockerNs}`, dockerd!, '--data-root', join(work, 'docker', 'data'), '--exec-root', join(work, 'docker', 'exec'), ...dk, '--pidfile', join(work, 'docker', 'docker.pid')], { stdio: 'ignore' });
    for (let i = 0; i < 150 && spawnSync(dockerCli!, [...dk, 'version'], { stdio: 'ignore' }).status !== 0; i++) await sleep(100);
    ok(dockerCli!, [...dk, 'load', '-i', archive]);
  } catch (e) {
    dockerError = (e as Error).message.slice(0, 200);
  }
}
// Each round runs the paths in another order (rotated), so that no path always follows the same
// one (and whatever it leaves the host busy with).
const paths: (() => Promise<void>)[] = [kernelRun, () => engineRun('berth', berthBin, berth)];
if (!podmanError) paths.push(() => engineRun('podman', podman!, pm));
if (!dockerError) paths.push(() => engineRun('docker', dockerCli!, dk));
for (let i = 0; i < rounds; i++) {
  for (let j = 0; j < paths.length; j++) await paths[(i + j) % paths.length]!();
  round++;
}
// `run --rm busybox true` on each engine's default network (a namespace, a veth, an address, and
// all of it removed again), interleaved.
const runs = Number(process.env.BENCH_RUNS ?? 10);
const runRows: Row[] = [{ name: 'berth run --rm busybox true (bridge)', times: [] }, { name: 'podman run --rm busybox true (bridge)', times: [] }, { name: 'docker run --rm busybox true (bridge)', times: [] }];
if (podmanError) runRows[1]!.error = podmanError;
if (dockerError) runRows[2]!.error = dockerError;
for (let i = 0; i < runs; i++) {
  const cmds: [Row, string, string[]][] = [
    [runRows[0]!, berthBin, [...berth, 'run', '--rm', 'busybox', 'true']],
    [runRows[1]!, podman ?? '', [...pm, 'run', '--rm', 'busybox', 'true']],
    [runRows[2]!, dockerCli ?? '', [...dk, 'run', '--rm', 'busybox', 'true']],
  ];
  for (const [row, cmd, args] of cmds) {
    if (row.error) continue;
    try {
      row.times.push(timeCommand(cmd, args));
    } catch (e) {
      row.error = (e as Error).message.slice(0, 160);
    }
  }
}

const med = (rs: Result[], k: 'c2c' | 'pub' | 'conns') => {
  const xs = rs.map((r) => r[k]).filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};
const results: Record<string, Result> = {};
for (const [name, rs] of Object.entries(all)) {
  // A round that failed is reported; the medians are of the rounds that worked.
  for (const r of rs) if (r.error) console.log(`${name}: a round failed: ${r.error}`);
  const good = rs.filter((r) => !r.error);
  results[name] = good.length === 0 ? { error: rs[0]!.error } : { c2c: med(good, 'c2c'), pub: med(good, 'pub'), conns: med(good, 'conns') };
}
if (podmanError) results.podman = { error: podmanError };
if (dockerError) results.docker = { error: dockerError };

const f = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
const k = results.kernel!;
console.log(`${'path'.padEnd(10)} ${'ctr→ctr Gbit/s'.padStart(15)} ${'host→published Gbit/s'.padStart(22)} ${'conn/s published'.padStart(17)}   ratios to the kernel path`);
for (const [name, r] of Object.entries(results)) {
  if (r.error) {
    console.log(`${name.padEnd(10)} ${r.error}`);
    continue;
  }
  const ratio = name === 'kernel' ? '' : `   ${f(r.c2c! / k.c2c!)} / ${f(r.pub! / k.pub!)} / ${f(r.conns! / k.conns!)}`;
  console.log(`${name.padEnd(10)} ${f(r.c2c).padStart(15)} ${f(r.pub).padStart(22)} ${f(r.conns, 0).padStart(17)}${ratio}`);
}
// The spread: each round's figures over the same round's kernel path (the rounds interleave).
console.log(`\nper round, to that round's kernel path (ctr→ctr / host→published / conn/s):`);
for (const [name, rs] of Object.entries(all)) {
  if (name === 'kernel') continue;
  const paired = rs.map((r, i) => {
    const kr = all.kernel?.[i];
    return r.error || !kr || kr.error ? undefined : [r.c2c! / kr.c2c!, r.pub! / kr.pub!, r.conns! / kr.conns!];
  });
  const line = paired.map((x) => (x ? x.map((v) => f(v)).join('/') : '-'));
  const ok = paired.filter((x): x is number[] => x !== undefined);
  // (the median of these paired ratios is steadier than the ratio of medians when the host's speed drifts)
  const mid = ok.length ? ` (median ${[0, 1, 2].map((j) => f(median(ok.map((x) => x[j]!)))).join('/')})` : '';
  console.log(`${name.padEnd(10)} ${line.join('  ')}${mid}`);
}
const b = results.berth!;
const p = results.podman!;
if (!b.error && !p.error) console.log(`\nberth / podman: ctr→ctr ${f(b.c2c! / p.c2c!)}, host→published ${f(b.pub! / p.pub!)}, conn/s ${f(b.conns! / p.conns!)}`);
const d = results.docker!;
if (!b.error && !d.error) console.log(`berth / docker: ctr→ctr ${f(b.c2c! / d.c2c!)}, host→published ${f(b.pub! / d.pub!)}, conn/s ${f(b.conns! / d.conns!)}`);
console.log(`\n${table(runRows, 'podman run --rm busybox true (bridge)')}\n`);
console.log('(kernel: two namespaces joined by a veth pair, and the host → a namespace over a veth; no bridge, no NAT;');
console.log(' docker: dockerd in a network namespace of its own, 127.0.0.1 ports through its docker-proxy)');

ok(berthBin, [...berth, 'network', 'prune', '-f']);
// Everything of berth's root goes, and nothing of it stays on the host.
spawnSync(berthBin, [...berth, 'system', 'reset', '-f'], { stdio: 'ignore' });
if (podman) {
  // rm first: it tears down each container's network (netavark); reset alone can leave that behind.
  spawnSync(podman, [...pm, 'rm', '-a', '-f', '-t', '0'], { stdio: 'ignore' });
  spawnSync(podman, [...pm, 'system', 'reset', '-f'], { stdio: 'ignore' });
}
if (docker) {
  try {
    process.kill(Number(readFileSync(join(work, 'docker', 'docker.pid'), 'utf8')), 'SIGTERM');
  } catch {
    docker.kill('SIGTERM');
  }
  await new Promise((r) => docker!.once('exit', r));
  spawnSync('sh', ['-c', `grep ' ${work}' /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l`]);
}
rmSync(work, { recursive: true, force: true });
