import { describe, expect, it } from 'vitest';

import { kdLoss } from '../src/index.js';
import { randomFloats, runPython, thrown } from './helpers.js';

function logits(rows: number, classes: number, seed: number): { data: Float32Array; shape: number[] } {
  return { data: randomFloats(rows * classes, seed).map((v) => v * 3), shape: [rows, classes] };
}

function toRows(t: { data: Float32Array; shape: number[] }): number[][] {
  const [rows, cols] = t.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => Array.from(t.data.subarray(r * cols, (r + 1) * cols)));
}

describe('Hinton KD loss', () => {
  for (const [teachers, temperature, ceWeight, kdWeight] of [
    [1, 4, 0.1, 0.9],
    [3, 4, 0.1, 0.9],
    [2, 1, 0.5, 0.5],
    [1, 20, 0, 1],
  ] as const) {
    it(`matches PyTorch (batchmean KL x T^2 + CE) with ${teachers} teacher(s), T=${temperature}`, async () => {
      const student = logits(16, 10, 1);
      const teacherLogits = Array.from({ length: teachers }, (_, i) => logits(16, 10, 10 + i));
      const labels = { data: Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 10), shape: [16] };
      const ours = await kdLoss(student, teacherLogits, labels, { temperature, ceWeight, kdWeight });
      const reference = JSON.parse(
        runPython(
          'kd_reference.py',
          [],
          JSON.stringify({
            student: toRows(student),
            teachers: teacherLogits.map(toRows),
            labels: Array.from(labels.data),
            temperature,
            ceWeight,
            kdWeight,
          }),
        ),
      ) as { total: number; ce: number; kd: number };
      // float32 against a float64 reference: agree to 2e-6 relative.
      for (const key of ['kd', 'ce', 'total'] as const) {
        expect(Math.abs(ours[key] - reference[key])).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(reference[key])));
      }
      expect(ours.kd).toBeGreaterThan(0);
    });
  }

  it('names mismatched shapes', async () => {
    const error = await thrown(() =>
      kdLoss(
        logits(4, 10, 1),
        [logits(4, 5, 2)],
        { data: new Int32Array(4), shape: [4] },
        { temperature: 4, ceWeight: 0.1, kdWeight: 0.9 },
      ),
    );
    expect(error).toMatchObject({ code: 'E_SHAPE', message: expect.stringContaining('teacher logits') });
  });
});
