// Structured JSON logs (pino). Secrets' data never reaches a log line: request bodies are not
// logged, and objects are logged by reference (kind/namespace/name) only.
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.STRATUS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component: 'stratus' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.data', '*.stringData', 'data', 'stringData', 'authorization', '*.authorization', 'token'], censor: '[redacted]' },
  });
}
