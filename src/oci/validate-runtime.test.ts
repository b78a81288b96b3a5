/** config.json validation: the default spec passes; each mistake is named by its JSON path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../lib/errors.js';
import { defaultSpec } from '../runtime/default-spec.js';
import type { Spec } from './runtime-spec.js';
import { parseSpec, validateSpec } from './validate-runtime.js';

/** A fresh default spec as plain JSON data, edited by `edit` (which may break its types). */
function raw(edit?: (s: any) => void): any {
  const s = JSON.parse(JSON.stringify(defaultSpec({ args: ['sh'] })));
  edit?.(s);
  return s;
}

/** Validation fails with InvalidArgument, the message naming the file and `path`, and matching `re`. */
function rejects(edit: (s: any) => void, path: string, re?: RegExp): void {
  const s = raw(edit);
  for (const check of [() => validateSpec(s, 'bundle/config.json'), () => parseSpec(JSON.stringify(s), 'bundle/config.json')]) {
    assert.throws(check, (e: unknown) => {
      assert.ok(isBerthError(e, 'InvalidArgument'), `expected an InvalidArgument BerthError, got ${String(e)}`);
      const prefix = `bundle/config.json: ${path}: `;
      assert.ok(e.message.startsWith(prefix), `message ${JSON.stringify(e.message)} should start with ${JSON.stringify(prefix)}`);
      if (re) assert.match(e.message, re);
      return true;
    });
  }
}

test('accepts the default spec, rootless and terminal variants, and parses it from text', () => {
  for (const s of [defaultSpec(), defaultSpec({ rootless: true }), defaultSpec({ terminal: true, args: ['bash', '-l'] })]) {
    const copy = JSON.parse(JSON.stringify(s)) as Spec;
    assert.deepEqual(validateSpec(copy), copy);
    assert.deepEqual(parseSpec(JSON.stringify(s)), copy);
  }
  // Optional parts may be missing.
  validateSpec({ ociVersion: '1.0.2' });
  validateSpec(raw((s) => {
    s.ociVersion = '1.2.0-rc.1+dev';
    delete s.linux;
    delete s.mounts;
    s.hooks = { prestart: [{ path: '/bin/true', args: ['true'], env: ['A=1'], timeout: 3 }] };
  }));
});

test('invalid JSON: the message says so and names the file', () => {
  assert.throws(() => parseSpec('{"ociVersion": ', '/b/config.json'), (e: unknown) => {
    assert.ok(isBerthError(e, 'InvalidArgument'));
    assert.match(e.message, /^\/b\/config\.json: invalid JSON: /);
    return true;
  });
  assert.throws(() => parseSpec(''), { name: 'BerthError', message: /^config\.json: invalid JSON: / });
});

test('the root must be an object', () => {
  assert.throws(() => validateSpec([], 'c.json'), { message: /^c\.json: \(root\): must be an object/ });
  assert.throws(() => parseSpec('null'), { message: /^config\.json: \(root\): must be an object/ });
});

test('ociVersion: 1.x only', () => {
  rejects((s) => (s.ociVersion = '2.0.0'), 'ociVersion', /unsupported version "2\.0\.0"/);
  rejects((s) => (s.ociVersion = '1.0'), 'ociVersion');
  rejects((s) => delete s.ociVersion, 'ociVersion', /must be a string/);
});

test('process.args: required, non-empty, strings', () => {
  rejects((s) => delete s.process.args, 'process.args', /must be an array/);
  rejects((s) => (s.process.args = []), 'process.args', /must not be empty/);
  rejects((s) => (s.process.args = ['sh', 5]), 'process.args[1]', /must be a string, not number 5/);
  rejects((s) => (s.process.args = 'sh -c true'), 'process.args', /must be an array/);
});

test('process.cwd must be absolute', () => {
  rejects((s) => (s.process.cwd = 'work'), 'process.cwd', /absolute path.*"work"/);
  rejects((s) => delete s.process.cwd, 'process.cwd');
});

test('process.env entries are NAME=VALUE strings', () => {
  rejects((s) => s.process.env.push('NOEQUALS'), 'process.env[2]', /NAME=VALUE.*"NOEQUALS"/);
  rejects((s) => s.process.env.push(7), 'process.env[2]', /must be a string/);
});

test('process.user ids', () => {
  rejects((s) => (s.process.user.uid = -1), 'process.user.uid', /out of range/);
  rejects((s) => (s.process.user.gid = 1.5), 'process.user.gid', /integer/);
  rejects((s) => (s.process.user.additionalGids = [1, 'x']), 'process.user.additionalGids[1]');
  rejects((s) => delete s.process.user, 'process.user', /must be an object/);
});

