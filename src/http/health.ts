import type { RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import { pingDatabase } from '../db/connection';

/** GET /healthz: 200 while the database answers, 503 with the reason otherwise. */
export function healthCheck(connection: Connection): RequestHandler {
  return async (_req, res) => {
    const db = await pingDatabase(connection);
    if (db.ok) res.json({ status: 'ok', db: 'up' });
    else res.status(503).json({ status: 'unavailable', db: 'down', reason: db.reason });
  };
}
