// Loads the hive admin token: from --admin-token-file (a regular file that group and others cannot
// read) or from CLAWDIE_HIVE_ADMIN_TOKEN. Never from argv; the token itself never appears in errors.
import { constants, open } from 'node:fs/promises';
import { EXIT, HostError, usageError } from '../exit-codes.ts';

export const ADMIN_TOKEN_ENV = 'CLAWDIE_HIVE_ADMIN_TOKEN';
const MIN_LENGTH = 32;

function check(token: string, source: string): string {
  if (token.length < MIN_LENGTH || token.length > 512 || /\s/.test(token)) {
    throw usageError(`admin token from ${source} must be ${MIN_LENGTH}-512 characters without spaces`);
  }
  return token;
}

export async function readAdminToken(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      // O_NOFOLLOW: the file must be the file named, not a link to something else.
      const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw usageError('--admin-token-file: not a regular file');
        if ((st.mode & 0o077) !== 0) {
          throw usageError('--admin-token-file: readable or writable by group/others; chmod 600 it');
        }
        text = await fh.readFile('utf8');
      } finally {
        await fh.close();
      }
    } catch (err) {
      if (err instanceof HostError) throw err;
      const code = (err as { code?: string }).code ?? 'error';
      throw new HostError(`--admin-token-file: cannot read (${code})`, EXIT.usage, { cause: err });
    }
    return check(text.trim(), '--admin-token-file');
  }
  const fromEnv = env[ADMIN_TOKEN_ENV];
  if (fromEnv === undefined || fromEnv === '') {
    throw usageError(`no admin token: set ${ADMIN_TOKEN_ENV} or pass --admin-token-file`);
  }
  return check(fromEnv.trim(), ADMIN_TOKEN_ENV);
}
