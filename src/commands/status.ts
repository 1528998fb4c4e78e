// `clawdie-agent status [--root DIR] [--json]`: prints the status file the running agent keeps
// (exit 1 if none).
import { formatStatus, readStatus } from '../status/status.ts';
import { type Command, commandArgs } from './command.ts';

export const run: Command = async (argv, io) => {
  const { paths, json } = commandArgs(argv, io.env, 'json');
  const r = readStatus(paths.statusFile);
  if (!r.ok) {
    io.stderr.write(`clawdie-agent status: ${r.reason}\n`);
    return 1;
  }
  io.stdout.write(json ? `${JSON.stringify(r.status)}\n` : formatStatus(r.status));
  return 0;
};
