// The agent's hive client (DESIGN §5): JSON over HTTP with undici keep-alive pools, a timeout on
// every request, AbortSignal support, and responses checked against the protocol schemas. The base
// URL and token are read through getters on every request so a rotated `.env` applies at once.
// Only the Pool and its request method, not undici's index: the index loads fetch, WebSocket,
// caches and mocks, which doubles the agent's boot time and bundle size for nothing it uses.
import type { Pool } from 'undici';
import poolRequest from 'undici/lib/api/api-request.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import type { z } from 'zod';
import { formatProblem } from '../protocol/format-issue.ts';
import {
  CatalogResponse,
  type HeartbeatRequest,
  HeartbeatResponse,
  MAX_SPAWN_SECONDS,
  type RegisterRequest,
  RegisterResponse,
  type SpawnRequest,
  SpawnResponse,
  type SubmitTaskRequest,
  SubmitTaskResponse,
  TaskAssignment,
  type TaskResult,
  TaskView,
} from '../protocol/index.ts';
import { answeredError, failureOfThrown, HiveError } from './errors.ts';
import { type HiveTrust, hiveConnector, trustKey } from './tls/connector.ts';
import { tlsRefusal } from './tls/policy.ts';

export interface HiveClientOptions {
  baseUrl: () => string | undefined;
  token: () => string | undefined;
  /** Per-request budget for everything but the long-poll (which adds its wait). */
  timeoutMs?: number;
  /** How an https:// hive is trusted (tls/connector.ts); read with the URL, so a new `.env` applies. */
  trust?: () => HiveTrust | undefined;
}

interface Call<T> {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** The path with ids elided, for messages. */
  label: string;
  body?: unknown;
  schema?: z.ZodType<T>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Only the long-poll may answer 204 (no task). */
  allowEmpty?: boolean;
}

const enc = encodeURIComponent;

export class HiveClient {
  readonly #options: HiveClientOptions;
  #pool: Pool | undefined;
  #poolKey = '';
  #prefix = '';

  constructor(options: HiveClientOptions) {
    this.#options = options;
  }

