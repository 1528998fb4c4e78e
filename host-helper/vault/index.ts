// Public API of the vault wrapper (DESIGN §6): open a vault from config, run a session, map a
// collection to env entries. The host provisioning code imports from here only.
export type { BwProcessEvent } from './bw-process.ts';
export { type Credentials, readCredentials, type VaultConfig, VaultConfigSchema } from './config.ts';
export { VAULT_ERROR_CODES, VaultError, type VaultErrorCode } from './errors.ts';
export { collectionEntries, type EnvEntry, itemEntries } from './mapping.ts';
export type { CollectionRef, VaultSession } from './session.ts';
export { openVault, type Vault, type VaultOptions } from './vault.ts';
