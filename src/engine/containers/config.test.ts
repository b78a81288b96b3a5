/** A container's Config and HostConfig as dockerd keeps them, and the process environment it derives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PATH, hostConfigDefaults, inspectConfig, inspectHostConfig, mergeConfig, mergeEnv, processEnv, replaceOrAppendEnv } from './config.js';

const defaults = { masked: ['/proc/kcore'], readonly: ['/proc/sys'], cgroupns: 'private' as const };

test('Env: the user\'s variables first, then the image\'s the user did not name (a bare name too)', () => {
  assert.deepEqual(mergeEnv(['A=1', 'PATH=/x', 'GONE'], ['PATH=/bin', 'GONE=image', 'KEPT=1']), ['A=1', 'PATH=/x', 'GONE', 'KEPT=1']);
  assert.deepEqual(mergeEnv(undefined, ['PATH=/bin']), ['PATH=/bin']);
});

test('the process environment: PATH, HOSTNAME (TERM with a terminal) under Config.Env; a bare name removes; a name twice once', () => {
  assert.deepEqual(processEnv(['PATH=/bin', 'A=1', 'A=2'], { hostname: 'h' }), ['PATH=/bin', 'HOSTNAME=h', 'A=2']);
  assert.deepEqual(processEnv(['HOSTNAME'], { hostname: 'h', tty: true }), [DEFAULT_PATH, 'TERM=xterm']);
  assert.deepEqual(replaceOrAppendEnv(['A=1'], ['B', 'A=2']), ['A=2']);
});

test('merge: the user\'s values, else the image\'s (Cmd only without an entrypoint; --entrypoint "" drops both)', () => {
  const image = { User: 'app', Env: ['PATH=/bin'], Entrypoint: ['/init'], Cmd: ['serve'], WorkingDir: '/srv', Labels: { a: 'image', b: 'image' }, Volumes: { '/data': {} }, StopSignal: 'SIGQUIT', ExposedPorts: { '80/tcp': {} } };
  const c = mergeConfig({ Image: 'x', Labels: { a: 'user' }, Volumes: { '/more': {} } }, image, 'abc');
  assert.deepEqual(
    [c.Hostname, c.User, c.Env, c.Entrypoint, c.Cmd, c.WorkingDir, c.Labels, c.Volumes, c.StopSignal, c.ExposedPorts],
    ['abc', 'app', ['PATH=/bin'], ['/init'], ['serve'], '/srv', { a: 'user', b: 'image' }, { '/data': {}, '/more': {} }, 'SIGQUIT', { '80/tcp': {} }],
  );
  const own = mergeConfig({ Image: 'x', Entrypoint: ['sh'], Hostname: 'mine' }, image, 'abc');
  assert.deepEqual([own.Hostname, own.Entrypoint, own.Cmd], ['mine', ['sh'], undefined]);
  const none = mergeConfig({ Image: 'x', Entrypoint: [''], Cmd: ['echo'] }, image, 'abc');
  assert.deepEqual([none.Entrypoint, none.Cmd], [null, ['echo']]);
  const cmd = mergeConfig({ Image: 'x', Cmd: ['other'] }, image, 'abc');
  assert.deepEqual([cmd.Entrypoint, cmd.Cmd], [['/init'], ['other']]);
});

test('merge: a health check\'s fields the user left out come from the image\'s', () => {
  const c = mergeConfig({ Image: 'x', Healthcheck: { Interval: 5e9 } }, { Healthcheck: { Test: ['CMD', 'ok'], Interval: 1e9, Retries: 7 } }, 'h');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'ok'], Interval: 5e9, Timeout: undefined, StartPeriod: undefined, Retries: 7 });
});

test('HostConfig: dockerd\'s defaults (MemorySwap twice Memory, PidsLimit <= 0 null, swappiness -1 null, labels off for host pid/ipc and privileged)', () => {
  const h = hostConfigDefaults({ Memory: 64, MemorySwappiness: -1, PidsLimit: -1 }, defaults);
  assert.deepEqual(
    [h.NetworkMode, h.IpcMode, h.ShmSize, h.Runtime, h.LogConfig, h.MemorySwap, h.MemorySwappiness, h.PidsLimit, h.MaskedPaths, h.ReadonlyPaths, h.SecurityOpt],
    ['default', 'private', 67108864, 'runc', { Type: 'json-file', Config: {} }, 128, null, null, ['/proc/kcore'], ['/proc/sys'], undefined],
  );
  assert.equal(hostConfigDefaults({ Memory: 64, MemorySwap: -1 }, defaults).MemorySwap, -1);
  const p = hostConfigDefaults({ Privileged: true, SecurityOpt: ['no-new-privileges'] }, defaults);
  assert.deepEqual([p.SecurityOpt, p.MaskedPaths, p.ReadonlyPaths], [['no-new-privileges', 'label=disable'], null, null]);
  assert.deepEqual(hostConfigDefaults({ PidMode: 'host' }, defaults).SecurityOpt, ['label=disable']);
});

test('inspect\'s shapes: every field in Docker\'s order, zero values as Docker\'s, optional ones only when set', () => {
  const c = inspectConfig({ Image: 'x' });
  assert.deepEqual(Object.keys(c), ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels']);
  assert.deepEqual([c.Env, c.Cmd, c.Volumes, c.Entrypoint, c.Labels], [null, null, null, null, {}]);
  assert.equal(inspectConfig({ StopTimeout: 0 }).StopTimeout, 0);
  const h = inspectHostConfig({ Ulimits: [{ Name: 'nofile', Soft: 1, Hard: 2 }], Init: true, Tmpfs: { '/t': '' } });
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Hard: 2, Soft: 1 }]);
  const keys = Object.keys(h);
  assert.equal(keys[keys.length - 1], 'Init');
  assert.ok(keys.indexOf('Tmpfs') === keys.indexOf('SecurityOpt') + 1);
  const bare = inspectHostConfig({});
  assert.deepEqual([bare.CapAdd, bare.Dns, bare.ExtraHosts, bare.PidsLimit, bare.Devices, bare.BlkioWeightDevice, bare.ConsoleSize], [null, [], null, null, [], [], [0, 0]]);
  assert.ok(!('Init' in bare) && !('Tmpfs' in bare) && !('Mounts' in bare));
});
