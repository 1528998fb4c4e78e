// Test support: one JSON request to an HTTP API (the hive's) with a bearer token, answered with the
// status and the parsed body (null when the body is empty). No retries: a test sees every reply.
export async function bearerJson<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  route: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}