test('process.rlimits: known types, each once, soft <= hard', () => {
  rejects((s) => s.process.rlimits.push({ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }), 'process.rlimits[1].type', /unknown rlimit "RLIMIT_BOGUS"/);
  rejects((s) => s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), 'process.rlimits[1].type', /RLIMIT_NOFILE is given twice/);
  rejects((s) => (s.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 10, hard: 5 }]), 'process.rlimits[0]', /soft limit 10 is above the hard limit 5/);
  rejects((s) => (s.process.rlimits = [{ type: 'RLIMIT_CORE', soft: -1, hard: 5 }]), 'process.rlimits[0].soft');
});

test('process.oomScoreAdj in [-1000, 1000]', () => {
  validateSpec(raw((s) => (s.process.oomScoreAdj = -1000)));
  validateSpec(raw((s) => (s.process.oomScoreAdj = 1000)));
  rejects((s) => (s.process.oomScoreAdj = 1001), 'process.oomScoreAdj', /out of range/);
  rejects((s) => (s.process.oomScoreAdj = 'high'), 'process.oomScoreAdj', /must be an integer/);
});

test('process: terminal, consoleSize, capabilities types', () => {
  rejects((s) => (s.process.terminal = 'yes'), 'process.terminal', /boolean/);
  rejects((s) => (s.process.consoleSize = { height: 24 }), 'process.consoleSize.width');
  rejects((s) => (s.process.capabilities.bounding = [1]), 'process.capabilities.bounding[0]');
  rejects((s) => (s.process.noNewPrivileges = 1), 'process.noNewPrivileges');
});

test('linux.namespaces: known types, each once, absolute paths', () => {
  rejects((s) => s.linux.namespaces.push({ type: 'bogus' }), 'linux.namespaces[6].type', /unknown namespace type "bogus"/);
  rejects((s) => s.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[6].type', /"pid" is given twice/);
  rejects((s) => s.linux.namespaces.push({ type: 'user', path: 'proc/1/ns/user' }), 'linux.namespaces[6].path', /absolute/);
  validateSpec(raw((s) => s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' })));
});

test('uid/gid mappings need a user namespace', () => {
  rejects((s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'linux.uidMappings', /user namespace/);
  rejects((s) => (s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'linux.gidMappings', /user namespace/);
  validateSpec(raw((s) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  }));
  rejects((s) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
  }, 'linux.uidMappings[0].size');
});

test('linux.devices: known types, absolute paths, numbers', () => {
  rejects((s) => (s.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }]), 'linux.devices[0].type', /unknown device type "x"/);
  rejects((s) => (s.linux.devices = [{ type: 'c', path: 'dev/x', major: 1, minor: 1 }]), 'linux.devices[0].path');
  rejects((s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', minor: 1 }]), 'linux.devices[0].major');
  validateSpec(raw((s) => (s.linux.devices = [{ type: 'p', path: '/dev/fifo' }])));
});

test('mounts: absolute destination, string options', () => {
  rejects((s) => s.mounts.push({ destination: 'data', type: 'tmpfs' }), 'mounts[7].destination', /absolute path.*"data"/);
  rejects((s) => (s.mounts[0].options = ['ro', 3]), 'mounts[0].options[1]');
  rejects((s) => (s.mounts = {}), 'mounts', /must be an array/);
});

test('hooks: known kinds, absolute paths, positive timeouts', () => {
  rejects((s) => (s.hooks = { preStart: [{ path: '/bin/true' }] }), 'hooks.preStart', /unknown hook kind/);
  rejects((s) => (s.hooks = { poststop: [{ path: 'bin/true' }] }), 'hooks.poststop[0].path', /absolute/);
  rejects((s) => (s.hooks = { createRuntime: [{ path: '/bin/true', timeout: 0 }] }), 'hooks.createRuntime[0].timeout');
  rejects((s) => (s.hooks = { startContainer: {} }), 'hooks.startContainer', /must be an array/);
});

test('linux.rootfsPropagation: known values', () => {
  rejects((s) => (s.linux.rootfsPropagation = 'sideways'), 'linux.rootfsPropagation', /unknown propagation "sideways"/);
  for (const p of ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'])
    validateSpec(raw((s) => (s.linux.rootfsPropagation = p)));
});

test('root, hostname, masked and read-only paths, sysctl', () => {
  rejects((s) => (s.root.path = ''), 'root.path', /must not be empty/);
  rejects((s) => (s.root.readonly = 'no'), 'root.readonly');
  rejects((s) => (s.hostname = 5), 'hostname');
  rejects((s) => s.linux.maskedPaths.push('proc/x'), `linux.maskedPaths[${defaultSpec().linux!.maskedPaths!.length}]`);
  rejects((s) => (s.linux.readonlyPaths = ['rel']), 'linux.readonlyPaths[0]');
  rejects((s) => (s.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), 'linux.sysctl.net.ipv4.ip_forward');
});
