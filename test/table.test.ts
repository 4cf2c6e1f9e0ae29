import { describe, expect, it } from 'vitest';
import { formatTable } from '../src/report/table.js';

// Expected tables are typed out by hand, column widths counted from the longest cell or header.
describe('formatTable', () => {
  it('lays out the quickstart summary with right-aligned numbers', () => {
    const rows = [
      { model: 'resnet56', role: 'teacher', top1: 93.12, params: 855770, imagesPerSecond: 4120.4 },
      { model: 'resnet20', role: 'student (kd)', top1: 91.5, params: 272474, imagesPerSecond: 10933 },
      { model: 'resnet20', role: 'student', top1: 90.87, params: 272474, imagesPerSecond: null },
    ];
    const table = formatTable(rows, [
      { key: 'model' },
      { key: 'role' },
      { key: 'top1', header: 'top-1 %', decimals: 2 },
      { key: 'params' },
      { key: 'imagesPerSecond', header: 'images/s', decimals: 0 },
    ]);
    expect(table.split('\n')).toEqual([
      'model     role          top-1 %  params  images/s',
      '--------  ------------  -------  ------  --------',
      'resnet56  teacher         93.12  855770      4120',
      'resnet20  student (kd)    91.50  272474     10933',
      'resnet20  student         90.87  272474         -',
    ]);
  });

  it('left-aligns text, pads to the widest cell and leaves no trailing spaces', () => {
    const table = formatTable(
      [
        { name: 'a', note: 'x' },
        { name: 'bbb', note: 'longer' },
      ],
      [{ key: 'name' }, { key: 'note' }],
    );
    expect(table).toBe(['name  note', '----  ------', 'a     x', 'bbb   longer'].join('\n'));
  });

  it('prints non-integers with two decimals unless told otherwise, and honours explicit alignment', () => {
    const table = formatTable(
      [
        { step: 1, loss: 2.302585, tag: 10 },
        { step: 20, loss: 0.5, tag: 7 },
      ],
      [{ key: 'step' }, { key: 'loss' }, { key: 'tag', align: 'left' }],
    );
    expect(table).toBe(['step  loss  tag', '----  ----  ---', '   1  2.30  10', '  20  0.50  7'].join('\n'));
  });

  it('prints only the header and rule when there are no rows', () => {
    expect(formatTable([], [{ key: 'model' }, { key: 'params', header: 'parameters' }])).toBe('model  parameters\n-----  ----------');
  });
});
