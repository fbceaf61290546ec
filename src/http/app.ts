import express, { type ErrorRequestHandler, type Router } from 'express';
import type { Connection } from 'mongoose';
import { bearerAuth } from '../admin/bearer-auth';
import { customersApi } from '../admin/customers-api';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { healthCheck } from './health';

/** Builds the express app: health, the channels' routes, the admin API, JSON errors. It does not listen. */
export function createApp(options: { connection: Connection; adminToken: string | undefined; channelRoutes: Router[]; adminRoutes: Router[]; log: Logger }) {
  const app = express();
  app.disable('x-powered-by');
  // The raw bytes are kept for the webhooks whose signature covers them.
  app.use(
    express.json({
      limit: '1mb',
      verify: (req, _res, buf) => {
        (req as { rawBody?: Buffer }).rawBody = buf;
      },
    }),
  );

  app.get('/healthz', healthCheck(options.connection));
  for (const routes of options.channelRoutes) app.use(routes);

  if (options.adminToken) {
    app.use('/api', bearerAuth(options.adminToken), customersApi(options.connection), ...options.adminRoutes);
  } else {
    app.use('/api', (_req, _res, next) =>
      next(new HttpError(404, 'admin_api_off', 'the admin API is off: set ADMIN_TOKEN in .env and restart')),
    );
  }

  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `nothing at ${req.method} ${req.path}`)));
  app.use(errorHandler(options.log));
  return app;
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (err instanceof HttpError) {
      res.status(err.status).json({ error: err.code, message: err.message, ...err.details });
      return;
    }
    // body-parser's errors carry a status and a type.
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'body_too_large', message: 'request bodies are limited to 1 MB' });
      return;
    }
    if (e.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'bad_json', message: 'the request body is not valid JSON' });
      return;
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'bad_request', message: e.message ?? 'bad request' });
      return;
    }
    log.error({ err: e.message, path: req.path }, 'request failed');
    res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
  };
}
