import pino from 'pino';

/** The process logger: JSON lines on stdout, with secrets redacted wherever they appear. */
export type Logger = pino.Logger;

/** Builds a pino logger at the given level; tokens and secrets never reach the output. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'secret', '*.secret', 'uri', '*.uri'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
