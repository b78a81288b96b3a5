/**
 * Crash safety: berth commands killed with SIGKILL at spread instants (20 each) while they load,
 * commit, build, remove, create networks and volumes, and while two `run -d` race. After every
 * kill the store must be consistent (every blob holds what its digest names, no half-written one
 * under its name; every image berth lists can be inspected and its layers are there) and the next
 * command must work; at the end, with everything removed, nothing of the root is left on the host
 * (mounts, veths, bridges, cgroups, nft elements, processes). Then 20 concurrent `run -d` on one
 * network: 20 distinct names and addresses, no record lost.
 *
 * The instants come from one unkilled run of each command (how long it took here), so that the
 * kills fall across its whole course; no duration is asserted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;
const KILLS = 20;

describe('crash safety: kill -9 at 20 instants of each command', { skip }, () => {
  const dir = tmp('berth-crash-');
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  const base = ['--root', root, '--runroot', runroot];
  const berth = (...args: string[]) => spawnSync(bin, [...base, ...args], { encoding: 'utf8', timeout: 120_000 });
  const ok = (...args: string[]) => {
    const r = berth(...args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  /** Starts `berth args`, kills it with SIGKILL after `ms` (or lets it end first); resolves when it is gone. */
  const killedAt = (args: string[], ms: number) =>
    new Promise<void>((resolve) => {
      const p = spawn(bin, [...base, ...args], { stdio: 'ignore' });
      const t = setTimeout(() => p.kill('SIGKILL'), ms);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  /** How long one unkilled run takes here, to spread the kills over it. */
  const span = (args: string[]) => {
    const t0 = process.hrtime.bigint();
    ok(...args);
    return Math.max(20, Number(process.hrtime.bigint() - t0) / 1e6);
  };
  const instants = (total: number) => Array.from({ length: KILLS }, (_, i) => Math.round((total * (i + 0.5)) / KILLS));

  /** Every container id seen, for the final check of what is left on the host. */
  const seen = new Set<string>();
  const noteIds = () => {
    for (const id of berth('ps', '-aq', '--no-trunc').stdout.split('\n').filter(Boolean)) seen.add(id);
    const rt = join(runroot, 'runtime');
    for (const n of existsSync(rt) ? readdirSync(rt) : []) if (/^[0-9a-f]{64}$/.test(n)) seen.add(n);
  };
  /** The store is consistent: every blob holds what its name says; every listed image inspects. */
  const assertConsistent = (what: string) => {
    noteIds();
    const blobs = join(root, 'content', 'blobs', 'sha256');
    for (const name of existsSync(blobs) ? readdirSync(blobs) : []) {
      const got = createHash('sha256').update(readFileSync(join(blobs, name))).digest('hex');
      assert.equal(got, name, `${what}: blob sha256:${name} holds other content`);
    }
    for (const id of ok('images', '-q', '--no-trunc').split('\n').filter(Boolean)) {
      const r = berth('image', 'inspect', id);
      assert.equal(r.status, 0, `${what}: image ${id} listed but not inspectable: ${r.stderr}`);
    }
  };

  /** The host's berth bridges before the test (other roots' may come and go: only new ones count). */
  let bridgesBefore: Set<string> | undefined;
  before(() => {
    bridgesBefore = new Set(spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(/\s+/)[0]!).filter((n) => n.startsWith('berth')));
    ok('starter');
    // A second image with a larger layer, so that a load takes a while.
    const ctx = join(dir, 'bigctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'blob.bin'), Buffer.alloc(8 << 20, 7));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY blob.bin /blob.bin\n');
    ok('build', '-q', '-t', 'big:1', ctx);
    ok('save', '-o', join(dir, 'images.tar'), 'busybox', 'big:1');
  });

  after(() => {
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', id);
    berth('network', 'prune', '-f');
    // Everything of the root goes, and the host keeps nothing of it (bridges, rules, cgroups).
    berth('system', 'reset', '-f');
    cleanupTmp();
  });

  it('load: an image is there whole or not at all', async () => {
    ok('rmi', 'big:1');
    const t = span(['load', '-i', join(dir, 'images.tar')]);
    for (const ms of instants(t)) {
      berth('rmi', '-f', 'big:1');
      ok('image', 'prune', '-f');
      await killedAt(['load', '-i', join(dir, 'images.tar')], ms);
      assertConsistent(`load killed at ${ms} ms`);
      ok('load', '-i', join(dir, 'images.tar'));
      assert.equal(ok('run', '--rm', '--network', 'none', 'big:1', 'sh', '-c', 'wc -c < /blob.bin').trim(), String(8 << 20));
    }
  });

  it('commit: the image is whole or missing, and the next commit works', async () => {
    ok('create', '--name', 'tocommit', 'busybox', 'true');
    ok('start', '-a', 'tocommit');
    const t = span(['commit', 'tocommit', 'committed:0']);
    let i = 1;
    for (const ms of instants(t)) {
      await killedAt(['commit', 'tocommit', `committed:${i}`], ms);
      assertConsistent(`commit killed at ${ms} ms`);
      ok('commit', 'tocommit', `committed:${i}b`);
      ok('run', '--rm', '--network', 'none', `committed:${i}b`, 'true');
      i++;
    }
    ok('rm', 'tocommit');
  });

  it('build: the image is whole or missing, and the next build works', async () => {
    const ctx = join(dir, 'buildctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nARG N\nRUN echo $N > /n && head -c 2000000 /dev/zero > /zeros\nCOPY Dockerfile /df\n');
    const t = span(['build', '-q', '--build-arg', 'N=0', '-t', 'built:0', ctx]);
    let i = 1;
    for (const ms of instants(t)) {
      await killedAt(['build', '-q', '--build-arg', `N=${i}`, '-t', `built:${i}`, ctx], ms);
      assertConsistent(`build killed at ${ms} ms`);
      ok('build', '-q', '--build-arg', `N=${i}`, '-t', `built:${i}b`, ctx);
      assert.equal(ok('run', '--rm', '--network', 'none', `built:${i}b`, 'cat', '/n').trim(), String(i));
      i++;
    }
  });

  it('rm: the container is gone or still removable, never half there', async () => {
    ok('run', '-d', '--network', 'none', '--name', 'rm0', 'busybox', 'sleep', '600');
    const t = span(['rm', '-f', 'rm0']);
    let i = 1;
    for (const ms of instants(t)) {
      ok('run', '-d', '--network', 'none', '--name', `rm${i}`, 'busybox', 'sleep', '600');
      await killedAt(['rm', '-f', `rm${i}`], ms);
      noteIds();
      const r = berth('rm', '-f', `rm${i}`);
      assert.ok(r.status === 0 || /No such container/.test(r.stderr), `rm after a killed rm at ${ms} ms: ${r.stderr}`);
      assert.doesNotMatch(ok('ps', '-a', '--format', '{{.Names}}'), new RegExp(`^rm${i}$`, 'm'));
      // the name is free again
      ok('create', '--name', `rm${i}`, 'busybox', 'true');
      ok('rm', `rm${i}`);
      i++;
    }
  });

  it('network create and volume create: there or not, and the same name can be made (or removed) after', async () => {
    const tn = span(['network', 'create', 'net0']);
    ok('network', 'rm', 'net0');
    let i = 1;
    for (const ms of instants(tn)) {
      await killedAt(['network', 'create', `net${i}`], ms);
      const again = berth('network', 'create', `net${i}`);
      assert.ok(again.status === 0 || /already exists/.test(again.stderr), `network create after a kill at ${ms} ms: ${again.stderr}`);
      ok('network', 'inspect', `net${i}`);
      ok('network', 'rm', `net${i}`);
      i++;
    }
    const tv = span(['volume', 'create', 'vol0']);
    i = 1;
    for (const ms of instants(tv)) {
      await killedAt(['volume', 'create', `vol${i}`], ms);
      ok('volume', 'create', `vol${i}`);
      ok('run', '--rm', '--network', 'none', '-v', `vol${i}:/v`, 'busybox', 'sh', '-c', 'echo x > /v/f');
      ok('volume', 'rm', `vol${i}`);
      i++;
    }
    ok('volume', 'rm', 'vol0');
  });

  it('two concurrent run -d killed at once: each is whole or cleanly removable, and names stay unique', async () => {
    ok('network', 'create', 'racenet');
    const t = span(['run', '-d', '--network', 'racenet', '--name', 'race0', 'busybox', 'sleep', '600']);
    ok('rm', '-f', 'race0');
    let i = 1;
    for (const ms of instants(t)) {
      await Promise.all([
        killedAt(['run', '-d', '--network', 'racenet', '--name', `race${i}a`, 'busybox', 'sleep', '600'], ms),
        killedAt(['run', '-d', '--network', 'racenet', '--name', `race${i}b`, 'busybox', 'sleep', '600'], ms),
      ]);
      noteIds();
      for (const n of [`race${i}a`, `race${i}b`]) {
        const r = berth('rm', '-f', n);
        assert.ok(r.status === 0 || /No such container/.test(r.stderr), `rm ${n} after a kill at ${ms} ms: ${r.stderr}`);
      }
      // The next runs work and get the names.
      ok('run', '-d', '--network', 'racenet', '--name', `race${i}a`, 'busybox', 'sleep', '600');
      ok('rm', '-f', `race${i}a`);
      i++;
    }
    ok('network', 'rm', 'racenet');
  });

  it('20 concurrent run -d on one network: 20 distinct names and addresses, no record lost', async () => {
    ok('network', 'create', 'crowd');
    const names = Array.from({ length: 20 }, (_, i) => `crowd${i}`);
    const codes = await Promise.all(
      names.map(
        (n) =>
          new Promise<number>((resolve) => {
            const p = spawn(bin, [...base, 'run', '-d', '--network', 'crowd', '--name', n, 'busybox', 'sleep', '600'], { stdio: 'ignore' });
            p.once('exit', (c) => resolve(c ?? -1));
          }),
      ),
    );
    assert.deepEqual(codes, names.map(() => 0));
    const listed = ok('ps', '--format', '{{.Names}}').split('\n').filter((n) => n.startsWith('crowd')).sort();
    assert.deepEqual(listed, [...names].sort());
    const ips = names.map((n) => ok('inspect', '-f', '{{json .NetworkSettings.Networks}}', n)).map((j) => (JSON.parse(j) as Record<string, { IPAddress: string }>)['crowd']!.IPAddress);
    assert.equal(new Set(ips).size, 20, `addresses: ${ips.join(' ')}`);
    const endpoints = JSON.parse(ok('network', 'inspect', 'crowd', '--format', '{{json .Containers}}')) as Record<string, unknown>;
    assert.equal(Object.keys(endpoints).length, 20, 'the network records every endpoint');
    noteIds();
    for (const n of names) ok('rm', '-f', n);
    ok('network', 'rm', 'crowd');
  });

  it('with everything removed, nothing of the root is left on the host', () => {
    for (const id of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) ok('rm', '-f', id);
    // The next commands: they clean what the kills left.
    ok('container', 'prune', '-f');
    ok('network', 'prune', '-f');
    ok('volume', 'prune', '-a', '-f');
    assert.equal(ok('ps', '-aq'), '');
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root) || l.includes(runroot));
    assert.deepEqual(mounts, [], 'mounts of the root left');
    const links = spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout;
    // no bridge that none of the root's networks names (a network create killed half-way)
    const newBridges = links.split('\n').map((l) => l.split(/\s+/)[0]!).filter((n) => n.startsWith('berth') && !(bridgesBefore ?? new Set()).has(n));
    assert.deepEqual(newBridges, [], 'bridges of the root left');
    const netnsDir = join(runroot, 'netns');
    assert.deepEqual(existsSync(netnsDir) ? readdirSync(netnsDir) : [], [], 'network namespaces left');
    // no container's runtime state, network state or namespace, and of every container id seen
    // no cgroup, veth or bridge entry
    const rt = join(runroot, 'runtime');
    assert.deepEqual(existsSync(rt) ? readdirSync(rt).filter((n) => !n.startsWith('.')) : [], [], 'runtime state left');
    const netState = join(runroot, 'net');
    assert.deepEqual(existsSync(netState) ? readdirSync(netState).filter((n) => n.endsWith('.json')) : [], [], 'network state left');
    assert.ok(seen.size > 40, `only ${seen.size} container ids seen`);
    for (const id of seen) {
      assert.doesNotMatch(links, new RegExp(`^bv${id.slice(0, 11)}`, 'm'), `veth of ${id} left`);
      for (const c of ['memory', 'pids', 'cpu']) assert.ok(!existsSync(`/sys/fs/cgroup/${c}/berth/${id}`), `${c} cgroup of ${id} left`);
    }
    // the steps of killed builds: cleaned by the next build (their names carry the build's pid)
    for (const c of ['memory', 'pids', 'cpu']) {
      const d = `/sys/fs/cgroup/${c}/berth`;
      for (const n of existsSync(d) ? readdirSync(d) : []) {
        const pid = /^build-.*-p(\d+)$/.exec(n)?.[1];
        if (pid && !existsSync(`/proc/${pid}`)) assert.fail(`${c} cgroup ${n} of a killed build left`);
      }
    }
    const procs: string[] = [];
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid)) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (cmd.includes(root) || cmd.includes(runroot)) procs.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
    }
    assert.deepEqual(procs, [], 'processes of the root left');
  });
});
