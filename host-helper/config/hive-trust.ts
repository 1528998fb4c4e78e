// How clawdie-host trusts the hive it calls (the admin API; the MCP bridge, from its --ca-file and
// --pin): host.json's `hive.caFile` (a root-owned, not group/other-writable PEM file that replaces
// the runtime's CA store) and `hive.pin` (pins of the hive's public key), in the form the shared
// connector takes (src/hive/tls/connector.ts).
import type { HiveTrust } from '../../src/hive/tls/connector.ts';
import { parsePins } from '../../src/hive/tls/policy.ts';
import type { HostConfig } from './host-config.ts';
import { readOwnedFile } from './host-config.ts';

export function hiveTrustOf(hive: Pick<HostConfig['hive'], 'caFile' | 'pin'>): HiveTrust {
  return {
    ca: hive.caFile ? readOwnedFile(hive.caFile, 'hive CA file', 0o022) : undefined,
    pins: hive.pin ? (parsePins(hive.pin) ?? undefined) : undefined,
  };
}
