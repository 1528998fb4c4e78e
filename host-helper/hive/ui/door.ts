// `/ui` on the hive (issue 19): the static page (no data in it), and its small read-only API —
//   POST /ui/api/link     admin bearer      → {code, expiresInSeconds}: for `clawdie-host ui`'s link
//   POST /ui/api/session  {code} or admin bearer → {token, expiresAt}: a read-only session
//   GET  /ui/api/state    session bearer    → the snapshot (snapshot.ts)
// Every answer forbids framing, sniffing and referrers; the page may load only its own files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { Coordinator } from '../coordinator.ts';
import { forbidden, HttpError, unauthorized } from '../http/http-error.ts';
import { parseWith, readJson, sendJson } from '../http/json-io.ts';
import type { Door } from '../http/server.ts';
import type { HiveStore } from '../store/store.ts';
import { bearerToken } from '../tokens.ts';
import type { Activity } from './activity.ts';
import { uiAssets } from './assets.ts';
import type { UiSessions } from './sessions.ts';
import { buildSnapshot } from './snapshot.ts';

const RECENT_TASKS = 20;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SessionRequest = z.object({ code: z.string().min(20).max(100).optional() });

export interface UiParts {
  hive: Coordinator;
  store: HiveStore;
  activity: Activity;
  sessions: UiSessions;
  now?: () => number;
}

function secureHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
}

function only(req: IncomingMessage, res: ServerResponse, method: 'GET' | 'POST'): void {
  if (req.method === method || (method === 'GET' && req.method === 'HEAD')) return;
  res.setHeader('allow', method === 'GET' ? 'GET, HEAD' : 'POST');
  throw new HttpError('method_not_allowed', 'method not allowed here');
}

export function uiDoor(parts: UiParts): Door {
  const now = parts.now ?? Date.now;
  const isAdmin = async (req: IncomingMessage): Promise<boolean> => {
    const token = bearerToken(req.headers.authorization);
    if (token === null) return false;
    try {
      return (await parts.hive.authenticate(token)).kind === 'admin';
    } catch {
      return false;
    }
  };

  async function api(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    res.setHeader('cache-control', 'no-store');
    if (name === 'link') {
      only(req, res, 'POST');
      if (!(await isAdmin(req)))
        throw bearerToken(req.headers.authorization) ? forbidden('admin token required') : unauthorized();
      return sendJson(res, 201, parts.sessions.issueCode());
    }
    if (name === 'session') {
      only(req, res, 'POST');
      const body = parseWith(SessionRequest, (await readJson(req, 4096)) ?? {});
      if (body.code !== undefined) {
        const s = parts.sessions.redeemCode(body.code);
        if (!s)
          throw new HttpError(
            'unauthorized',
            'the link is used or expired; ask clawdie-host ui for a new one',
          );
        return sendJson(res, 201, s);
      }
      if (!(await isAdmin(req))) throw unauthorized();
      return sendJson(res, 201, parts.sessions.openSession());
    }
    if (name === 'state') {
      only(req, res, 'GET');
      if (!parts.sessions.valid(bearerToken(req.headers.authorization))) throw unauthorized();
      const [agents, queue, recent] = await Promise.all([
        parts.store.listAgents(),
        parts.store.queueStats(),
        parts.store.recentTasks(RECENT_TASKS),
      ]);
      const snapshot = buildSnapshot({
        now: now(),
        parkedPolls: parts.hive.parkedPolls,
        agents,
        queue,
        activity: parts.activity.series(),
        recent,
      });
      return sendJson(res, 200, snapshot);
    }
    throw new HttpError('not_found', 'no such route');
  }

  return {
    path: '/ui',
    async handle(req, res, path) {
      secureHeaders(res);
      if (path.startsWith('/ui/api/')) return api(req, res, path.slice('/ui/api/'.length));
      const name = path === '/ui' || path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
      const asset = Object.hasOwn(uiAssets(), name) ? uiAssets()[name] : undefined;
      if (!asset) throw new HttpError('not_found', 'no such file');
      only(req, res, 'GET');
      const body = Buffer.from(asset.body);
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': body.length,
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  };
}
