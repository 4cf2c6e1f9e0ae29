import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatDuration, type ProgressStream } from '../src/report/progress.js';

function capture(isTTY: boolean): { stream: ProgressStream; text: () => string } {
  const stream: PassThrough & { isTTY?: boolean } = new PassThrough();
  stream.isTTY = isTTY;
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

/** A clock that advances by `stepMs` on every reading after the first. */
function fakeClock(stepMs: number): () => number {
  let t = -stepMs;
  return () => (t += stepMs);
}

describe('progress reporter', () => {
  it('logs every N steps and the last step when not on a terminal', () => {
    const { stream, text } = capture(false);
    // begin reads t=0; each logged update reads the clock once more, 2 s later.
    const progress = createProgressReporter({ stream, logEvery: 2, now: fakeClock(2000) });
    progress.begin('epoch 1/3', 5);
    for (let step = 1; step <= 5; step++) progress.update({ step, images: step * 128, loss: 1 / step });
    progress.end();
    progress.note('epoch 1: top-1 87.50%');
    // step 2 at 2 s: 256 img / 2 s = 128 img/s, 3 steps left at 1 s/step; step 4 at 4 s; step 5 at 6 s.
    expect(text()).toBe(
      [
        'epoch 1/3 2/5 (40%)  loss 0.5000  128 img/s  eta 3s',
        'epoch 1/3 4/5 (80%)  loss 0.2500  128 img/s  eta 1s',
        'epoch 1/3 5/5 (100%)  loss 0.2000  107 img/s  eta 0s',
        'epoch 1: top-1 87.50%',
        '',
      ].join('\n'),
    );
  });

  it('leaves the loss out of phases without one', () => {
    const { stream, text } = capture(false);
    const progress = createProgressReporter({ stream, now: fakeClock(500) });
    progress.begin('eval', 1);
    progress.update({ step: 1, images: 512 });
    expect(text()).toBe('eval 1/1 (100%)  1024 img/s  eta 0s\n');
  });

  it('prints nothing when quiet', () => {
    const { stream, text } = capture(true);
    const progress = createProgressReporter({ stream, quiet: true });
    progress.begin('epoch 1/1', 2);
    progress.update({ step: 2, images: 256, loss: 0.1 });
    progress.end();
    progress.note('done');
    expect(text()).toBe('');
  });

  it('draws a bar with rate and loss on a terminal', () => {
    const { stream, text } = capture(true);
    const progress = createProgressReporter({ stream, now: fakeClock(1000) });
    progress.begin('epoch 2/3', 4);
    progress.update({ step: 4, images: 400, loss: 0.125 });
    progress.end();
    expect(text()).toContain('epoch 2/3');
    expect(text()).toContain('100% 4/4 | 400 img/s | loss 0.1250');
  });
});

describe('formatDuration', () => {
  it('uses seconds, then minutes and seconds, then hours and minutes', () => {
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(7_620_000)).toBe('2h07m');
  });
});
