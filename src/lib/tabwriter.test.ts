/** Go's text/tabwriter as the docker CLI sets it up for tables (minwidth 10, padding 3). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tabwrite } from './tabwriter.js';

describe('tabwrite', () => {
  it('pads each column to its widest cell plus 3, at least 10; the last cell is not padded', () => {
    assert.equal(tabwrite('a\tb\tc\naaaa\tbb\tc\n'), 'a         b         c\naaaa      bb        c\n');
    assert.equal(tabwrite('CONTAINER ID\tNAMES\nabcdef012345\tc1\n'), 'CONTAINER ID   NAMES\nabcdef012345   c1\n');
  });
  it('an empty last cell after a tab leaves the padding (as docker history prints an empty COMMENT)', () => {
    assert.equal(tabwrite('SIZE\tCOMMENT\n1.98MB\t\n'), 'SIZE      COMMENT\n1.98MB    \n');
  });
  it('a line without the column ends the block: the blocks are aligned apart', () => {
    assert.equal(tabwrite('a\tb\nlong-single-line\nccccccccccccc\td\n'), 'a         b\nlong-single-line\nccccccccccccc   d\n');
  });
  it('counts characters, not bytes', () => {
    assert.equal(tabwrite('héllo wörld…\tx\n'), 'héllo wörld…   x\n');
  });
});
