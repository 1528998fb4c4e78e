// The demo's pure parts: provider choice and the vault fixture it implies (the real key goes only
// into the tenant's vault item; offline, the fake provider's URL does), PNG sizing, step heads.
import { describe, expect, it } from 'vitest';
import { pngSize } from './chain.ts';
import { chooseProvider, DEMO_LANE, DEMO_TENANT, demoFixture } from './fixtures.ts';
import { stepHead } from './progress.ts';

const items = (f: ReturnType<typeof demoFixture>, collection: string) =>
  f.organizations[0]?.collections.find((c) => c.name === collection)?.items ?? [];

describe('demo provider and vault fixture', () => {
  it('prefers OpenRouter, then DeepSeek, else the offline fake', () => {
    expect(chooseProvider({ OPENROUTER_API_KEY: 'a', DEEPSEEK_API_KEY: 'b' })).toMatchObject({
      kind: 'real',
      keyVar: 'OPENROUTER_API_KEY',
    });
    expect(chooseProvider({ DEEPSEEK_API_KEY: 'b' })).toMatchObject({
      kind: 'real',
      keyVar: 'DEEPSEEK_API_KEY',
    });
    expect(chooseProvider({ OPENROUTER_API_KEY: '' })).toEqual({ kind: 'fake' });
  });

  it('puts a real key into the tenant item only, with no base URL override', () => {
    const env = { DEEPSEEK_API_KEY: 'sk-real-key-value' };
    const f = demoFixture(chooseProvider(env), env, undefined, () => 'r');
    expect(items(f, DEMO_TENANT)).toEqual([
      { name: 'DEEPSEEK_API_KEY', type: 'login', password: 'sk-real-key-value' },
    ]);
    expect(JSON.stringify(items(f, DEMO_LANE))).not.toContain('sk-real-key-value');
  });

  it('offline, points the tenant at the fake provider', () => {
    const f = demoFixture({ kind: 'fake' }, {}, 'http://127.0.0.1:1234/v1', () => 'r');
    expect(items(f, DEMO_TENANT).map((i) => i.name)).toEqual([
      'OPENROUTER_API_KEY',
      'OPENROUTER_BASE_URL',
      'CLAWDIE_MODEL',
    ]);
    expect(items(f, DEMO_TENANT)[1]).toMatchObject({ notes: 'http://127.0.0.1:1234/v1' });
  });
});

describe('demo output helpers', () => {
  it('reads PNG dimensions from the IHDR chunk and refuses anything else', () => {
    const png = Buffer.alloc(24);
    Buffer.from('89504e470d0a1a0a', 'hex').copy(png);
    png.writeUInt32BE(480, 16);
    png.writeUInt32BE(288, 20);
    expect(pngSize(png)).toEqual({ width: 480, height: 288 });
    expect(pngSize(Buffer.from('GIF89a not a png at all.'))).toBeNull();
  });

  it('aligns step heads', () => {
    expect(stepHead(1234, 'chat task')).toBe('[  1.2s] chat task ................. ');
    expect(stepHead(61_000, 'provision (1 bw session)')).toBe('[ 61.0s] provision (1 bw session) .. ');
  });
});
