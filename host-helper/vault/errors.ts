// The one error type of the vault wrapper: a closed set of codes, each with a one-line message that
// names what to fix (never a secret value), the underlying cause, and whether a retry can help.
import { ClawdieError, type ErrorKind } from '../../src/errors.ts';

export const VAULT_ERROR_CODES = [
  /** bw could not be started (missing binary or not executable): install it or fix vault.bwBin. */
  'not_installed',
  /** bw's appdata dir points at (or is logged in to) another server than vault.server. */
  'wrong_server',
  /** The API key was refused (wrong or revoked) or the credentials file is unusable. */
  'bad_credential',
  /** The master password did not unlock the vault. */
  'unlock_failed',
  /** vault.organization names no organization (or several) visible to the API key: a host misconfiguration. */
  'organization_missing',
  /** No collection with that name in the organization. */
  'collection_missing',
  /** More than one collection with that name: rename one in the vault. */
  'collection_ambiguous',
  /** An item cannot become an env entry (name, duplicate, missing or unrepresentable value). */
  'item_malformed',
  /** A bw call (or waiting for the appdata lock) took longer than its budget. */
  'timeout',
  /** Anything else bw reported; its own message, scrubbed, is included. */
  'bw_failed',
] as const;
export type VaultErrorCode = (typeof VAULT_ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<VaultErrorCode> = new Set(['timeout', 'bw_failed']);

export class VaultError extends ClawdieError {
  readonly code: VaultErrorCode;

  constructor(code: VaultErrorCode, message: string, options: { cause?: unknown; kind?: ErrorKind } = {}) {
    super(message.replace(/\s+/g, ' ').trim(), {
      cause: options.cause,
      kind: options.kind ?? (RETRYABLE.has(code) ? 'retryable' : 'fatal'),
    });
    this.code = code;
  }
}
