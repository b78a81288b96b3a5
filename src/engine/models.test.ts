/** The create request ↔ the Engine API's body (Config at the top, HostConfig and NetworkingConfig inside). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCreateBody, containerCreateRequestFromBody, type ContainerCreateBody, type ContainerCreateRequest } from './models.js';

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
