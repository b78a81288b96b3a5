/**
 * `npm run bench -- network`: TCP throughput (iperf3) container → container and host → a
 * published port on 127.0.0.1, and connections per second through a published port, for berth
 * and podman (rootful, its default netavark bridge) in one run, next to the kernel's own path: two
 * network namespaces and a veth pair made here (no bridge, no NAT). iperf3 and the connection
 * server run from the host inside each container's network namespace (nsenter), so every engine
 * is measured with the same binaries and only the network path differs. Traffic stays on this host:
 * loopback and the subnets of the bridges and namespaces involved.
 *
 * Docker is left out: its bridge needs dockerd with --iptables, which rewrites the host's shared
 * filter and nat tables (DOCKER* chains, and the FORWARD policy set to DROP) and leaves them there
 * when it stops; on a host shared with other work that breaks podman's and berth's forwarding.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { berthPackageRoot } from '../src/sys/paths.js';
import { median, which } from './common.js';

const secs = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const work = mkdtempSync(join(tmpdir(), 'berth-bench-net-'));
const berthBin = join(berthPackageRoot(), 'bin', 'berth');
const berth = ['--root', join(work, 'berth'), '--runroot', join(work, 'berth-run')];
const podman = which('podman');
const pm = ['--root', join(work, 'podman', 'storage'), '--runroot', join(work, 'podman', 'run')];
const iperf = which('iperf3');
const children: ChildProcess[] = [];

function ok(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim().split('\n').pop()}`);
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

/** Connections per second from the host to host:port, 8 at a time, each connect → read → close. */
async function connRate(host: string, port: number): Promise<number> {
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

async function engineRun(name: string, bin: string, pre: string[]): Promise<void> {
  const res = fresh(name);
  const ip = name === 'berth' ? '{{.NetworkSettings.Networks.bridge.IPAddress}}' : '{{.NetworkSettings.IPAddress}}';
  const pid = (c: string) => ok(bin, [...pre, 'inspect', '--format', '{{.State.Pid}}', c]).trim();
  const [ipPort, connPort] = [await freePort(), await freePort()];
  try {
    ok(bin, [...pre, 'run', '-d', '--name', 'srv', '-p', `127.0.0.1:${ipPort}:5201`, '-p', `127.0.0.1:${connPort}:7000`, 'busybox', 'sleep', '600']);
    ok(bin, [...pre, 'run', '-d', '--name', 'cli', 'busybox', 'sleep', '600']);
    const srvNs = `/proc/${pid('srv')}/ns/net`;
    const cliNs = `/proc/${pid('cli')}/ns/net`;
    const srvIp = ok(bin, [...pre, 'inspect', '--format', ip, 'srv']).trim();
    await servers(srvNs, 5201, 7000);
    res.c2c = throughput(cliNs, srvIp, 5201);
    res.pub = throughput(undefined, '127.0.0.1', ipPort);
    res.conns = await connRate('127.0.0.1', connPort);
  } catch (e) {
    res.error = (e as Error).message.slice(0, 200);
  } finally {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    spawnSync(bin, [...pre, 'rm', '-f', 'srv', 'cli'], { stdio: 'ignore' });
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
    res.conns = await connRate('10.254.77.2', 7000);
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
let podmanError = podman ? '' : 'podman not installed';
if (podman) {
  try {
    ok(podman, [...pm, 'load', '-i', archive]);
  } catch (e) {
    podmanError = (e as Error).message.slice(0, 200);
  }
}
for (let i = 0; i < rounds; i++) {
  await kernelRun();
  await engineRun('berth', berthBin, berth);
  if (!podmanError) await engineRun('podman', podman!, pm);
}
const med = (rs: Result[], k: 'c2c' | 'pub' | 'conns') => {
  const xs = rs.map((r) => r[k]).filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
};
const results: Record<string, Result> = {};
for (const [name, rs] of Object.entries(all)) {
  const err = rs.find((r) => r.error)?.error;
  results[name] = err ? { error: err } : { c2c: med(rs, 'c2c'), pub: med(rs, 'pub'), conns: med(rs, 'conns') };
}
if (podmanError) results.podman = { error: podmanError };
results.docker = { error: 'skipped: its bridge needs dockerd --iptables, which rewrites the shared host firewall (see bench/network.ts)' };

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
const b = results.berth!;
const p = results.podman!;
if (!b.error && !p.error) console.log(`\nberth / podman: ctr→ctr ${f(b.c2c! / p.c2c!)}, host→published ${f(b.pub! / p.pub!)}, conn/s ${f(b.conns! / p.conns!)}`);
console.log('(kernel: two namespaces joined by a veth pair, and the host → a namespace over a veth; no bridge, no NAT)');

ok(berthBin, [...berth, 'network', 'prune', '-f']);
if (podman) spawnSync(podman, [...pm, 'system', 'reset', '-f'], { stdio: 'ignore' });
rmSync(work, { recursive: true, force: true });
