/**
 * The container record under concurrent writers: several berth processes connect, disconnect,
 * rename, health-check and signal one real running container at the same time, then stop and
 * start it while another renames it; afterwards every process's own change is in its record (no
 * read-modify-write lost another's).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth.cjs')) ? 'not built (npm run build)' : !have('nft') || !have('ip') ? 'needs nft and ip' : false;

interface Rec {
  Name: string;
  ManuallyStopped?: boolean;
  State: { Status: string; Pid: number };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
  Health?: { Status: string; FailingStreak: number; Log: unknown[] };
}

describe('container records: concurrent berth processes lose no update', { skip }, () => {
  const root = tmp('berth-store-root-');
  const runroot = tmp('berth-store-runroot-');
  const g = ['--root', root, '--runroot', runroot];
  const berth = (...args: string[]) => spawnSync(bin, [...g, ...args], { encoding: 'utf8', timeout: 120_000 });
  /** A process running berth commands one after another; resolves with the first failure's message, or ''. */
  const worker = (...commands: string[][]) =>
    new Promise<string>((resolve) => {
      const next = (i: number) => {
        if (i === commands.length) return resolve('');
        const p = spawn(bin, [...g, ...commands[i]!], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => (code === 0 ? next(i + 1) : resolve(`berth ${commands[i]!.join(' ')}: exit ${code}: ${err}`)));
      };
      next(0);
    });
  let id = '';
  const record = () => JSON.parse(readFileSync(join(root, 'metadata', 'containers', `${id}.json`), 'utf8')) as Rec;
  const ok = (r: ReturnType<typeof berth>) => assert.equal(r.status, 0, r.stderr);

  before(() => {
    ok(berth('starter'));
    for (const n of ['cs-n1', 'cs-n2', 'cs-n3', 'cs-d1', 'cs-d2']) ok(berth('network', 'create', n));
    // A failing check that the monitor never runs itself (an hour apart): only the processes below do.
    const r = berth('run', '-d', '--name', 'cs0', '--health-cmd', 'exit 1', '--health-interval', '1h', '--health-retries', '1000', 'busybox', 'sleep', '1000');
    ok(r);
    id = r.stdout.trim();
    ok(berth('network', 'connect', 'cs-d1', id));
    ok(berth('network', 'connect', 'cs-d2', id));
  });
  after(() => {
    for (const c of berth('ps', '-aq').stdout.split('\n').filter(Boolean)) berth('rm', '-f', c);
    for (const n of ['cs-n1', 'cs-n2', 'cs-n3', 'cs-d1', 'cs-d2']) berth('network', 'rm', n);
    berth('network', 'prune', '-f');
    cleanupTmp();
  });

  it('connect, disconnect, rename, healthcheck and kill at once, on a running container', async () => {
    const K = 4;
    const failures = await Promise.all([
      worker(['network', 'connect', 'cs-n1', id]),
      worker(['network', 'connect', 'cs-n2', id]),
      worker(['network', 'connect', 'cs-n3', id]),
      worker(['network', 'disconnect', 'cs-d1', id]),
      worker(['network', 'disconnect', 'cs-d2', id]),
      worker(...Array.from({ length: K }, () => ['container', 'healthcheck', id])),
      worker(...Array.from({ length: K }, () => ['container', 'healthcheck', id])),
      worker(['rename', id, 'cs1'], ['rename', id, 'cs2'], ['rename', id, 'cs3'], ['rename', id, 'cs4']),
      // sleep ignores SIGWINCH: the container runs on, and the record says it was signalled.
      worker(['kill', '-s', 'WINCH', id], ['kill', '-s', 'WINCH', id]),
    ]);
    assert.deepEqual(failures.filter(Boolean), []);
    const rec = record();
    assert.deepEqual(Object.keys(rec.NetworkSettings.Networks).sort(), ['bridge', 'cs-n1', 'cs-n2', 'cs-n3'], 'each connect and disconnect is there');
    assert.equal(rec.Name, 'cs4', 'the last rename');
    assert.equal(rec.Health?.FailingStreak, 2 * K, "each health check's failure counted");
    assert.equal(rec.Health?.Log.length, 5, 'the last five checks kept');
    assert.equal(rec.ManuallyStopped, true, "kill's mark");
    assert.equal(rec.State.Status, 'running');
    // The names index agrees with the record: only the last name is taken.
    assert.equal(berth('inspect', '--format', '{{.Id}}', 'cs4').stdout.trim(), id);
    for (const old of ['cs0', 'cs1', 'cs2', 'cs3']) assert.notEqual(berth('inspect', old).status, 0, `${old} is free again`);
    // And the running container has an address on each network it was connected to.
    const addrs = berth('exec', id, 'ip', '-o', '-4', 'addr').stdout;
    for (const n of ['bridge', 'cs-n1', 'cs-n2', 'cs-n3']) assert.ok(addrs.includes(`${rec.NetworkSettings.Networks[n]!.IPAddress}/`), `${n}: ${addrs}`);
  });

  it('stop and start while another process renames it', async () => {
    const failures = await Promise.all([
      worker(['stop', '-t', '1', id], ['start', id], ['stop', '-t', '1', id], ['start', id]),
      worker(['rename', id, 'cs5'], ['rename', id, 'cs6'], ['rename', id, 'cs7']),
    ]);
    assert.deepEqual(failures.filter(Boolean), []);
    const rec = record();
    assert.equal(rec.Name, 'cs7', 'the last rename');
    assert.deepEqual(Object.keys(rec.NetworkSettings.Networks).sort(), ['bridge', 'cs-n1', 'cs-n2', 'cs-n3'], 'the connects stay');
    assert.equal(rec.State.Status, 'running', "the last start's state");
    assert.equal(rec.ManuallyStopped, false, 'start clears the mark of stop');
    assert.equal(readFileSync(`/proc/${rec.State.Pid}/cmdline`, 'utf8').split('\0')[0], 'sleep', 'the recorded pid is the running container');
    assert.equal(berth('inspect', '--format', '{{.Name}} {{.State.Status}}', id).stdout.trim(), '/cs7 running');
  });
});
