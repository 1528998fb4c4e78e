// Providers against the fake OpenAI-compatible server (real HTTP, real SSE): streaming, retry with
// Retry-After through an injected sleep, typed errors, timeouts, and the key never passed on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import {
  ProviderAuthError,
  ProviderRequestError,
  ProviderTimeoutError,
  ProviderUnavailableError,
} from './errors.ts';
import { providerFromEnv, selectedProvider } from './select.ts';

const KEY = 'sk-test-provider-key-0123456789abcdef';
let fake: FakeLlm;

beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY });
});
afterAll(async () => {
  await fake.close();
});

function makeProvider(extra: Record<string, string> = {}, timeoutMs = 5_000) {
  const sleeps: number[] = [];
  const provider = providerFromEnv(
    { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.url, ...extra },
    {
      timeoutMs,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
  );
  return { provider, sleeps };
}

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'hello there' },
];

describe('provider selection', () => {
  it('prefers OpenRouter, falls back to DeepSeek, refuses without a key', () => {
    expect(selectedProvider({ OPENROUTER_API_KEY: 'a', DEEPSEEK_API_KEY: 'b' })).toBe('openrouter');
    expect(selectedProvider({ DEEPSEEK_API_KEY: 'b' })).toBe('deepseek');
    expect(() => providerFromEnv({})).toThrow(/no LLM provider key/);
    expect(providerFromEnv({ DEEPSEEK_API_KEY: 'b' }).defaultModel).toBe('deepseek-flash');
    expect(providerFromEnv({ DEEPSEEK_API_KEY: 'b', CLAWDIE_MODEL: 'm1' }).defaultModel).toBe('m1');
  });
});

describe('chat completions against the fake server', () => {
  it('streams the answer piece by piece with the key only in the Authorization header', async () => {
    const { provider } = makeProvider({ CLAWDIE_MODEL: 'test/model' });
    const deltas: string[] = [];
    const result = await provider.chat({ messages }, { onDelta: (d) => deltas.push(d) });
    expect(result.text).toBe('fake reply to: hello there');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe(result.text);
    expect(result.finishReason).toBe('stop');
    expect(result.model).toBe('test/model');
    const last = fake.requests.at(-1)!;
    expect(last.body.stream).toBe(true);
    expect(last.body.messages).toEqual(messages);
    expect(last.authorization).toBe(`Bearer ${KEY}`);
  });

  it('retries 429 honouring Retry-After (injected sleep) and then succeeds', async () => {
    const { provider, sleeps } = makeProvider();
    fake.failNext(429, { retryAfter: 7 });
    fake.failNext(503);
    const result = await provider.chat({ messages });
    expect(result.attempts).toBe(3);
    // 7 s from Retry-After, then jittered backoff for the 503 (random 0.5 of 2 * 500 ms).
    expect(sleeps).toEqual([7_000, 500]);
  });

  it('gives up after the attempt budget with a retryable typed error', async () => {
    const { provider, sleeps } = makeProvider();
    fake.failNext(500, { times: 4 });
    const err = await provider.chat({ messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as ProviderUnavailableError).kind).toBe('retryable');
    expect((err as ProviderUnavailableError).status).toBe(500);
    expect(sleeps).toHaveLength(3);
  });

  it('does not wait for a Retry-After beyond the cap', async () => {
    const { provider, sleeps } = makeProvider();
    fake.failNext(429, { retryAfter: 3600 });
    await expect(provider.chat({ messages })).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(sleeps).toEqual([]);
  });

  it('401 is a fatal auth error that never contains the key, even when the server echoes it', async () => {
    const wrong = 'sk-wrong-key-that-must-not-leak-42';
    const provider = providerFromEnv(
      { OPENROUTER_API_KEY: wrong, OPENROUTER_BASE_URL: fake.url },
      { sleep: async () => {} },
    );
    const before = fake.requests.length;
    const err = await provider.chat({ messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderAuthError);
    expect((err as Error).message).toMatch(/HTTP 401/);
    expect(JSON.stringify(err)).not.toContain(wrong);
    expect(`${(err as Error).message}${(err as Error).stack}`).not.toContain(wrong);
    expect(fake.requests.length - before).toBe(1); // not retried
  });

  it('400 is a fatal request error carrying the provider message', async () => {
    const { provider, sleeps } = makeProvider();
    const err = await provider.chat({ messages, model: 'bad-model' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderRequestError);
    expect((err as Error).message).toMatch(/HTTP 400.*not a valid model/);
    expect(sleeps).toEqual([]);
  });

  it('times out on slow headers, retries, and succeeds when the server recovers', async () => {
    const { provider, sleeps } = makeProvider({}, 150);
    fake.slowNext(1_000);
    const result = await provider.chat({ messages });
    expect(result.attempts).toBe(2);
    expect(sleeps).toHaveLength(1);
  });

  it('a stream that stalls after text was delivered fails with a timeout, not a duplicate retry', async () => {
    const { provider, sleeps } = makeProvider({}, 150);
    fake.stallNext(2);
    const deltas: string[] = [];
    const err = await provider
      .chat({ messages }, { onDelta: (d) => deltas.push(d) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderTimeoutError);
    expect(deltas.join('')).toBe('fake reply ');
    expect(sleeps).toEqual([]);
  });

  it('an unreachable provider is a retryable unavailable error', async () => {
    const provider = providerFromEnv(
      { DEEPSEEK_API_KEY: KEY, DEEPSEEK_BASE_URL: 'http://127.0.0.1:1/v1' },
      { sleep: async () => {} },
    );
    const err = await provider.chat({ messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect((err as Error).message).toMatch(/unreachable/);
  });
});
