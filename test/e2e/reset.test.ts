/**
 * `berth system reset`: every container, network, volume, image and the build cache of a root go,
 * and the root itself; afterwards nothing of that root is on the host: no bridge or veth, no nft
 * element or rule naming its addresses or ports, no mount, no cgroup, no process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : false;

describe('system reset', { skip }, () => {
  const dir = tmp('berth-reset-');
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  const berth = (args: string[], input?: string) => spawnSync(bin, ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', timeout: 120_000, input });
  const ok = (...args: string[]) => {
    const r = berth(args);
    assert.equal(r.status, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  after(() => {
    if (existsSync(root)) berth(['system', 'reset', '-f']);
    cleanupTmp();
  });

  it('asks first, then removes everything of the root and leaves nothing on the host', () => {
    ok('starter');
    ok('network', 'create', 'resetnet');
    const a = ok('run', '-d', '--network', 'resetnet', '-p', '127.0.0.1::80', '--name', 'ra', 'busybox', 'httpd', '-f', '-p', '80').trim();
    const b = ok('run', '-d', '--name', 'rb', '-v', 'keep:/data', 'busybox', 'sleep', '600').trim();
    ok('create', '--name', 'rc', 'busybox', 'true');
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\n');
    ok('build', '-q', '-t', 'built:1', ctx);
    const bridges = ['resetnet', 'bridge'].map((n) => (JSON.parse(ok('network', 'inspect', n))[0] as { Options: Record<string, string> }).Options['com.docker.network.bridge.name']!);
    const ips = [a, b].map((id) => Object.values(JSON.parse(ok('inspect', '-f', '{{json .NetworkSettings.Networks}}', id)) as Record<string, { IPAddress: string }>)[0]!.IPAddress);
    const port = ok('port', 'ra', '80').trim().split(':').pop()!;
    const pids = [a, b].map((id) => ok('inspect', '-f', '{{.State.Pid}}', id).trim());
    const links0 = spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout;
    for (const br of bridges) assert.match(links0, new RegExp(`^${br}\\b`, 'm'), `bridge ${br} up before the reset`);

    // Not confirmed: nothing happens.
    const no = berth(['system', 'reset'], 'n\n');
    assert.equal(no.status, 0, no.stderr);
    assert.match(no.stderr, /^WARNING! This will remove every container, network, volume, image/);
    assert.equal(ok('ps', '-aq').split('\n').filter(Boolean).length, 3);

    const r = berth(['system', 'reset', '-f']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(root), 'the root is gone');
    assert.deepEqual(existsSync(runroot) ? readdirSync(runroot) : [], [], "the run root's berth directories are gone");
    const links = spawnSync('ip', ['-br', 'link'], { encoding: 'utf8' }).stdout;
    for (const br of bridges) assert.doesNotMatch(links, new RegExp(`^${br}\\b`, 'm'), `bridge ${br} left`);
    for (const id of [a, b]) assert.doesNotMatch(links, new RegExp(`^bv${id.slice(0, 11)}`, 'm'), `veth of ${id} left`);
    const rules = spawnSync('nft', ['list', 'ruleset'], { encoding: 'utf8' }).stdout + spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
    for (const ip of ips) assert.ok(!rules.includes(ip), `a rule or element names ${ip}`);
    assert.ok(!new RegExp(`\\b${port}\\b`).test(rules.split('\n').filter((l) => l.includes('127.0.0.1')).join('\n')), `a rule or element names port ${port}`);
    for (const id of [a, b]) for (const c of ['memory', 'pids', 'cpu']) assert.ok(!existsSync(`/sys/fs/cgroup/${c}/berth/${id}`), `${c} cgroup of ${id} left`);
    for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}`), `process ${pid} left`);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'a mount left');
    const procs = readdirSync('/proc').filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(root);
      } catch {
        return false;
      }
    });
    assert.deepEqual(procs, [], 'processes of the root left');
    // The root can be used again from nothing.
    ok('starter');
    assert.equal(ok('run', '--rm', '--network', 'none', 'busybox', 'echo', 'again'), 'again\n');
  });
});
