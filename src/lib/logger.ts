import fs from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';

/**
 * JSON-lines logger. Card numbers never reach a log: nothing logs request or response bodies, and
 * these paths are redacted as a second line of defence.
 */
export const REDACT_PATHS = [
  'number',
  'cvc',
  'pan',
  '*.number',
  '*.cvc',
  '*.pan',
  'req.headers.authorization',
  'headers.authorization',
  'secret',
  '*.secret',
  // What a tenant gives for a real partner (never logged; redacted should it ever be).
  'signingSecret',
  '*.signingSecret',
  'authorizationSigningSecret',
  '*.authorizationSigningSecret',
  'apiKey',
  '*.apiKey',
];

export function createLogger(opts: {
  name: string;
  level?: string;
  file?: string;
  stdout?: boolean;
}): Logger {
  // Asynchronous stdout: lines written in the same tick go out in one write instead of one system
  // call per line (the request log is on every request's path); pino flushes it on exit.
  const streams: pino.StreamEntry[] =
    opts.stdout === false ? [] : [{ stream: pino.destination({ dest: 1, sync: false }) }];
  if (opts.file) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    streams.push({ stream: pino.destination({ dest: opts.file, append: true, mkdir: true, sync: false }) });
  }
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { service: opts.name },
    },
    pino.multistream(streams),
  );
}
