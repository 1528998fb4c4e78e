// Loads and validates host.json (DESIGN §6): finds it (--config, CLAWDIE_HOST_CONFIG, default path),
// refuses it unless owned by the invoking user and not group/other-writable, and parses it with zod.
// The file holds no secret; secrets live in the 0600 files it points to (see secret-file.ts).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HivePins, transportProblem } from '../../src/hive/tls/policy.ts';
import { formatProblem } from '../../src/protocol/format-issue.ts';
import { EXIT, HostError } from '../exit-codes.ts';

export const DEFAULT_CONFIG_PATH = '/usr/local/etc/clawdie/host.json';

/** A jail-side user name: also a path component under home/, so the alphabet is narrow. */
export const JAIL_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

const AbsPath = z
  .string()
  .min(2)
  .refine(
    (p) => path.isAbsolute(p) && path.normalize(p) === p && !p.endsWith('/'),
    'must be a normalized absolute path',
  );

const HttpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL (bw refuses http)' });

/**
 * How the host reaches the hive: the agent's rules (src/hive/tls/policy.ts) — https, trusted by the
 * runtime's CAs, `caFile` or `pin`; plain http only on loopback or with `privateNetwork: true`.
 * `pin` and `privateNetwork` also go into every tenant's `.env`, so its agent follows the same rule.
 */
const HiveSettings = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    adminTokenFile: AbsPath,
    caFile: AbsPath.optional(),
    pin: HivePins.optional(),
    privateNetwork: z.boolean().optional(),
    /** Optional: how long an admin call may take (a revoke waits for a spawn in flight). */
    timeoutMs: z.number().int().min(1000).max(600_000).optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    const names = { url: 'url', pins: 'pin', privateNetwork: 'privateNetwork' };
    const p = transportProblem({ url: h.url, pins: h.pin, privateNetwork: h.privateNetwork }, names);
    if (p) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  });

export const HostConfig = z
  .object({
    store: AbsPath,
    vault: z
      .object({
        server: HttpsUrl,
        organization: z.string().min(1).max(200),
        credentialsFile: AbsPath,
        appdataDir: AbsPath,
        /** Optional (tests, unusual installs): the bw binary to run. */
        bwBin: AbsPath.optional(),
        /** Optional: a CA bundle for the vault's TLS, handed to bw as NODE_EXTRA_CA_CERTS. */
        extraCaCertsFile: AbsPath.optional(),
        timeoutMs: z.number().int().min(1000).max(600_000).optional(),
      })
      .strict(),
    hive: HiveSettings,
    jails: z
      .object({
        backend: z.enum(['bastille', 'linux', 'dir']),
        root: AbsPath,
        user: z.string().regex(JAIL_USER_RE, 'must be a short lower-case user name').default('clawdie'),
        /** bastille: the template to apply ("project/template"); linux: a directory copied as the root. */
        template: z.string().min(1).max(300).optional(),
        /** bastille only: where bastille.conf lives. */
        bastilleConf: AbsPath.optional(),
        /** bastille only: `bastille create NAME RELEASE IP [INTERFACE]`. */
        release: z
          .string()
          .regex(/^[A-Za-z0-9.-]{1,40}$/)
          .optional(),
        ip: z
          .string()
          .regex(/^[0-9A-Fa-f.:/]{1,64}$/)
          .optional(),
        interface: z
          .string()
          .regex(/^[A-Za-z0-9_.]{1,32}$/)
          .optional(),
        /** linux only: the program started as pid 1 of a jail (the image finishes the boot). */
        init: AbsPath.optional(),
        /** The body store (DESIGN §11): every jail sees one version of it read-only. */
        bodies: AbsPath.optional(),
      })
      .strict(),
    spawnPolicyFile: AbsPath.optional(),
  })
  .strict();
export type HostConfig = z.infer<typeof HostConfig>;

/** Which file to read: the flag, then the environment, then the default. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.CLAWDIE_HOST_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** Opens without following a link and checks the owner and mode on the open descriptor. */
export function readOwnedFile(file: string, what: string, forbiddenMode: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new HostError(`${what} ${file} does not exist`, EXIT.notFound, { cause: err });
    if (code === 'ELOOP')
      throw new HostError(`${what} ${file} is a symbolic link`, EXIT.policy, { cause: err });
    throw new HostError(`${what} ${file} cannot be opened (${code ?? 'error'})`, EXIT.failure, {
      cause: err,
    });
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new HostError(`${what} ${file} is not a regular file`, EXIT.policy);
    const uid = process.getuid?.() ?? -1;
    if (st.uid !== uid) throw new HostError(`${what} ${file} must be owned by uid ${uid}`, EXIT.policy);
    if ((st.mode & forbiddenMode) !== 0) {
      const need = forbiddenMode === 0o077 ? 'mode 0600 (no group/other access)' : 'not group/other-writable';
      throw new HostError(`${what} ${file} must be ${need}`, EXIT.policy);
    }
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export function loadConfig(flag: string | undefined, env: NodeJS.ProcessEnv): HostConfig {
  const file = configPath(flag, env);
  if (!path.isAbsolute(file)) throw new HostError('config path must be absolute', EXIT.usage);
  const text = readOwnedFile(file, 'config', 0o022);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HostError(`config ${file} is not valid JSON`, EXIT.failure, { cause: err });
  }
  const parsed = HostConfig.safeParse(json);
  if (!parsed.success) {
    throw new HostError(`config ${file}: ${formatProblem(parsed.error, 'config')}`, EXIT.failure);
  }
  return parsed.data;
}
