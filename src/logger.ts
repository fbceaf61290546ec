import pino from 'pino';
import pretty from 'pino-pretty';

/** The process logger: JSON lines (or readable lines on a terminal), secrets redacted wherever they appear. */
export type Logger = pino.Logger;

export type LogFormat = 'json' | 'pretty';

/** Builds a pino logger; `pretty` writes readable lines for a person at a terminal, `json` one object a line for machines. */
export function createLogger(level: string, format: LogFormat = 'json', destination?: pino.DestinationStream): Logger {
  const stream = destination ?? (format === 'pretty' ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }) : undefined);
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret'],
        censor: '[redacted]',
      },
    },
    stream,
  );
}
