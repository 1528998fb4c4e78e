// The MCP door's names on the wire, one place for the door, the stdio bridge and the tests: where
// it is, where its protected-resource metadata is (RFC 9728: the resource's path after the
// well-known prefix), the headers that name a client instance (caller.ts), and the `_meta` key
// that names a call's hive task.
export const MCP_PATH = '/mcp';
export const METADATA_ROOT = '/.well-known/oauth-protected-resource';
export const METADATA_PATH = `${METADATA_ROOT}${MCP_PATH}`;

/** Sent by a client that names its own instance (the stdio bridge: a random id per process). */
export const CLIENT_HEADER = 'clawdie-mcp-client';
/** Handed to a 2025-era client in its `initialize` answer; it sends it back on every request. */
export const SESSION_HEADER = 'mcp-session-id';

/** A tools/call result's `_meta` key naming the hive task that answered it. */
export const TASK_META_KEY = 'io.clawdie/taskId';
