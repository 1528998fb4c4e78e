// The flags every tenant command of clawdie-host takes (DESIGN §6: --config F, --json), and their
// place: before the command name as well as after it, as git, docker and kubectl take theirs.
// Pure: argv in, the command name and its arguments out (the global flags first, so a flag given
// again after the command wins), or a usage error that echoes nothing typed.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './exit-codes.ts';

export const GLOBAL_FLAGS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

export interface CommandLine {
  /** The command name, or undefined when argv holds none. */
  name: string | undefined;
  /** What the command parses: the global flags given before its name, then its own arguments. */
  args: string[];
  /** Whether any flag came before the command name. */
  leadingFlags: boolean;
}

export function splitCommandLine(argv: readonly string[]): CommandLine {
  // Lenient first pass only to find where the command name is (`--config F` takes F as its value).
  const { tokens } = parseArgs({
    args: [...argv],
    options: GLOBAL_FLAGS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const at = tokens.find((t) => t.kind === 'positional')?.index ?? argv.length;
  const leading = argv.slice(0, at);
  try {
    parseArgs({ args: leading, options: GLOBAL_FLAGS, strict: true, allowPositionals: false });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'bad arguments';
    throw usageError(`bad arguments before the command (${code}); global flags: --config F, --json`, err);
  }
  return { name: argv[at], args: [...leading, ...argv.slice(at + 1)], leadingFlags: leading.length > 0 };
}
