/**
 * The error classes Taawun throws on purpose. Each carries a stable `code` that
 * tests and operators can grep for; the message says what went wrong and what to do.
 */

/** Bad or missing configuration, found before the server listens. */
export class ConfigError extends Error {
  readonly code = 'TAAWUN_CONFIG';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The database could not be reached or started. */
export class DatabaseError extends Error {
  readonly code = 'TAAWUN_DATABASE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

/** A storage write lost an optimistic-concurrency race (its eTag was stale). */
export class ETagConflictError extends Error {
  readonly code = 'TAAWUN_ETAG_CONFLICT';
  constructor(readonly key: string) {
    super(`Storage: error writing "${key}" due to eTag conflict; read it again and retry`);
    this.name = 'ETagConflictError';
  }
}

/** A turn could not be committed: another writer advanced the conversation since the turn read it, so the turn must run again. */
export class TurnConflictError extends Error {
  readonly code = 'TAAWUN_TURN_CONFLICT';
  constructor(readonly key: string) {
    super(`conversation "${key}" moved on while this turn ran (another process or a proactive message); the turn will run again`);
    this.name = 'TurnConflictError';
  }
}

/** A client request that cannot be served as sent; becomes a 4xx answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More for the client to act on, such as the allowed values. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
