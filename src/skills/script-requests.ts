// What a skill script may ask of its agent while it runs (DESIGN §7): one JSON line on its stdout
// per request, answered by one line on its stdin. The script holds no hive URL or token: the agent
// makes the call with its own client (and its TLS trust), so a request needs a rule saying who may.
// - `{"borrow": {"id", "capability", "input", "ttlSeconds"?}}` → `{"borrowed": {"id", "status",
//   "output"}}`, for a capability the skill lists in `metadata.borrows` (TaskContext.borrow).
// - `{"spawn": {"id", "capabilities"}}` → `{"spawned": {"id", "status", "output"}}`, only for a
//   skill that serves the `spawn` capability (the hive holds the parent to the same rule); the parent
//   is this agent, never a name the script gives (TaskContext.spawn). `output` is the hive's answer
//   `{child, depth, capabilities}`, or `{message}`. Any other skill asking ends its task, refused.
// I/O only through the callbacks script.ts gives.
import * as z from 'zod';
import { describeError } from '../errors.ts';
import { Capability, formatProblem, SPAWN_CAPABILITY, SpawnRequest } from '../protocol/index.ts';
import type { LoadedSkill } from './discover.ts';
import type { TaskContext } from './task-runner.ts';

type AskingSkill = Pick<LoadedSkill, 'name' | 'extensions'>;

const RequestId = z.string().min(1).max(64);

const BorrowLine = z.object({
  borrow: z.object({
    id: RequestId,
    capability: Capability,
    input: z.unknown(),
    ttlSeconds: z.number().int().positive().max(3600).optional(),
  }),
});

const SpawnLine = z.object({
  spawn: z.object({ id: RequestId, capabilities: SpawnRequest.shape.capabilities }),
});

/** The one rule for spawning: the skill serves the capability the hive requires of a parent. */
export const maySpawn = (skill: AskingSkill): boolean =>
  skill.extensions.capabilities.includes(SPAWN_CAPABILITY);

export const spawnRefusal = (skill: AskingSkill): string =>
  `skill ${skill.name} may not spawn: only a skill serving the "${SPAWN_CAPABILITY}" capability may ask`;

/** Whether the script's stdin stays open after its envelope, for answers. */
export const takesAnswers = (skill: AskingSkill): boolean =>
  skill.extensions.borrows.length > 0 || maySpawn(skill);

export interface RequestIo {
  skill: AskingSkill;
  context: TaskContext;
  /** Aborted when the script has ended: a request still out is abandoned. */
  ended: AbortSignal;
  reply(line: object): void;
  /** Ends the task with this message (the script is stopped). */
  refuse(message: string): void;
}

/** Handles `line` when it is a request and returns true; false when it is ordinary output. */
export function handleRequestLine(line: string, io: RequestIo): boolean {
  if (line.startsWith('{"borrow"')) return borrowLine(line, io);
  if (line.startsWith('{"spawn"')) return spawnLine(line, io);
  return false;
}

function borrowLine(line: string, io: RequestIo): boolean {
  const parsed = BorrowLine.safeParse(safeJson(line));
  if (!parsed.success) return false;
  const { context, reply } = io;
  const { id, capability, input, ttlSeconds } = parsed.data.borrow;
  if (!io.skill.extensions.borrows.includes(capability)) {
    reply({
      borrowed: { id, status: 'error', output: { message: `"${capability}" is not in metadata.borrows` } },
    });
    return true;
  }
  context.borrow(capability, input, { signal: context.signal, ...(ttlSeconds ? { ttlSeconds } : {}) }).then(
    (result) => reply({ borrowed: { id, ...result } }),
    (err: unknown) => reply({ borrowed: { id, status: 'error', output: { message: describeError(err) } } }),
  );
  return true;
}

function spawnLine(line: string, io: RequestIo): boolean {
  const json = safeJson(line);
  if (typeof json !== 'object' || json === null || !('spawn' in json)) return false;
  const { skill, context, reply } = io;
  if (!maySpawn(skill)) {
    io.refuse(spawnRefusal(skill));
    return true;
  }
  const parsed = SpawnLine.safeParse(json);
  const fail = (id: unknown, message: string): void =>
    reply({ spawned: { id: typeof id === 'string' ? id : null, status: 'error', output: { message } } });
  if (!parsed.success) {
    fail((json.spawn as { id?: unknown } | null)?.id, formatProblem(parsed.error, 'spawn'));
    return true;
  }
  const { id, capabilities } = parsed.data.spawn;
  if (!context.spawn) {
    fail(id, 'this agent has no hive to ask for a worker');
    return true;
  }
  context.spawn(capabilities, AbortSignal.any([context.signal, io.ended])).then(
    (output) => reply({ spawned: { id, status: 'ok', output } }),
    (err: unknown) => fail(id, describeError(err)),
  );
  return true;
}

export function safeJson(text: string, fallback: unknown = null): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
