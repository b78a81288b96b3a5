/** The `berth-runtime` command line as OCI tools and people call it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { berthPackageRoot } from '../../src/sys/paths.js';
import { bundle, cleanupTmp, isRoot, tmp, uniqueId, waitUntil } from '../helpers.js';

const bin = join(berthPackageRoot(), 'bin', 'berth-runtime');
const berth = join(berthPackageRoot(), 'bin', 'berth');
const skip = !isRoot ? 'needs root' : !existsSync(join(berthPackageRoot(), 'dist', 'berth-runtime.cjs')) ? 'not built (npm run build)' : false;

describe('berth-runtime CLI', { skip }, () => {
  const root = tmp('berth-cli-state-');
  // Output goes through files: a created container keeps the stdio it was given, and a pipe
  // would keep spawnSync waiting for it.
  const out = join(root, 'cli.out');
  const err = join(root, 'cli.err');
  const rt = (...args: string[]) => {
    const o = openSync(out, 'w');
    const e = openSync(err, 'w');
    try {
      const r = spawnSync(bin, ['--root', root, ...args], { stdio: ['ignore', o, e], timeout: 30_000 });
      return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
    } finally {
      closeSync(o);
      closeSync(e);
    }
  };
  after(() => {
    for (const id of rt('list', '-q').stdout.split('\n').filter(Boolean)) rt('delete', '-f', id);
    cleanupTmp();
  });

  it('runs a container and exits with its code', () => {
    const b = bundle(['sh', '-c', 'echo out; echo err >&2; exit 5']);
    const r = rt('run', '--bundle', b.dir, uniqueId());
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.status, 5);
  });

  it('walks create, state, list, start, ps, exec, kill and delete', () => {
    const b = bundle(['sleep', '30']);
    const id = uniqueId();
    const pidFile = join(b.dir, 'pid');
    assert.equal(rt('create', '--bundle', b.dir, '--pid-file', pidFile, id).status, 0);
    const st = JSON.parse(rt('state', id).stdout);
    assert.equal(st.status, 'created');
    assert.equal(st.id, id);
    assert.equal(st.pid, Number(readFileSync(pidFile, 'utf8')));
    assert.equal(st.bundle, b.dir);
    const list = JSON.parse(rt('list', '--format', 'json').stdout);
    assert.ok(list.some((c: { id: string; status: string }) => c.id === id && c.status === 'created'));
    assert.match(rt('list').stdout, new RegExp(`^ID\\s+PID\\s+STATUS\\s+BUNDLE\\s+CREATED\\s+OWNER\\n${id}\\s+\\d+\\s+created`));
    assert.equal(rt('start', id).status, 0);
    assert.equal(JSON.parse(rt('state', id).stdout).status, 'running');
    assert.deepEqual(JSON.parse(rt('ps', '--format', 'json', id).stdout), [st.pid]);
    const ex = rt('exec', id, 'sh', '-c', 'echo $$; exit 4');
    assert.equal(ex.status, 4);
    assert.ok(Number(ex.stdout.trim()) > 1);
    assert.equal(rt('kill', id, 'KILL').status, 0);
    waitUntil('the container to stop', () => JSON.parse(rt('state', id).stdout).status === 'stopped');
    assert.equal(JSON.parse(rt('state', id).stdout).status, 'stopped');
    assert.equal(rt('delete', id).status, 0);
    const gone = rt('state', id);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /container ".*" does not exist/);
  });

  it('reports errors on one line, exits 1, and logs them as JSON with --log-format json', () => {
    const log = join(tmp(), 'runtime.log');
    const r = spawnSync(bin, ['--root', root, '--log', log, '--log-format', 'json', 'kill', 'no-such-container'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'berth-runtime: container "no-such-container" does not exist\n');
    const entry = JSON.parse(readFileSync(log, 'utf8').trim());
    assert.equal(entry.level, 'error');
    assert.equal(entry.msg, 'container "no-such-container" does not exist');
    const bad = rt('kill', uniqueId(), 'NOSIG');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /invalid signal "NOSIG"/);
  });

  it('exits 127 when the command is not found', () => {
    const b = bundle(['no-such-command']);
    const r = rt('run', '--bundle', b.dir, uniqueId());
    assert.equal(r.status, 127);
    assert.match(r.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
  });

  it('writes a default spec and a starter bundle that runs', () => {
    const dir = tmp();
    assert.equal(spawnSync(bin, ['spec', '--bundle', dir]).status, 0);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.equal(spec.ociVersion, '1.0.2');
    assert.deepEqual(spec.process.args, ['sh']);
    const again = spawnSync(bin, ['spec', '--bundle', dir], { encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already exists/);
    const sb = join(tmp(), 'starter');
    assert.equal(spawnSync(berth, ['bundle', sb, 'echo', 'from-starter']).status, 0);
    const r = spawnSync(berth, ['runtime', '--root', root, 'run', '--bundle', sb, uniqueId()], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.stdout, 'from-starter\n');
    assert.equal(r.status, 0);
  });
});
