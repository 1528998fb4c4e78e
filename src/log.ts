// The one pino logger factory of both programs: JSON lines to stdout (the service manager keeps
// them) with every secret-bearing key redacted (DESIGN §9). Keys are matched at any depth we log.
import pino, { type DestinationStream, type Logger } from 'pino';

/** Env/config keys whose values are secrets, wherever they appear in a logged object. */
const SECRET_KEYS = [
  'CLAWDIE_HIVE_TOKEN',
  'OPENROUTER_API_KEY',
  'DEEPSEEK_API_KEY',
  'BW_CLIENTSECRET',
  'BW_PASSWORD',
  'BW_SESSION',
  'CLAWDIE_HIVE_ADMIN_TOKEN',
  'token',
  'apiKey',
  'password',
  'session',
  'secret',
  'authorization',
  'Authorization',
  'adminToken',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`);
  }
  paths.push('req.headers.authorization', 'headers.authorization', 'env', '*.env');
  return paths;
}

export interface LoggerOptions {
  name: string;
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.CLAWDIE_LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths(), censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

export type { Logger };
