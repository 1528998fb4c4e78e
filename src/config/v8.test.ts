// settleHeap: the memory-reducing collection after boot works on this node and leaves no `gc` behind.

import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { settleHeap } from './v8.ts';

const newSpace = (): number =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

describe('settleHeap', () => {
  it('collects, shrinks the young generation, and leaves gc unexposed', () => {
    // Grow the young generation the way boot does: many short-lived objects.
    let keep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    const before = newSpace();
    expect(settleHeap()).toBe(true);
    expect(newSpace()).toBeLessThanOrEqual(before);
    expect(runInNewContext('typeof gc')).toBe('undefined');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(keep).toEqual([]);
  });
});
