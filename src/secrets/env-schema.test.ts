// The .env schema: DESIGN §4 keys, one-of API keys, unknown keys kept, failures name the key only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEnvText } from './env-schema.ts';

const good = 'CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=http://127.0.0.1:9\nCLAWDIE_HIVE_TOKEN=t0k3n\n';

describe('parseEnvText', () => {
  it('accepts either provider key, keeps unknown keys and the optional model', () => {
    const a = parseEnvText(`${good}OPENROUTER_API_KEY=k1\nCLAWDIE_MODEL=m\nSKILL_X=1\n`);
    expect(a.ok && a.env).toMatchObject({
      CLAWDIE_TENANT: 'acme',
      OPENROUTER_API_KEY: 'k1',
      CLAWDIE_MODEL: 'm',
      SKILL_X: '1',
    });
    expect(parseEnvText(`${good}DEEPSEEK_API_KEY=k2\n`).ok).toBe(true);
  });

  it('takes a pin with an https hive, and plain http off loopback only on a declared private network', () => {
    const pin = `sha256/${'A'.repeat(43)}=`;
    const https = good.replace('http://127.0.0.1:9', 'https://hive.example.org');
    expect(parseEnvText(`${https}OPENROUTER_API_KEY=k\nCLAWDIE_HIVE_TLS_PIN=${pin},${pin}\n`).ok).toBe(true);
    const lan = good.replace('127.0.0.1', '10.0.0.5');
    expect(parseEnvText(`${lan}OPENROUTER_API_KEY=k\nCLAWDIE_HIVE_PRIVATE_NETWORK=yes\n`).ok).toBe(true);
  });

  it('names what is missing or wrong', () => {
    const cases: Array<[string, string]> = [
      [good, 'OPENROUTER_API_KEY: one of OPENROUTER_API_KEY or DEEPSEEK_API_KEY is required'],
      ['CLAWDIE_HIVE_URL=http://h\nCLAWDIE_HIVE_TOKEN=t\nOPENROUTER_API_KEY=k\n', 'CLAWDIE_TENANT:'],
      [`${good.replace('t0k3n', '')}OPENROUTER_API_KEY=k\n`, 'CLAWDIE_HIVE_TOKEN: must not be empty'],
      [`${good.replace('acme', 'ACME')}OPENROUTER_API_KEY=k\n`, 'CLAWDIE_TENANT: must be'],
      [
        `${good.replace('http://127.0.0.1:9', 'http://u:pw@h')}OPENROUTER_API_KEY=k\n`,
        'CLAWDIE_HIVE_URL: must be an http(s) URL',
      ],
      ['just some words\n', 'holds no KEY=value lines'],
      [
        `${good.replace('127.0.0.1', '10.0.0.5')}OPENROUTER_API_KEY=k\n`,
        'CLAWDIE_HIVE_URL: must be https:// unless the host is loopback or CLAWDIE_HIVE_PRIVATE_NETWORK',
      ],
      [`${good}OPENROUTER_API_KEY=k\nCLAWDIE_HIVE_TLS_PIN=sha256/x\n`, 'CLAWDIE_HIVE_TLS_PIN: must be 1-8'],
      [
        `${good}OPENROUTER_API_KEY=k\nCLAWDIE_HIVE_TLS_PIN=sha256/${'A'.repeat(43)}=\n`,
        'CLAWDIE_HIVE_TLS_PIN: is set, so CLAWDIE_HIVE_URL must be https://',
      ],
      [
        `${good}OPENROUTER_API_KEY=k\nCLAWDIE_HIVE_PRIVATE_NETWORK=maybe\n`,
        'CLAWDIE_HIVE_PRIVATE_NETWORK: must be yes',
      ],
      [`${good}OPENROUTER_API_KEY=k\nbad-key=1\n`, 'is not a valid variable name'],
    ];
    for (const [text, want] of cases) {
      const r = parseEnvText(text);
      expect(r.ok, want).toBe(false);
      if (!r.ok) expect(r.reason).toContain(want);
    }
  });

  it('never echoes a value in its reason, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8 }).filter((s) => /^[A-Za-z0-9]+$/.test(s)),
        (secret) => {
          for (const text of [
            `CLAWDIE_TENANT=${secret}\nCLAWDIE_HIVE_URL=${secret}\nCLAWDIE_HIVE_TOKEN=${secret}\nOPENROUTER_API_KEY=${secret}`,
            `CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=ftp://${secret}\nCLAWDIE_HIVE_TOKEN=${secret}`,
          ]) {
            const r = parseEnvText(text);
            if (!r.ok) expect(r.reason).not.toContain(secret);
          }
        },
      ),
    );
  });
});
