/** The create request ↔ the Engine API's body (Config at the top, HostConfig and NetworkingConfig inside). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCreateBody, containerCreateRequestFromBody, type ContainerCreateBody, type ContainerCreateRequest, type ContainerInspect, type ImageInspect, type NetworkInspect, type Volume } from './models.js';

test('a create body as a request and back', () => {
  const body: ContainerCreateBody = {
    Image: 'busybox',
    Cmd: ['echo', 'hi'],
    Env: ['A=1'],
    ExposedPorts: { '80/tcp': {} },
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9 },
    HostConfig: { Memory: 64 * 1024 ** 2, NanoCpus: 1.5e9, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } },
    NetworkingConfig: { EndpointsConfig: { mynet: { Aliases: ['web'] } } },
  };
  const req = containerCreateRequestFromBody(body, { name: 'web', platform: 'linux/amd64' });
  assert.deepEqual(req, {
    name: 'web',
    platform: 'linux/amd64',
    Config: { Image: 'busybox', Cmd: ['echo', 'hi'], Env: ['A=1'], ExposedPorts: { '80/tcp': {} }, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9 } },
    HostConfig: body.HostConfig!,
    NetworkingConfig: body.NetworkingConfig!,
  } satisfies ContainerCreateRequest);
  assert.deepEqual(containerCreateBody(req), body);
});

test('a body without HostConfig or NetworkingConfig, and a query without a name', () => {
  assert.deepEqual(containerCreateRequestFromBody({ Image: 'busybox' }), { Config: { Image: 'busybox' }, HostConfig: {}, NetworkingConfig: {} });
  assert.deepEqual(containerCreateRequestFromBody({ Image: 'busybox' }, { name: '' }), { Config: { Image: 'busybox' }, HostConfig: {}, NetworkingConfig: {} });
});

test("the records berth's inspect commands build fit the record models", () => {
  // Shapes as engine/containers.ts, engine/images.ts, cli/network.ts and volume/ build them today.
  const container = {
    Id: 'c'.repeat(64),
    Created: '2026-01-01T00:00:00.000Z',
    Path: 'sh',
    Args: ['-c', 'true'],
    State: { Status: 'exited', Running: false, Paused: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, StartedAt: '', FinishedAt: '' },
    Image: 'sha256:' + 'a'.repeat(64),
    Name: '/web',
    LogPath: '',
    Driver: 'overlay',
    Config: { Hostname: 'cccccccccccc', Env: ['PATH=/bin'], Cmd: ['sh'], Image: 'busybox', WorkingDir: '/', Labels: {}, StopSignal: 'SIGTERM', Tty: false, OpenStdin: false, AttachStdin: false },
    RestartCount: 0,
    NetworkSettings: {
      Bridge: '',
      SandboxKey: '',
      Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
      IPAddress: '172.17.0.2',
      IPPrefixLen: 16,
      Gateway: '172.17.0.1',
      MacAddress: '02:42:ac:11:00:02',
      Networks: { bridge: { IPAMConfig: null, Links: null, NetworkID: 'n', EndpointID: 'e', Gateway: '172.17.0.1', IPAddress: '172.17.0.2', IPPrefixLen: 16, MacAddress: '02:42:ac:11:00:02', Aliases: [], IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: ['web'] } },
    },
    HostConfig: { NetworkMode: 'bridge', Links: null, PortBindings: {}, Dns: [], DnsSearch: [], ExtraHosts: [], RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, AutoRemove: false, ReadonlyRootfs: false, Memory: 0, PidsLimit: 0 },
    Mounts: [{ Type: 'volume', Name: 'data', Source: '/var/lib/berth/volumes/data/_data', Destination: '/data', RW: true }],
  } satisfies ContainerInspect;
  const image = {
    Id: 'sha256:' + 'a'.repeat(64),
    RepoTags: ['busybox:latest'],
    RepoDigests: [],
    Parent: '',
    Comment: '',
    Created: '2026-01-01T00:00:00Z',
    Author: '',
    Config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    Architecture: 'amd64',
    Os: 'linux',
    Size: 4_000_000,
    RootFS: { Type: 'layers', Layers: ['sha256:' + 'b'.repeat(64)] },
    Metadata: { LastTagTime: '2026-01-01T00:00:00Z' },
    Manifest: { Digest: 'sha256:' + 'd'.repeat(64), MediaType: 'application/vnd.oci.image.manifest.v1+json' },
    GraphDriver: { Name: 'overlay', Data: { Layers: 'x' } },
  } satisfies ImageInspect;
  const network = {
    Name: 'mynet',
    Id: 'n'.repeat(64),
    Created: '2026-01-01T00:00:00Z',
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: { ['c'.repeat(64)]: { Name: 'web', MacAddress: '02:42:0a:01:00:02', IPv4Address: '10.1.0.2/24', IPv6Address: '', Aliases: [], Running: true } },
    Options: { 'com.docker.network.bridge.name': 'br-x' },
    Labels: {},
  } satisfies NetworkInspect;
  const volume = { Name: 'data', Driver: 'local', Mountpoint: '/var/lib/berth/volumes/data/_data', CreatedAt: '2026-01-01T00:00:00Z', Labels: {}, Scope: 'local', Anonymous: false } satisfies Volume;
  assert.equal(container.State.Status, 'exited');
  assert.deepEqual([image.Os, network.Driver, volume.Driver], ['linux', 'bridge', 'local']);
});
