/**
 * `npm run bench -- build`: a Dockerfile FROM busybox with a COPY of one 50 MB file, a COPY of
 * 2,000 small files and three RUN steps, built cold (empty cache), again with nothing changed,
 * and again with one small file changed; berth side by side with BuildKit (Debian's docker.io
 * 20.10 and its own CLI, DOCKER_BUILDKIT=1, a dockerd this benchmark starts on its own socket)
 * and `podman build` (buildah), in the same run. Every tool starts from the same busybox image
 * (berth's starter, loaded through `berth save`). RUN steps use --network none: no traffic.
 *
 * BENCH_RUNS (default 3) rounds; BENCH_DIR (default /var/tmp) holds the work directory, on disk
 * like a real build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { berthPackageRoot } from '../src/sys/paths.js';
import { hugetlbForPodman, median, ms, which } from './common.js';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const base = process.env.BENCH_DIR ?? '/var/tmp';
mkdirSync(base, { recursive: true });
const work = mkdtempSync(join(base, 'berth-bench-build-'));
const berthBin = join(berthPackageRoot(), 'bin', 'berth');
const berth = [berthBin, '--root', join(work, 'berth', 'root'), '--runroot', join(work, 'berth', 'run')];
const podman = which('podman');
hugetlbForPodman(podman);
const pm = podman ? [podman, '--root', join(work, 'podman', 'storage'), '--runroot', join(work, 'podman', 'run')] : undefined;
const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
// Debian's 20.10 client has BuildKit built in; the docker 28 client first on PATH needs buildx.
const dockerCli = ['/usr/bin/docker'].find((p) => existsSync(p));

function ok(cmd: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 26, env: env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')}: exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function timed(cmd: string[], env?: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  ok(cmd, env);
  return ms(process.hrtime.bigint() - t0);
}

// The context: 2,000 small files, one 50 MB file of random bytes, the Dockerfile.
const ctx = join(work, 'context');
mkdirSync(join(ctx, 'small'), { recursive: true });
for (let i = 0; i < 2000; i++) writeFileSync(join(ctx, 'small', `f${String(i).padStart(4, '0')}.txt`), `small file ${i}\n`.repeat(1 + (i % 20)));
const big = Buffer.alloc(50 * 1024 * 1024);
randomFillSync(big);
writeFileSync(join(ctx, 'big.bin'), big);
writeFileSync(
  join(ctx, 'Dockerfile'),
  ['FROM busybox:latest', 'COPY big.bin /data/big.bin', 'COPY small/ /data/small/', 'RUN cat /data/small/* | wc -c > /data/small.count', 'RUN md5sum /data/big.bin > /data/big.md5', 'RUN echo built > /data/done', 'CMD ["cat", "/data/done"]'].join('\n') + '\n',
);
const changed = join(ctx, 'small', 'f1000.txt');
const original = readFileSync(changed);

// The same busybox for everyone.
ok([...berth, 'starter']);
const archive = join(work, 'busybox.tar');
ok([...berth, 'save', '-o', archive, 'busybox:latest']);

interface Tool {
  name: string;
  setup?: () => Promise<void> | void;
  /** Forgets every cached step (and the built image). */
  clean: () => void;
  build: () => number;
  teardown?: () => Promise<void> | void;
  error?: string;
  times: { cold: number[]; nochange: number[]; changed: number[] };
}

const tools: Tool[] = [];
tools.push({
  name: 'berth build',
  clean: () => {
    spawnSync(berth[0]!, [...berth.slice(1), 'rmi', '-f', 'bench:1'], { stdio: 'ignore' });
    ok([...berth, 'builder', 'prune', '-f']);
  },
  build: () => timed([...berth, 'build', '-q', '--network', 'none', '-t', 'bench:1', ctx]),
  times: { cold: [], nochange: [], changed: [] },
});

