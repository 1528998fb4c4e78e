// atomic-file.ts on real files: both forms write the whole text with the asked mode into a 0700
// directory they create, leave no temp file, replace a link at the target instead of writing
// through it, and, when the write fails (a full tmpfs, root only), keep the old file and remove
// their temp file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replaceFile, replaceFileSync } from './atomic-file.ts';

const IS_ROOT = process.getuid?.() === 0;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-atomic-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const forms = {
  // async only so that a throw becomes a rejection like the other form's
  sync: async (file: string, text: string, mode: number) => replaceFileSync(file, text, mode),
  'sync, fsync': async (file: string, text: string, mode: number) =>
    replaceFileSync(file, text, mode, { fsync: true }),
  async: (file: string, text: string, mode: number) => replaceFile(file, text, mode, { fsync: true }),
};

describe.each(Object.entries(forms))('replaceFile (%s)', (_name, replace) => {
  it('writes the whole text with the mode into a 0700 directory it makes, no temp file left', async () => {
    const file = path.join(dir, 'state', 'status.json');
    await replace(file, '{"a":1}\n', 0o600);
    await replace(file, '{"a":2}\n', 0o640);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":2}\n');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['status.json']);
  });

  it('replaces a link at the target instead of writing through it', async () => {
    const outside = path.join(dir, 'outside');
    fs.writeFileSync(outside, 'keep\n');
    const file = path.join(dir, 'status.json');
    fs.symlinkSync(outside, file);
    await replace(file, 'new\n', 0o600);
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe('new\n');
    expect(fs.readFileSync(outside, 'utf8')).toBe('keep\n');
  });

  it('on a full file system: throws ENOSPC, keeps the old file, removes its temp file', async (ctx) => {
    const small = path.join(dir, 'small');
    fs.mkdirSync(small);
    const mounted =
      IS_ROOT && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status === 0;
    if (!mounted) return ctx.skip();
    try {
      const file = path.join(small, 'record.json');
      await replace(file, 'old\n', 0o600);
      const err = await replace(file, 'x'.repeat(256 * 1024), 0o600).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err?.code).toBe('ENOSPC');
      expect(fs.readFileSync(file, 'utf8')).toBe('old\n');
      expect(fs.readdirSync(small)).toEqual(['record.json']);
    } finally {
      spawnSync('umount', [small]);
    }
  });
});
