// Reads the root-only files that host.json points to (the hive admin token; bw.env is read by the
// vault wrapper): owned by the invoking user, mode 0600 or stricter, never through a link.
// The value is returned to the caller only; it is never logged or put into an error.
import { EXIT, HostError } from '../exit-codes.ts';
import { readOwnedFile } from './host-config.ts';

/** Checks ownership and mode of a secret file without keeping its content (doctor, preflight). */
export function checkSecretFile(file: string, what: string): void {
  readOwnedFile(file, what, 0o077);
}

/** A hive token file (`what` names it in errors): one line of printable ASCII, at least 32 characters. */
export function readTokenFile(file: string, what: string): string {
  const token = readOwnedFile(file, what, 0o077).trim();
  if (!/^[\x21-\x7e]{32,512}$/.test(token)) {
    throw new HostError(`${what} ${file} must hold one token of 32-512 printable characters`, EXIT.failure);
  }
  return token;
}

/** The hive admin token (host.json's adminTokenFile). */
export const readAdminToken = (file: string): string => readTokenFile(file, 'hive admin token file');
