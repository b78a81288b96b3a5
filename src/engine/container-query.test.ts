import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord } from './containers.js';
import { statusText } from './container-query.js';

const now = Date.parse('2026-01-01T00:01:00Z');
const rec = (state: Partial<ContainerRecord['State']> & { Paused?: boolean }, extra: Partial<ContainerRecord> = {}): ContainerRecord =>
  ({
    Id: 'x'.repeat(64),
    Name: 'c',
    Image: 'busybox',
    ImageID: 'sha256:' + '0'.repeat(64),
    Command: ['true'],
    Created: '2026-01-01T00:00:00Z',
    AutoRemove: false,
    ...extra,
    State: { Status: 'created', ExitCode: 0, Pid: 0, StartedAt: '', FinishedAt: '', OOMKilled: false, ...state },
  }) as ContainerRecord;

test("statusText: Docker's words for each state", () => {
  assert.equal(statusText(rec({}), now), 'Created');
  assert.equal(statusText(rec({ Status: 'running', StartedAt: '2026-01-01T00:00:57Z' }), now), 'Up 3 seconds');
  assert.equal(statusText(rec({ Status: 'running', StartedAt: '2026-01-01T00:00:55Z', Paused: true }), now), 'Up 5 seconds (Paused)');
  assert.equal(statusText(rec({ Status: 'exited', ExitCode: 3, StartedAt: '2026-01-01T00:00:10Z', FinishedAt: '2026-01-01T00:00:58Z' }), now), 'Exited (3) 2 seconds ago');
  const health = { Status: 'starting' as const, FailingStreak: 0, Log: [] };
  assert.equal(statusText(rec({ Status: 'running', StartedAt: '2026-01-01T00:00:00Z' }, { Health: health }), now), 'Up About a minute (health: starting)');
  assert.equal(statusText(rec({ Status: 'running', StartedAt: '2026-01-01T00:00:00Z' }, { Health: { ...health, Status: 'healthy' } }), now), 'Up About a minute (healthy)');
});
