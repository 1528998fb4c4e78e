// fsError: which raw fs errors become a refusal (a plant or race by the jail) and which a failure
// naming the step; typed errors pass through; the errno stays reachable as `cause`.
import { describe, expect, it } from 'vitest';
import { HostError } from '../exit-codes.ts';
import { EnvFileError, fsError, fsStep, UnsafePathError } from './fs-errors.ts';

const errno = (code: string, no: number): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something, rename '/proc/self/fd/7/x' -> '/proc/self/fd/7/.env'`), {
    code,
    errno: no,
  });

describe('fsError', () => {
  it('a race or plant the jail can cause is a one-line refusal naming the path and what was wrong', () => {
    for (const [code, what] of [
      ['EISDIR', 'is a directory'],
      ['ENOENT', 'disappeared'],
      ['ENOTDIR', 'is not a directory'],
      ['ELOOP', 'is a symbolic link'],
      ['EEXIST', 'already exists'],
      ['ENOTEMPTY', 'is a non-empty directory'],
    ] as const) {
      const cause = errno(code, -1);
      const e = fsError(cause, '/j/alpha/root/home/clawdie/.env', 'renaming the new file into place', 'jail');
      expect(e).toBeInstanceOf(UnsafePathError);
      expect(e.message).toBe(
        `refused: /j/alpha/root/home/clawdie/.env ${what} (renaming the new file into place)`,
      );
      expect(e.exitCode).toBe(4);
      expect(e.cause).toBe(cause);
    }
  });

  it('anything else is a failure naming the step and the errno, never the raw message', () => {
    const cause = errno('EIO', -5);
    const e = fsError(cause, '/j/alpha/root/home/clawdie', 'syncing the directory', 'host');
    expect(e).toBeInstanceOf(EnvFileError);
    expect(e.message).toBe('failed: syncing the directory /j/alpha/root/home/clawdie: EIO (i/o error)');
    expect(e.message).not.toContain('/proc/self/fd');
    expect(e.exitCode).toBe(1);
    expect(e.kind).toBe('fatal');
    expect(e.cause).toBe(cause);
    expect(fsError(errno('ENOSPC', -28), '/x', 'writing the temp file', 'host').kind).toBe('retryable');
  });

  it('blames the host for calls on our own descriptors, whatever the errno', () => {
    expect(fsError(errno('ENOENT', -2), '/x', 'writing the temp file', 'host')).toBeInstanceOf(EnvFileError);
  });

  it('passes typed errors through and survives values that are not errors', () => {
    const typed = new UnsafePathError('refused: already typed');
    expect(fsError(typed, '/x', 'y', 'jail')).toBe(typed);
    const odd = fsError('a string', '/x', 'reading', 'jail');
    expect(odd).toBeInstanceOf(HostError);
    expect(odd.message).toBe('failed: reading /x: error');
    expect(() =>
      fsStep('/x', 'reading', 'jail', () => {
        throw errno('ELOOP', -40);
      }),
    ).toThrow(/^refused: \/x is a symbolic link \(reading\)$/);
  });
});
