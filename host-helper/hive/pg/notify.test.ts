// Payloads of the cross-replica events: what a writer puts in a notification reads back as the same
// event on another replica, the author's own are dropped, and anything else is ignored, not thrown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePayload, taskPayload } from './notify.ts';

const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);

describe('notification payloads', () => {
  it('a task event round-trips to another replica and is dropped by its author', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        name,
        name,
        fc.boolean(),
        fc.nat({ max: 2 ** 50 }),
        (taskId, tenant, capability, queued, deadline) => {
          const text = taskPayload('aaaa', { taskId, tenant, capability, queued, deadline });
          expect(Buffer.byteLength(text)).toBeLessThan(8000);
          expect(parsePayload(text, 'bbbb')).toEqual({
            kind: 'task',
            taskId,
            tenant,
            capability,
            queued,
            deadline,
          });
          expect(parsePayload(text, 'aaaa')).toBeNull();
        },
      ),
    );
  });

  it('reads agent and tenant events as PostgreSQL writes them (bigint deadlines may be strings)', () => {
    expect(parsePayload('{"o":"x","k":"a","id":"ag-1","live":false}', 'y')).toEqual({
      kind: 'agent',
      agentId: 'ag-1',
      live: false,
    });
    expect(parsePayload('{"o":"x","k":"n","tn":"acme"}', 'y')).toEqual({ kind: 'tenant', tenant: 'acme' });
    expect(parsePayload('{"o":"x","k":"t","id":"t","tn":"a","c":"c","q":true,"at":"17"}', 'y')).toMatchObject(
      {
        deadline: 17,
      },
    );
  });

  it('ignores what is not one of ours', () => {
    for (const text of ['', 'not json', '{}', '{"o":"x","k":"z"}', '{"o":"x","k":"a","id":"a"}', '[1]']) {
      expect(parsePayload(text, 'y')).toBeNull();
    }
  });
});
