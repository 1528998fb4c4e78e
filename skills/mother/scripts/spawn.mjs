// mother's `spawn` capability: asks for a worker of this agent (DESIGN §8) through the agent itself.
// stdin: the envelope {task, agent, input: {capabilities: string[]}}, then the agent's answers.
// Speaks the runner's request protocol: prints {"spawn": {"id", "capabilities"}} and reads
// {"spawned": {"id", "status", "output"}}. The agent calls the hive with its own client, TLS trust
// and token, and names itself as the parent; this script sees no hive URL, no token, no env at all.
// stdout: the hive's answer {child, depth, capabilities}, or {message} with exit 1.
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin });
const iterator = lines[Symbol.asyncIterator]();
const next = async () => {
  const { value, done } = await iterator.next();
  return done ? null : JSON.parse(value);
};

function fail(message) {
  process.stdout.write(`${JSON.stringify({ message })}\n`);
  process.exit(1);
}

const envelope = await next();
const capabilities = Array.isArray(envelope?.input?.capabilities) ? envelope.input.capabilities : [];
process.stdout.write(`${JSON.stringify({ spawn: { id: 'worker', capabilities } })}\n`);
const answer = (await next())?.spawned;
if (answer?.status !== 'ok') fail(`spawn failed: ${answer?.output?.message ?? 'no answer from the agent'}`);
process.stdout.write(`${JSON.stringify(answer.output)}\n`);
process.exit(0);
