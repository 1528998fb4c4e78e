// The vault wrapper's configuration (zod, checked loudly at open) and the reader of the root-only
// credentials file (BW_CLIENTID, BW_CLIENTSECRET, BW_PASSWORD in dotenv syntax). The file is refused
// unless it is a regular file owned by us and unreadable by group/others; its values are returned to
// the caller and never copied into process.env.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { formatProblem } from '../../src/protocol/format-issue.ts';
import { VaultError } from './errors.ts';

const absolutePath = z.string().refine((p) => isAbsolute(p), 'must be an absolute path');

export const VaultConfigSchema = z.object({
  /** https:// only: bw refuses plain http. Compared with bw's configured server before use. */
  server: z
    .url()
    .refine((u) => u.startsWith('https://'), 'must be an https:// URL')
    .transform((u) => u.replace(/\/+$/, '')),
  /** Organization name as shown in the vault. */
  organization: z.string().min(1),
  credentialsFile: absolutePath,
  /** bw's state dir (BITWARDENCLI_APPDATA_DIR); the wrapper owns it (0700) and its lock file. */
  appdataDir: absolutePath,
  /** The bw executable (PATH lookup when bare); a path ending in .js is run with this Node. */
  bwBin: z.string().min(1).default('bw'),
  /** Budget of each bw call and each bw serve request. */
  timeoutMs: z.number().int().min(100).default(60_000),
  /** PEM file of extra CAs for bw (NODE_EXTRA_CA_CERTS), e.g. a test or private CA. */
  extraCaCertsFile: absolutePath.optional(),
  /** How long withSession waits for another process's session to release the appdata lock. */
  lockWaitMs: z.number().int().min(0).default(300_000),
});
export type VaultConfig = z.input<typeof VaultConfigSchema>;
export type ResolvedVaultConfig = z.infer<typeof VaultConfigSchema>;

export function parseVaultConfig(input: unknown): ResolvedVaultConfig {
  const parsed = VaultConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new VaultError('bw_failed', `vault config ${formatProblem(parsed.error, 'vault')}`, {
      cause: parsed.error,
      kind: 'fatal',
    });
  }
  return parsed.data;
}

export const CredentialsSchema = z.object({
  BW_CLIENTID: z.string().regex(/^user\.[0-9a-fA-F-]{36}$/, 'must be a personal API key id (user.<uuid>)'),
  BW_CLIENTSECRET: z.string().min(1),
  BW_PASSWORD: z.string().min(1),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

/** Reads the credentials file through one descriptor (no race between the checks and the read). */
export function readCredentials(path: string): Credentials {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new VaultError(
      'bad_credential',
      `credentials file ${path} cannot be opened: create it (mode 0600)`,
      {
        cause: err,
      },
    );
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new VaultError('bad_credential', `credentials file ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new VaultError(
        'bad_credential',
        `credentials file ${path} is accessible by group/others: chmod 600 it`,
      );
    }
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) {
      throw new VaultError('bad_credential', `credentials file ${path} is not owned by uid ${uid}: chown it`);
    }
    const parsed = CredentialsSchema.safeParse(parseDotenv(readFileSync(fd, 'utf8')));
    if (!parsed.success) {
      throw new VaultError('bad_credential', `credentials file ${path}: ${formatProblem(parsed.error)}`);
    }
    return parsed.data;
  } finally {
    closeSync(fd);
  }
}
