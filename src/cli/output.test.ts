/** Listings through --format as the docker CLI's formatter prints them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../lib/errors.js';
import { CONTAINERS } from './listings.js';
import { fieldsUsed, renderFormatted, typedView } from './output.js';

const rows = () => [
  { ID: 'abc', Names: 'web', Image: 'busybox', Command: '"sleep 1"', RunningFor: '1 second ago', Status: 'Up 1 second', Ports: '', Labels: 'a=1', Label: (k: string) => (k === 'a' ? '1' : '') },
  { ID: 'def', Names: 'db<1>', Image: 'busybox', Command: '"true"', RunningFor: '2 seconds ago', Status: 'Exited (0) 1 second ago', Ports: '', Labels: '', Label: (_k: string) => '' },
];

describe('renderFormatted', () => {
  it('no format is the default table, with Docker headers', () => {
    const out = renderFormatted(undefined, rows(), CONTAINERS);
    assert.equal(out.split('\n')[0], 'CONTAINER ID   IMAGE     COMMAND     CREATED         STATUS                    PORTS     NAMES');
  });
  it('table TEMPLATE: headers of fields and of .Label (its last dotted part, - and _ as spaces)', () => {
    const out = renderFormatted('table {{.Names}}\\t{{.Label "com.x-y_z"}}', rows(), CONTAINERS);
    assert.equal(out, 'NAMES     x y z\nweb       \ndb<1>     \n');
  });
  it('json: one object per row, keys sorted, HTML escaped, methods left out', () => {
    const out = renderFormatted('json', rows().slice(1, 2), CONTAINERS);
    assert.equal(out, '{"Command":"\\"true\\"","ID":"def","Image":"busybox","Labels":"","Names":"db\\u003c1\\u003e","Ports":"","RunningFor":"2 seconds ago","Status":"Exited (0) 1 second ago"}\n');
  });
  it('a template without table: one line per row; \\t written out is a tab', () => {
    assert.equal(renderFormatted('{{.Names}}\\t{{.Label "a"}}', rows(), CONTAINERS), 'web\t1\ndb<1>\t\n');
  });
  it('errors carry Docker text and exit code', () => {
    assert.throws(() => renderFormatted('{{.Nope}}', rows(), CONTAINERS), (e: unknown) => {
      assert.ok(e instanceof BerthError);
      assert.equal(e.message, 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
      assert.equal(e.exitCode, 1);
      return true;
    });
  });
  it("ps's first pass: which fields a template reads, its errors worded as ps's", () => {
    assert.deepEqual([...fieldsUsed('{{.Names}} {{.Size}}', CONTAINERS)].sort(), ['Names', 'Size']);
    assert.ok(fieldsUsed('{{json .}}', CONTAINERS).has('Size'));
    assert.throws(() => fieldsUsed('{{', CONTAINERS), /^CliError: failed to parse template: template: :1: unclosed action$/);
  });
});

describe('typedView', () => {
  it('objects are structs, map-typed fields are maps', async () => {
    const { parseTemplate } = await import('../lib/gotemplate/index.js');
    const v = typedView({ Config: { Labels: { b: '2', a: '1' }, Image: 'x' }, HostConfig: { LogConfig: { Type: 'json-file', Config: {} } } }, 'types.ContainerJSON');
    assert.equal(parseTemplate('{{.Config.Labels}} {{.Config}} {{.HostConfig.LogConfig.Config.max}}').execute(v), 'map[a:1 b:2] {map[a:1 b:2] x} <no value>');
    assert.throws(() => parseTemplate('{{.Config.Nope}}').execute(v), /can't evaluate field Nope in type struct/);
    const nil = typedView({ Config: { Entrypoint: null, Volumes: null }, State: { Health: null }, IPAM: { Config: null } });
    assert.equal(parseTemplate('{{.Config.Entrypoint}} {{.Config.Volumes}} {{.State.Health}} {{.IPAM.Config}} {{len .Config.Entrypoint}}').execute(nil), '[] map[] <nil> [] 0');
  });
});
