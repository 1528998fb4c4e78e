// Conformance run against any coordinator: the target comes from env set by test/conformance/run.ts
// (CLAWDIE_CONFORMANCE_URL, CLAWDIE_CONFORMANCE_ADMIN_TOKEN_FILE, optionally CLAWDIE_CONFORMANCE_CA_FILE).
import { readFileSync } from 'node:fs';
import { defineConformance } from './suites/index.ts';

const url = process.env.CLAWDIE_CONFORMANCE_URL;
const tokenFile = process.env.CLAWDIE_CONFORMANCE_ADMIN_TOKEN_FILE;
if (!url || !tokenFile)
  throw new Error('run through `npm run conformance -- --url URL --admin-token-file F`');
const caFile = process.env.CLAWDIE_CONFORMANCE_CA_FILE;
const target = {
  url: url.replace(/\/+$/, ''),
  adminToken: readFileSync(tokenFile, 'utf8').trim(),
  ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
};

defineConformance(() => target);
