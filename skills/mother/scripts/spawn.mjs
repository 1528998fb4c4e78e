// mother's `spawn` capability: asks the hive to spawn a worker for this agent (DESIGN §8).
// stdin: {task, agent: {agentId}, input: {capabilities: string[]}}; stdout: the hive's answer.
// Env (declared in SKILL.md): CLAWDIE_HIVE_URL, CLAWDIE_HIVE_TOKEN — nothing else is visible here.
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const parent = envelope.agent?.agentId;
const capabilities = Array.isArray(envelope.input?.capabilities) ? envelope.input.capabilities : [];
if (typeof parent !== 'string') {
  process.stdout.write(JSON.stringify({ message: 'the agent id is unknown to this runner' }));
  process.exit(1);
}
const response = await fetch(new URL('/v1/spawn', process.env.CLAWDIE_HIVE_URL), {
  method: 'POST',
  headers: { authorization: `Bearer ${process.env.CLAWDIE_HIVE_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ parent, capabilities }),
});
const answer = await response.json().catch(() => ({}));
process.stdout.write(JSON.stringify({ status: response.status, ...answer }));
process.exit(response.ok ? 0 : 1);
