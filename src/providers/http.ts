// The one HTTP call of the providers: undici's `request(url, options)` on its global dispatcher (a
// keep-alive Agent), taken from undici's narrow entry points as the hive client does. The index
// would load fetch, WebSocket, caches and mocks (half the agent bundle) for nothing a provider uses.
// In: a URL and request options. Out: undici's response data; undici's own errors on failure.
import type { Dispatcher } from 'undici';
import request from 'undici/lib/api/api-request.js';
import undiciErrors from 'undici/lib/core/errors.js';
import undiciUtil from 'undici/lib/core/util.js';
import undiciGlobal from 'undici/lib/global.js';

export { undiciErrors };

export type HttpRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher?: Dispatcher;
};

/** What undici's index `request(url, opts)` does: parse the URL, then request on the dispatcher. */
export function httpRequest(url: string, options: HttpRequestOptions): Promise<Dispatcher.ResponseData> {
  const parsed = undiciUtil.parseURL(url);
  const { dispatcher = undiciGlobal.getGlobalDispatcher(), ...rest } = options;
  return request.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
    method: options.method ?? (options.body ? 'PUT' : 'GET'),
  });
}
