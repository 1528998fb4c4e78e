// The crash-loop breaker's record on disk, `<state dir>/crash-loop.json`. I/O only: one small sync
// read at start (no link followed; a file that is not ours, not regular, oversized, not JSON or not
// the schema counts as empty, with one warning that names the path and the reason, never the
// content), and atomic writes (temp file O_EXCL|O_NOFOLLOW 0600, rename): the start record
// synchronously, so that a crash at any moment after the gate is counted; later ones async. No
// fsync: what it guards against is a process loop, which page cache survives; after a power loss an
// empty record is the safe side.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { formatProblem } from '../protocol/format-issue.ts';
import { replaceFile, replaceFileSync } from '../status/atomic-file.ts';
import { CrashLoopRecord, EMPTY_RECORD } from './crash-loop.ts';

const MAX_BYTES = 16 * 1024;

export interface RecordRead {
  record: CrashLoopRecord;
  /** Why an existing file was ignored. */
  warning?: string;
}

export function readCrashLoopRecord(file: string, uid = process.getuid?.()): RecordRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { record: EMPTY_RECORD };
    const why = code === 'ELOOP' ? 'is a symbolic link' : `cannot be opened (${code ?? 'error'})`;
    return ignored(file, why);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return ignored(file, 'is not a regular file');
    if (uid !== undefined && st.uid !== uid) return ignored(file, `is owned by uid ${st.uid}, not ${uid}`);
    if (st.size > MAX_BYTES) return ignored(file, `is ${st.size} bytes (over ${MAX_BYTES})`);
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8', 0, n));
    } catch {
      return ignored(file, 'is not JSON');
    }
    const parsed = CrashLoopRecord.safeParse(json);
    if (!parsed.success)
      return ignored(file, `does not match its schema (${formatProblem(parsed.error, 'record')})`);
    return { record: parsed.data };
  } finally {
    closeSync(fd);
  }
}

function ignored(file: string, why: string): RecordRead {
  return { record: EMPTY_RECORD, warning: `crash-loop record ${file} ${why}; starting from an empty one` };
}

export async function writeCrashLoopRecord(file: string, record: CrashLoopRecord): Promise<void> {
  await replaceFile(file, `${JSON.stringify(record)}\n`, 0o600);
}

export function writeCrashLoopRecordSync(file: string, record: CrashLoopRecord): void {
  replaceFileSync(file, `${JSON.stringify(record)}\n`, 0o600);
}
