// clawdie-agent entry point (DESIGN §3): `run | status | check | skills`.
// Placeholder dispatcher until the runtime lands; it knows the commands and refuses the rest.
const USAGE = 'usage: clawdie-agent run [--root DIR] | status [--json] | check | skills [--check] [--json]\n';

export async function main(argv: string[]): Promise<number> {
  const [name] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(USAGE);
  return 2;
}

export async function runAsProcess(argv: string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await main(argv);
}

if (import.meta.main) await runAsProcess();
