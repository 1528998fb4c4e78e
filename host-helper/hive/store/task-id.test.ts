// Task ids are RFC 9562 version-7 UUIDs: the layout and bits, time order across milliseconds, and no
// repeats in a large sample (the random part comes from a refilled pool).
import { expect, it } from 'vitest';
import { TaskId } from '../../../src/protocol/index.ts';
import { newTaskId } from './task-id.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

it('is a version-7 UUID carrying the time, valid as a protocol task id', () => {
  const at = Date.UTC(2026, 10, 28, 12, 0, 0, 123);
  const v = newTaskId(at);
  expect(v).toMatch(V7);
  expect(Number.parseInt(v.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  expect(TaskId.safeParse(v).success).toBe(true);
});

it('sorts by time across milliseconds and never repeats', () => {
  const ids: string[] = [];
  for (let i = 0; i < 5000; i++) ids.push(newTaskId(1_000_000 + Math.floor(i / 10)));
  expect(new Set(ids).size).toBe(ids.length);
  for (let i = 10; i < ids.length; i += 10) expect(ids[i - 1]! < ids[i]!).toBe(true);
});
