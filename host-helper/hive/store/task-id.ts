// Task ids: UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made
// close in time sort close together, so a new task lands on the last page of the task-id index
// instead of a random one: a group commit of N submits writes one index page, not N (with random
// v4 ids that index was most of the WAL written per task). Still unguessable in practice, though
// nothing relies on that: every task endpoint checks the token's tenant.
import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in batches (one call into the CSPRNG per 409 ids). */
const POOL = Buffer.alloc(4096);
let used = POOL.length;
const id = Buffer.alloc(16);

export function newTaskId(now: number = Date.now()): string {
  if (used + 10 > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  POOL.copy(id, 6, used, used + 10);
  used += 10;
  id.writeUIntBE(now, 0, 6);
  id[6] = (id[6]! & 0x0f) | 0x70; // version 7
  id[8] = (id[8]! & 0x3f) | 0x80; // variant 10
  const h = id.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
