// Conformance run against any coordinator: the target comes from env set by test/conformance/run.ts
// (CLAWDIE_CONFORMANCE_URL and CLAWDIE_CONFORMANCE_ADMIN_TOKEN_FILE).
import { readFileSync } from 'node:fs';
import { defineConformance } from './suites/index.ts';

const url = process.env.CLAWDIE_CONFORMANCE_URL;
const tokenFile = process.env.CLAWDIE_CONFORMANCE_ADMIN_TOKEN_FILE;
if (!url || !tokenFile)
  throw new Error('run through `npm run conformance -- --url URL --admin-token-file F`');
const target = { url: url.replace(/\/+$/, ''), adminToken: readFileSync(tokenFile, 'utf8').trim() };

defineConformance(() => target);
