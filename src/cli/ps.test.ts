import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayablePorts, ellipsis, goQuote } from './ps.js';

test('goQuote: as Go strconv.Quote', () => {
  assert.equal(goQuote(`sh -c 'exit 3'`), `"sh -c 'exit 3'"`);
  assert.equal(goQuote('a "b" \\ c'), '"a \\"b\\" \\\\ c"');
  assert.equal(goQuote('tab\there\nbell\x07\x01'), '"tab\\there\\nbell\\a\\x01"');
  assert.equal(goQuote('héllo…'), '"héllo…"');
});

test('ellipsis: at most N characters, the last one … when cut', () => {
  assert.equal(ellipsis('sleep 100', 20), 'sleep 100');
  assert.equal(ellipsis("echo 'hello world this is long'", 20), "echo 'hello world t…");
  assert.equal(ellipsis('x'.repeat(20), 20), 'x'.repeat(20));
  assert.equal(ellipsis('abc', 1), 'a');
});

test('displayablePorts: ranges, exposed ports, mappings last', () => {
  assert.equal(displayablePorts([]), '');
  assert.equal(displayablePorts([{ PrivatePort: 90, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }]), '90/tcp, 0.0.0.0:8080->80/tcp');
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 8001, PublicPort: 8001, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 8000, PublicPort: 8000, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { PrivatePort: 54, Type: 'udp' },
      { PrivatePort: 60, Type: 'udp' },
    ]),
    '53-54/udp, 60/udp, 0.0.0.0:8000-8001->8000-8001/tcp',
  );
});