let daemon: ReturnType<typeof spawn> | undefined;
const dsock = join(work, 'docker', 'docker.sock');
const dk = dockerCli ? [dockerCli, '-H', `unix://${dsock}`] : [];
const dkEnv = { ...process.env, DOCKER_BUILDKIT: '1' };
tools.push({
  name: 'BuildKit (docker 20.10)',
  error: !dockerd || !dockerCli ? 'docker.io (dockerd and its 20.10 client) is not installed' : undefined,
  setup: async () => {
    const d = join(work, 'docker');
    mkdirSync(d, { recursive: true });
    daemon = spawn(dockerd!, ['--iptables=false', '--ip-masq=false', '--bridge=none', '--data-root', join(d, 'data'), '--exec-root', join(d, 'exec'), '-H', `unix://${dsock}`, '--pidfile', join(d, 'docker.pid')], { stdio: 'ignore' });
    for (let i = 0; i < 300 && spawnSync(dk[0]!, [...dk.slice(1), 'version'], { stdio: 'ignore' }).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    ok([...dk, 'load', '-i', archive]);
  },
  clean: () => {
    spawnSync(dk[0]!, [...dk.slice(1), 'rmi', '-f', 'bench:1'], { stdio: 'ignore' });
    ok([...dk, 'builder', 'prune', '-af'], dkEnv);
  },
  build: () => timed([...dk, 'build', '-q', '--network', 'none', '-t', 'bench:1', ctx], dkEnv),
  teardown: async () => {
    if (!daemon) return;
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').reverse()) {
      const mp = line.split(' ')[4];
      if (mp && mp.startsWith(join(work, 'docker'))) spawnSync('umount', ['-l', mp]);
    }
  },
  times: { cold: [], nochange: [], changed: [] },
});
tools.push({
  name: 'podman build (buildah)',
  error: pm ? undefined : 'podman is not installed',
  setup: () => void ok([...pm!, 'load', '-i', archive]),
  clean: () => {
    spawnSync(pm![0]!, [...pm!.slice(1), 'rmi', '-f', 'bench:1'], { stdio: 'ignore' });
    spawnSync(pm![0]!, [...pm!.slice(1), 'image', 'prune', '-f'], { stdio: 'ignore' });
  },
  build: () => timed([...pm!, 'build', '-q', '--layers', '--network', 'none', '-t', 'bench:1', ctx]),
  teardown: () => void spawnSync(pm![0]!, [...pm!.slice(1), 'system', 'reset', '-f'], { stdio: 'ignore' }),
  times: { cold: [], nochange: [], changed: [] },
});

try {
  for (const t of tools) {
    if (t.error) continue;
    try {
      await t.setup?.();
    } catch (e) {
      t.error = (e as Error).message.slice(0, 200);
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const t of tools) {
      if (t.error) continue;
      try {
        t.clean();
        t.times.cold.push(t.build());
        t.times.nochange.push(t.build());
        writeFileSync(changed, `changed in round ${i} for ${t.name}\n`);
        try {
          t.times.changed.push(t.build());
        } finally {
          writeFileSync(changed, original);
        }
      } catch (e) {
        t.error = (e as Error).message.slice(0, 300);
      }
    }
  }
} finally {
  for (const t of tools) await Promise.resolve(t.teardown?.()).catch(() => {});
  // Everything of berth's root goes, and nothing of it stays on the host.
  spawnSync(berth[0]!, [...berth.slice(1), 'system', 'reset', '-f'], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
}

const fmt = (xs: number[]) => (xs.length ? (median(xs) / 1000).toFixed(2).padStart(8) : '       -');
console.log(`build of FROM busybox + COPY 50 MB + COPY 2,000 files + 3 RUN; medians of ${runs} rounds, seconds`);
console.log(`${'tool'.padEnd(26)} ${'cold'.padStart(8)} ${'no change'.padStart(10)} ${'1 changed'.padStart(10)}`);
for (const t of tools) {
  if (t.error && t.times.cold.length === 0) {
    console.log(`${t.name.padEnd(26)} ${t.error}`);
    continue;
  }
  console.log(`${t.name.padEnd(26)} ${fmt(t.times.cold)} ${fmt(t.times.nochange).padStart(10)} ${fmt(t.times.changed).padStart(10)}${t.error ? `  (then failed: ${t.error})` : ''}`);
}
const [b, k, p] = tools;
const ratio = (a: number[], c: number[]) => (a.length && c.length ? (median(a) / median(c)).toFixed(2) : '-');
console.log(`\nberth / BuildKit: cold ${ratio(b!.times.cold, k!.times.cold)}, no change ${ratio(b!.times.nochange, k!.times.nochange)}, one file changed ${ratio(b!.times.changed, k!.times.changed)} (target ≤ 1.00 each)`);
console.log(`berth / podman:   cold ${ratio(b!.times.cold, p!.times.cold)}, no change ${ratio(b!.times.nochange, p!.times.nochange)}, one file changed ${ratio(b!.times.changed, p!.times.changed)}`);
