// The hive transport rules (issue 19): which URLs may carry the token, what a pin looks like, how a
// TLS refusal reads. Pure functions, property-tested where the input space is wide.
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { generate } from 'selfsigned';
import { describe, expect, it } from 'vitest';
import {
  ENV_SETTING_NAMES,
  isLoopbackHost,
  PIN_MISMATCH,
  parsePins,
  spkiPin,
  tlsRefusal,
  transportProblem,
} from './policy.ts';

const N = ENV_SETTING_NAMES;
const PIN = `sha256/${Buffer.alloc(32, 7).toString('base64')}`;

describe('transportProblem', () => {
  it('allows https anywhere, and http only on loopback or a declared private network', () => {
    expect(transportProblem({ url: 'https://hive.example.org' }, N)).toBeNull();
    expect(transportProblem({ url: 'https://10.0.0.5:8443', pins: PIN }, N)).toBeNull();
    for (const host of ['127.0.0.1', '127.3.2.1', 'localhost', '[::1]'])
      expect(transportProblem({ url: `http://${host}:9` }, N)).toBeNull();
    expect(transportProblem({ url: 'http://10.0.0.5:8080' }, N)).toMatchObject({
      field: 'CLAWDIE_HIVE_URL',
      message: expect.stringContaining('CLAWDIE_HIVE_PRIVATE_NETWORK'),
    });
    expect(transportProblem({ url: 'http://10.0.0.5:8080', privateNetwork: true }, N)).toBeNull();
  });

  it('refuses a pin beside a plain http URL (a pin nobody checks would be plain text in disguise)', () => {
    expect(transportProblem({ url: 'http://127.0.0.1:9', pins: PIN }, N)).toMatchObject({
      field: 'CLAWDIE_HIVE_TLS_PIN',
    });
  });

  it('never lets plain http leave loopback without the switch, whatever the host', () => {
    fc.assert(
      fc.property(fc.domain(), fc.ipV4(), fc.boolean(), (domain, ip, useIp) => {
        const host = useIp ? ip : domain;
        const verdict = transportProblem({ url: `http://${host}:8080` }, N);
        expect(verdict === null).toBe(isLoopbackHost(new URL(`http://${host}`).hostname));
        expect(transportProblem({ url: `https://${host}:8443` }, N)).toBeNull();
      }),
    );
  });
});

describe('pins', () => {
  it('parses one or several sha256/ pins and refuses anything else', () => {
    expect(parsePins(PIN)).toEqual([PIN]);
    expect(parsePins(`${PIN}, ${PIN}`)).toEqual([PIN, PIN]);
    for (const bad of [
      '',
      'sha256/abc',
      PIN.replace('sha256/', 'sha1/'),
      `${PIN},nope`,
      Array(9).fill(PIN).join(','),
    ])
      expect(parsePins(bad)).toBeNull();
  });

  it('is the SHA-256 of the SubjectPublicKeyInfo (what openssl pkey -pubin -outform der | sha256 gives)', async () => {
    const pair = await generate([{ name: 'commonName', value: 'hive' }], { keyType: 'ec', curve: 'P-256' });
    const cert = new X509Certificate(pair.cert);
    const der = cert.publicKey.export({ type: 'spki', format: 'der' });
    const { createHash } = await import('node:crypto');
    expect(spkiPin(cert)).toBe(`sha256/${createHash('sha256').update(der).digest('base64')}`);
    expect(parsePins(spkiPin(cert))).toHaveLength(1);
  });
});

describe('tlsRefusal', () => {
  it('names certificate and pin refusals, and leaves other errors alone', () => {
    expect(tlsRefusal({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).toMatch(/not trusted \(UNABLE_TO_VERIFY/);
    expect(tlsRefusal({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).toMatch(/not trusted/);
    expect(tlsRefusal({ code: PIN_MISMATCH })).toMatch(/matches no configured pin/);
    expect(tlsRefusal({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' })).toMatch(/handshake/);
    expect(tlsRefusal({ code: 'ECONNREFUSED' })).toBeNull();
    expect(tlsRefusal(new Error('x'))).toBeNull();
  });
});
