// Writes the agent's status file, `<state dir>/status.json` (DESIGN §3): pretty JSON, replaced
// atomically (temp file, rename; no fsync: it is rewritten often and a reader only needs a whole
// file, never a durable one). Apart from ./status.ts, which holds its schema and reader, so the
// agent's boot (which only writes it) never builds that schema.
import { replaceFileSync } from './atomic-file.ts';
import type { AgentStatus } from './status.ts';

export function writeStatusAtomic(file: string, status: AgentStatus): void {
  replaceFileSync(file, `${JSON.stringify(status, null, 2)}\n`, 0o644);
}
