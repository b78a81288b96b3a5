/**
 * Create bodies as an API client sends them (not only what berth's CLI builds) → create's
 * options: Docker's defaults for what is left out, and the checks made before anything exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../lib/errors.js';
import { containerCreateRequestFromBody, type ContainerCreateBody } from '../models.js';
import { createOptionsOf, portMappingsOf } from './request.js';
import { restartPolicyOf } from './restart.js';

const of = (body: ContainerCreateBody, name?: string) => createOptionsOf(containerCreateRequestFromBody(body, name ? { name } : {}));

function refused(body: ContainerCreateBody, message: string | RegExp) {
  assert.throws(() => of(body), (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'), String(e));
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('a body with the image only: the defaults (the bridge, no policy, nothing mounted or published)', () => {
  const o = of({ Image: 'busybox' });
  assert.equal(o.image, 'busybox');
  assert.equal(o.network, 'bridge');
  assert.equal(o.name, undefined);
  assert.deepEqual([o.command, o.entrypoint, o.env, o.health, o.restart], [undefined, undefined, undefined, undefined, undefined]);
  assert.deepEqual(restartPolicyOf(o.restart), { Name: 'no', MaximumRetryCount: 0 });
  assert.deepEqual([o.volumes, o.tmpfs, o.ports, o.exposed], [[], {}, [], []]);
  assert.deepEqual([o.autoRemove, o.tty, o.interactive, o.publishAll, o.withInit], [false, false, false, false, false]);
  assert.equal(of({ Image: 'busybox' }, 'web').name, 'web');
  refused({}, 'no image given (Config.Image)');
});

test("zeros and empty strings are not set (as Docker's API has them)", () => {
  const o = of({ Image: 'x', WorkingDir: '', User: '', HostConfig: { Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, PidsLimit: 0, BlkioWeight: 0, NetworkMode: '', RestartPolicy: { Name: '' } } });
  for (const k of ['workdir', 'user', 'memory', 'memorySwap', 'nanoCpus', 'cpuShares', 'pidsLimit', 'blkioWeight'] as const) assert.equal(o[k], undefined, k);
  assert.equal(o.network, 'bridge');
  assert.deepEqual(restartPolicyOf(o.restart), { Name: 'no', MaximumRetryCount: 0 });
});

test('Entrypoint: [""] drops the image\'s, [] or null keeps it', () => {
  assert.deepEqual(of({ Image: 'x', Entrypoint: [''] }).entrypoint, []);
  assert.deepEqual(of({ Image: 'x', Entrypoint: ['/bin/sh', '-c'] }).entrypoint, ['/bin/sh', '-c']);
  assert.equal(of({ Image: 'x', Entrypoint: [] }).entrypoint, undefined);
  assert.equal(of({ Image: 'x', Entrypoint: null }).entrypoint, undefined);
});

test('PortBindings: every address for 0.0.0.0, any port for "", a range by its first port, tcp when no protocol; null: not published', () => {
  assert.deepEqual(portMappingsOf({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }], '53/udp': [{ HostPort: '5300-5310' }], '443/tcp': null, '8443/tcp': [{}] }), [
    { hostIp: '', hostPort: 8080, containerPort: 80, proto: 'tcp' },
    { hostIp: '127.0.0.1', hostPort: 0, containerPort: 80, proto: 'tcp' },
    { hostIp: '', hostPort: 5300, containerPort: 53, proto: 'udp' },
    { hostIp: '', hostPort: 0, containerPort: 8443, proto: 'tcp' },
  ]);
  assert.deepEqual(portMappingsOf({ '9000': [{ HostPort: '9000' }] }), [{ hostIp: '', hostPort: 9000, containerPort: 9000, proto: 'tcp' }]);
  refused({ Image: 'x', HostConfig: { PortBindings: { '80/sctp': [] } } }, /^invalid port specification: "80\/sctp"/);
  refused({ Image: 'x', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '70000' }] } } }, /^invalid port specification: "70000:80\/tcp"/);
});

test('the endpoint of the container\'s network; one network only', () => {
  const o = of({ Image: 'x', HostConfig: { NetworkMode: 'backend', Links: ['db:d'] }, NetworkingConfig: { EndpointsConfig: { backend: { IPAMConfig: { IPv4Address: '10.5.0.9' }, Aliases: ['api'], MacAddress: '92:d0:c6:0a:29:33', Links: ['db:d', 'cache'] } } } });
  assert.deepEqual([o.network, o.ip, o.networkAlias, o.macAddress, o.link], ['backend', '10.5.0.9', ['api'], '92:d0:c6:0a:29:33', ['db:d', 'cache']]);
  assert.equal(of({ Image: 'x', MacAddress: '92:d0:c6:0a:29:34' }).macAddress, '92:d0:c6:0a:29:34', 'the deprecated Config.MacAddress');
  assert.equal(of({ Image: 'x', NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['a'] } } } }).networkAlias?.[0], 'a');
  refused({ Image: 'x', HostConfig: { NetworkMode: 'a' }, NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } }, /^a container is created on one network \(a\), not also on b/);
});

test('Mounts: binds, volumes and tmpfs; Volumes and Binds', () => {
  const o = of({
    Image: 'x',
    Volumes: { '/anon': {} },
    HostConfig: {
      Binds: ['/tmp:/h:ro', 'named:/n'],
      Mounts: [
        { Type: 'bind', Source: '/tmp', Target: '/b', BindOptions: { Propagation: 'rslave' } },
        { Type: 'volume', Target: '/v', VolumeOptions: { NoCopy: true } },
        { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 4096, Mode: 0o1777 } },
      ],
      Tmpfs: { '/run': 'size=1m' },
    },
  });
  assert.deepEqual(o.volumes, [
    { kind: 'bind', source: '/tmp', destination: '/h', readOnly: true, propagation: [], mode: 'ro' },
    { kind: 'volume', source: 'named', destination: '/n', readOnly: false, propagation: [], mode: '' },
    { kind: 'volume', source: undefined, destination: '/anon', readOnly: false, propagation: [], mode: '' },
    { kind: 'bind', source: '/tmp', destination: '/b', readOnly: false, propagation: ['rslave'], mode: '' },
    // (dockerd shows a --mount volume's Mode as "z".)
    { kind: 'volume', source: undefined, destination: '/v', readOnly: false, propagation: [], mode: 'z', noCopy: true },
  ]);
  assert.deepEqual(o.tmpfs, { '/run': 'size=1m', '/t': 'size=4096,mode=1777' });
  refused({ Image: 'x', HostConfig: { Mounts: [{ Type: 'bind', Source: 'relative', Target: '/x' }] } }, /the source of a bind mount must be an absolute path/);
  refused({ Image: 'x', HostConfig: { Mounts: [{ Type: 'volume', Source: 'bad*', Target: '/x' }] } }, /"bad\*" includes invalid characters for a local volume name/);
  refused({ Image: 'x', HostConfig: { Mounts: [{ Type: 'volume', Target: 'x' }] } }, /the target must be an absolute path/);
  refused({ Image: 'x', HostConfig: { Mounts: [{ Type: 'npipe', Target: '/x' }] } }, /unknown mount type "npipe"/);
});

test('RestartPolicy: checked; not with AutoRemove', () => {
  assert.deepEqual(restartPolicyOf({ Name: 'on-failure', MaximumRetryCount: 4 }), { Name: 'on-failure', MaximumRetryCount: 4 });
  assert.deepEqual(restartPolicyOf({ Name: 'always' }), { Name: 'always', MaximumRetryCount: 0 });
  assert.throws(() => restartPolicyOf({ Name: 'always', MaximumRetryCount: 2 }), /invalid restart policy "always:2"/);
  assert.throws(() => restartPolicyOf({ Name: 'sometimes' as 'always' }), /invalid restart policy "sometimes"/);
  refused({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }, 'conflicting options: cannot specify both --restart and --rm');
  assert.equal(of({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'no' } } }).autoRemove, true);
});