  register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.#call({
      method: 'POST',
      path: '/v1/agents',
      label: 'register',
      body,
      schema: RegisterResponse,
      signal,
    });
  }

  /** `body.running` names the tasks whose leases the hive should renew (answered `renewed`/`lost`). */
  heartbeat(agentId: string, body: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse> {
    const path = `/v1/agents/${enc(agentId)}/heartbeat`;
    return this.#call({
      method: 'POST',
      path,
      label: 'heartbeat',
      body,
      schema: HeartbeatResponse,
      signal,
    });
  }

  /** Long-poll: a leased task, or null when the hive answered 204 after `waitSeconds`. */
  async poll(agentId: string, waitSeconds: number, signal?: AbortSignal): Promise<TaskAssignment | null> {
    const path = `/v1/agents/${enc(agentId)}/tasks?wait=${waitSeconds}`;
    const timeoutMs = (this.#options.timeoutMs ?? 10_000) + waitSeconds * 1000;
    const task = await this.#call<TaskAssignment | undefined>({
      method: 'GET',
      path,
      label: 'poll',
      schema: TaskAssignment,
      signal,
      timeoutMs,
      allowEmpty: true,
    });
    return task ?? null;
  }

  async postResult(taskId: string, agentId: string, result: TaskResult, signal?: AbortSignal): Promise<void> {
    const path = `/v1/tasks/${enc(taskId)}/result`;
    await this.#call({ method: 'POST', path, label: 'result', body: { ...result, agentId }, signal });
  }

  async release(taskId: string, agentId: string, signal?: AbortSignal): Promise<void> {
    await this.#call({
      method: 'POST',
      path: `/v1/tasks/${enc(taskId)}/release`,
      label: 'release',
      body: { agentId },
      signal,
    });
  }

  async deregister(agentId: string, signal?: AbortSignal): Promise<void> {
    await this.#call({ method: 'DELETE', path: `/v1/agents/${enc(agentId)}`, label: 'deregister', signal });
  }

  submitTask(body: SubmitTaskRequest, signal?: AbortSignal): Promise<SubmitTaskResponse> {
    return this.#call({
      method: 'POST',
      path: '/v1/tasks',
      label: 'submit',
      body,
      schema: SubmitTaskResponse,
      signal,
    });
  }

  getTask(taskId: string, signal?: AbortSignal): Promise<TaskView> {
    return this.#call({
      method: 'GET',
      path: `/v1/tasks/${enc(taskId)}`,
      label: 'task',
      schema: TaskView,
      signal,
    });
  }

  /**
   * `GET /v1/capabilities`: what this tenant can route to right now (its own agents' capabilities
   * and shared lanes'), with descriptions and input schemas; the tool loop's menu.
   */
  capabilities(signal?: AbortSignal): Promise<CatalogResponse> {
    return this.#call({
      method: 'GET',
      path: '/v1/capabilities',
      label: 'capabilities',
      schema: CatalogResponse,
      signal,
    });
  }

  /**
   * `POST /v1/spawn` (DESIGN §8): asks the host's spawn policy for a worker of `req.parent`. Tried
   * once (a repeat could make a second child); the answer comes after the host's executor ran, so
   * the budget is the executor's limit and the caller's signal (the asking script's life) ends it
   * sooner. A refusal is a 'forbidden' HiveError.
   */
  spawn(req: SpawnRequest, signal?: AbortSignal): Promise<SpawnResponse> {
    return this.#call({
      method: 'POST',
      path: '/v1/spawn',
      label: 'spawn',
      body: req,
      schema: SpawnResponse,
      signal,
      timeoutMs: (this.#options.timeoutMs ?? 10_000) + MAX_SPAWN_SECONDS * 1000,
    });
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#poolKey = '';
    await pool?.destroy().catch(() => undefined);
  }

  /** The pool for the current base URL; a rotated URL replaces the pool. */
  #poolFor(): Pool {
    const base = this.#options.baseUrl();
    if (!base) throw new HiveError('no hive URL configured', 'no-credentials');
    const url = new URL(base);
    const trust = this.#options.trust?.();
    const key = `${url.origin} ${trustKey(trust)}`;
    if (this.#pool && key === this.#poolKey) {
      this.#prefix = url.pathname.replace(/\/+$/, '');
      return this.#pool;
    }
    void this.#pool?.close().catch(() => undefined);
    this.#poolKey = key;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    this.#pool = new PoolClass(url.origin, {
      connections: 4,
      keepAliveTimeout: 30_000,
      connect: hiveConnector(trust, 5_000),
    });
    return this.#pool;
  }

  async #call<T>(call: Call<T>): Promise<T> {
    const token = this.#options.token();
    if (!token) throw new HiveError('no hive token configured', 'no-credentials');
    const pool = this.#poolFor();
    const timeoutMs = call.timeoutMs ?? this.#options.timeoutMs ?? 10_000;
    const what = `hive ${call.label}`;
    let status: number;
    let text: string;
    // The deadline is one native timer per request. undici's own headers/body timeouts are off:
    // they run a 2 Hz ticker for as long as a long-poll is pending, i.e. forever while idle.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal;
    try {
      const res = await poolRequest.call(pool, {
        method: call.method,
        path: this.#prefix + call.path,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (deadline.signal.aborted && !call.signal?.aborted) {
        throw new HiveError(`${what} timed out after ${timeoutMs} ms`, 'timeout', { cause: err });
      }
      const reason = failureOfThrown(err);
      const refusal = tlsRefusal(err);
      if (refusal) throw new HiveError(`${what} refused: ${refusal}`, reason, { cause: err });
      const code = (err as { code?: string }).code ?? reason;
      throw new HiveError(`${what} failed: ${code}`, reason, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (status >= 400) throw answeredError(what, status, text);
    if (!call.schema) return undefined as T;
    if (status === 204) {
      if (call.allowEmpty) return undefined as T;
      throw new HiveError(`${what} answered 204 without a body`, 'bad-response', { status });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new HiveError(`${what} answered ${status} with a body that is not JSON`, 'bad-response', {
        status,
        cause: err,
      });
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      throw new HiveError(
        `${what} answered with an invalid body: ${formatProblem(parsed.error, 'body')}`,
        'bad-response',
        {
          status,
        },
      );
    }
    return parsed.data;
  }
}
