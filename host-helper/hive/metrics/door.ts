// Where the metrics are scraped (issue 19): `GET /metrics` on the hive's own listener with the admin
// token as bearer (401 without a token, 403 with a tenant's), and optionally a separate plain-HTTP
// listener (`--metrics-listen ADDR`, for scrapers on a private network) that answers `GET /metrics`
// without a token and nothing else. In: requests; out: the Prometheus text format.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../../../src/log.ts';
import type { Coordinator } from '../coordinator.ts';
import { forbidden, HttpError } from '../http/http-error.ts';
import { sendError } from '../http/json-io.ts';
import type { Door } from '../http/server.ts';
import { bearerToken } from '../tokens.ts';
import type { HiveMetrics } from './hive-metrics.ts';

async function answer(metrics: HiveMetrics, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    throw new HttpError('method_not_allowed', 'method not allowed here');
  }
  const { contentType, text } = await metrics.render();
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export function metricsDoor(metrics: HiveMetrics, hive: Coordinator): Door {
  return {
    path: '/metrics',
    async handle(req, res, path) {
      if (path !== '/metrics') throw new HttpError('not_found', 'no such route');
      const p = await hive.authenticate(bearerToken(req.headers.authorization));
      if (p.kind !== 'admin') throw forbidden('admin token required');
      await answer(metrics, req, res);
    },
  };
}

/** The token-less listener of `--metrics-listen`: /metrics only, for a private network. */
export function metricsListener(metrics: HiveMetrics, log: Logger): Server {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const done =
      path === '/metrics'
        ? answer(metrics, req, res)
        : Promise.reject(new HttpError('not_found', 'no such route'));
    done.catch((err: unknown) => {
      if (!(err instanceof HttpError)) log.error({ err }, 'metrics request failed');
      sendError(req, res, err instanceof HttpError ? err : new HttpError('internal', 'internal error'));
    });
  });
  return server;
}
