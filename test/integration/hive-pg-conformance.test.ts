// The protocol conformance suites (test/conformance) against the reference coordinator on
// PostgreSQL (`--db postgres://…`): once against one replica, once against two replicas over the
// same database with every request going to the other replica than the one before (a poll parks on
// one, the submit that wakes it lands on the other). Real processes beside a throwaway cluster.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Target } from '../conformance/client.ts';
import { defineConformance } from '../conformance/suites/index.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';

const server = await startPostgres();
const skip = 'skip' in server ? server.skip : null;
if (skip) process.stderr.write(`hive-pg-conformance skipped: ${skip}\n`);

afterAll(async () => {
  if (!('skip' in server)) await server.stop();
});

describe.skipIf(skip !== null)('conformance on PostgreSQL, one replica', () => {
  let hive: HiveProcess;
  let target: Target;
  beforeAll(async () => {
    if ('skip' in server) return;
    hive = await startHive({ dbPath: await server.createDatabase() });
    target = { url: hive.url, adminToken: hive.adminToken };
  });
  afterAll(() => hive?.stop());
  defineConformance(() => target);
});

describe.skipIf(skip !== null)('conformance on PostgreSQL, two replicas taking turns', () => {
  let replicas: HiveProcess[] = [];
  let target: Target;
  beforeAll(async () => {
    if ('skip' in server) return;
    const dbPath = await server.createDatabase();
    const adminToken = randomBytes(32).toString('base64url');
    replicas = await Promise.all([startHive({ dbPath, adminToken }), startHive({ dbPath, adminToken })]);
    let turn = 0;
    // Each request of the suites reads `url` once: alternate between the replicas.
    target = {
      get url() {
        return replicas[turn++ % replicas.length]!.url;
      },
      adminToken,
    };
  });
  afterAll(() => Promise.all(replicas.map((r) => r.stop())));
  defineConformance(() => target);
});
