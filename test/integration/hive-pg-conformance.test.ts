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
  let short: HiveProcess;
  let target: Target;
  beforeAll(async () => {
    if ('skip' in server) return;
    // A second database with a coordinator of 2 s leases, for the cases that watch a lease run out.
    const [dbPath, shortDb] = await Promise.all([server.createDatabase(), server.createDatabase()]);
    [hive, short] = await Promise.all([
      startHive({ dbPath }),
      startHive({ dbPath: shortDb, leaseSeconds: 2 }),
    ]);
    target = {
      url: hive.url,
      adminToken: hive.adminToken,
      shortLease: { url: short.url, adminToken: short.adminToken },
    };
  });
  afterAll(() => Promise.all([hive?.stop(), short?.stop()]));
  defineConformance(() => target);
});

describe.skipIf(skip !== null)('conformance on PostgreSQL, two replicas taking turns', () => {
  let replicas: HiveProcess[] = [];
  let target: Target;
  beforeAll(async () => {
    if ('skip' in server) return;
    const dbPath = await server.createDatabase();
    const adminToken = randomBytes(32).toString('base64url');
    // Two more replicas with 2 s leases over their own database, taking turns the same way, for the
    // cases that watch a lease run out (a renewal on one replica, the sweep on the other).
    const shortDb = await server.createDatabase();
    replicas = await Promise.all([
      startHive({ dbPath, adminToken }),
      startHive({ dbPath, adminToken }),
      startHive({ dbPath: shortDb, adminToken, leaseSeconds: 2 }),
      startHive({ dbPath: shortDb, adminToken, leaseSeconds: 2 }),
    ]);
    const turns = (pair: HiveProcess[]): Target => {
      let turn = 0;
      // Each request of the suites reads `url` once: alternate between the replicas.
      return {
        get url() {
          return pair[turn++ % pair.length]!.url;
        },
        adminToken,
      };
    };
    // (Not spread: that would read the `url` getter once.)
    target = turns(replicas.slice(0, 2));
    target.shortLease = turns(replicas.slice(2));
  });
  afterAll(() => Promise.all(replicas.map((r) => r.stop())));
  defineConformance(() => target);
});
