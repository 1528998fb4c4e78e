// The host's hive admin client against a real `hive serve` process: a refusal becomes one line
// with the status and the hive's error code (read by the shared protocol reader), never a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiveAdminError, hiveAdmin } from '../../host-helper/hive-admin/client.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { rejectionOf } from '../support/thrown.ts';

let hive: HiveProcess;

beforeAll(async () => {
  hive = await startHive({});
}, 60_000);
afterAll(async () => {
  await hive?.stop();
});

describe('hive admin client', () => {
  it('names the status and the hive error code of a refusal', async () => {
    const wrong = hiveAdmin(hive.url, 'not-the-admin-token');
    const right = hiveAdmin(hive.url, hive.adminToken);
    try {
      const refused = await rejectionOf(HiveAdminError, wrong.listAgents());
      expect({ message: refused.message, status: refused.status, kind: refused.kind }).toEqual({
        message: 'hive list agents: HTTP 401 unauthorized',
        status: 401,
        kind: 'fatal',
      });
      const bad = await rejectionOf(HiveAdminError, right.mintToken('Not_A_Tenant', false));
      expect(bad.message).toBe('hive mint token: HTTP 400 bad_request');
      expect((await right.listAgents()).agents).toEqual([]);
    } finally {
      await wrong.close();
      await right.close();
    }
  });
});
