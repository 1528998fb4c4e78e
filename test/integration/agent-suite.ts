// Shared setup of the agent-process test files: one real hive coordinator for the file (started in
// beforeAll, stopped in afterAll), agent roots and agent processes the tests ask for, and at the end
// the check that no line an agent wrote (logs, errors, stderr) holds the API key or a minted token.
// Agents are killed after each test, or with killAgents: 'afterAll' only once the file is done.
// Call agentSuite() at the top level of a test file: it registers the vitest hooks.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type HiveProcess, type StartHiveOptions, startHive } from '../support/hive-process.ts';
import { type AgentProcess, API_KEY, makeRoot, removeRoot, startAgent } from './agent-process.ts';

export interface AgentSuite {
  /** The file's hive (set once beforeAll has run). */
  readonly hive: HiveProcess;
  /** A fresh agent root, removed after the file. */
  root(): string;
  /** A tenant token from the hive; the agents' output is checked not to contain it. */
  mint(tenant: string): Promise<string>;
  /** Starts the agent on `root`; it is killed by the suite and its output checked for secrets. */
  launch(root: string, o?: Parameters<typeof startAgent>[1]): AgentProcess;
  /** More text (e.g. CLI output) to check for secrets at the end. */
  checkForSecrets(...texts: string[]): void;
}

export function agentSuite(
  hiveOptions: StartHiveOptions,
  o: { killAgents?: 'afterEach' | 'afterAll' } = {},
): AgentSuite {
  let hive: HiveProcess | undefined;
  const agents: AgentProcess[] = [];
  const roots: string[] = [];
  const tokens: string[] = [];
  const outputs: string[] = [];
  const killAgents = async (): Promise<void> => {
    for (const a of agents.splice(0)) {
      await a.kill();
      outputs.push(a.output());
    }
  };

  beforeAll(async () => {
    hive = await startHive(hiveOptions);
  });
  if (o.killAgents !== 'afterAll') afterEach(killAgents);
  afterAll(async () => {
    await killAgents();
    await hive?.stop();
    for (const r of roots) removeRoot(r);
    // No secret in any line the agents wrote (logs, errors, stderr).
    const all = outputs.join('\n');
    expect(all).not.toContain(API_KEY);
    for (const t of tokens) expect(all).not.toContain(t);
  });

  const started = (): HiveProcess => {
    if (!hive) throw new Error('agentSuite: the hive is not started yet (use it inside hooks and tests)');
    return hive;
  };
  return {
    get hive() {
      return started();
    },
    root() {
      const r = makeRoot();
      roots.push(r);
      return r;
    },
    async mint(tenant) {
      const t = await started().mintToken(tenant);
      tokens.push(t);
      return t;
    },
    launch(root, opts = {}) {
      const a = startAgent(root, opts);
      agents.push(a);
      return a;
    },
    checkForSecrets(...texts) {
      outputs.push(...texts);
    },
  };
}
