/**
 * berth as an npm package: `npm pack` gives one tarball that, installed with `npm install -g` into
 * a prefix of its own (no npm dependency is fetched: the CLIs are bundled), builds its C helper at
 * install and runs a container from there, with nothing of this checkout on its paths.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { cleanupTmp, isRoot, tmp } from '../helpers.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = !isRoot ? 'needs root' : !have('npm') || !have('make') || !have('cc') ? 'npm, make and cc are needed (scripts/setup.sh installs them)' : false;

describe('npm package', { skip }, () => {
  const dir = tmp('berth-pack-');
  const prefix = join(dir, 'prefix');
  const root = join(dir, 'root');
  const runroot = join(dir, 'run');
  // Nothing of this checkout: no BERTH_HELPER, and a cwd outside it.
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: 'false' };
  for (const k of ['BERTH_HELPER', 'BERTH_ROOT', 'BERTH_RUNROOT']) delete env[k];
  const berth = (...args: string[]) => spawnSync(join(prefix, 'bin', 'berth'), ['--root', root, '--runroot', runroot, ...args], { encoding: 'utf8', cwd: dir, env, timeout: 120_000 });

  after(() => {
    if (existsSync(join(prefix, 'bin', 'berth'))) {
      berth('rm', '-f', 'packaged');
      berth('network', 'prune', '-f');
    }
    cleanupTmp();
  });

  it('packs, installs into a fresh prefix with its helper built, and runs berth run --rm busybox echo hi', () => {
    // --ignore-scripts: the bundles the suite runs with are packed as they are (prepare would
    // rebuild dist/ under the other tests' feet).
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: berthPackageRoot(), encoding: 'utf8', env, timeout: 120_000 });
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = readdirSync(dir).find((f) => /^berth-.*\.tgz$/.test(f));
    assert.ok(tarball, `no tarball in ${readdirSync(dir).join(' ')}`);
    const list = spawnSync('tar', ['-tzf', join(dir, tarball!)], { encoding: 'utf8' }).stdout.split('\n');
    for (const f of ['package/bin/berth', 'package/bin/berth-runtime', 'package/dist/berth.cjs', 'package/dist/berth-runtime.cjs', 'package/native/Makefile', 'package/native/ops.h']) assert.ok(list.includes(f), `${f} missing from the tarball`);
    assert.ok(!list.some((f) => /\/(src|test|node_modules|build)\/|\.v8cache$|native\/out\//.test(f)), 'sources, tests, caches or a built helper in the tarball');

    const inst = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(dir, tarball!)], { cwd: dir, encoding: 'utf8', env, timeout: 300_000 });
    assert.equal(inst.status, 0, inst.stderr);
    const pkg = join(prefix, 'lib', 'node_modules', 'berth');
    assert.ok(existsSync(join(pkg, 'native', 'out', 'berth-helper')), 'the C helper was not built at install');
    assert.ok(!existsSync(join(pkg, 'node_modules')), 'npm dependencies were installed: the bundles should need none');

    const rt = spawnSync(join(prefix, 'bin', 'berth-runtime'), ['--version'], { encoding: 'utf8', cwd: dir, env });
    assert.equal(rt.status, 0, rt.stderr);
    const st = berth('starter');
    assert.equal(st.status, 0, st.stderr);
    const r = berth('run', '--rm', '--name', 'packaged', 'busybox', 'echo', 'hi');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
  });
});
