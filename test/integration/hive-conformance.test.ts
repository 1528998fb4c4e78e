// The protocol conformance suites (test/conformance) run against a freshly started reference
// coordinator, as a real process on a loopback port.
import { afterAll, beforeAll } from 'vitest';
import type { Target } from '../conformance/client.ts';
import { defineConformance } from '../conformance/suites/index.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';

let hive: HiveProcess;
let target: Target;

beforeAll(async () => {
  hive = await startHive();
  target = { url: hive.url, adminToken: hive.adminToken };
});
afterAll(() => hive?.stop());

defineConformance(() => target);
