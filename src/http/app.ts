import express, { type ErrorRequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Connection } from 'mongoose';
import { adminAuth } from '../admin/admin-auth';
import { customersApi } from '../admin/customers-api';
import type { AdminSessions } from '../admin/sessions';
import { HttpError } from '../errors';
import type { Logger } from '../logger';
import { healthCheck } from './health';

/**
 * Builds the express app: security headers, health, the channels' routes, the admin API
 * (ADMIN_TOKEN or a console session), the console (ADMIN_PASSWORD), JSON errors. It does not listen.
 */
export function createApp(options: {
  connection: Connection;
  adminToken: string | undefined;
  sessions: AdminSessions | undefined;
  channelRoutes: Router[];
  adminRoutes: Router[];
  console: Router | undefined;
  log: Logger;
}) {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy (HTTPS in front), the login limiter must see the customer's address, not the proxy's.
  app.set('trust proxy', 'loopback');
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          // The pages' small scripts and styles are inline; nothing comes from another site.
          scriptSrc: ["'self'", "'unsafe-inline'"],
          scriptSrcAttr: ["'none'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          // Plain http on a LAN or localhost must keep working.
          upgradeInsecureRequests: null,
        },
      },
      strictTransportSecurity: false,
    }),
  );
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
  // Browsers ask for it on every page; no icon is better than a 404 in their console.
  app.get('/favicon.ico', (_req, res) => res.status(204).end());
  for (const routes of options.channelRoutes) app.use(routes);

  if (options.adminToken || options.sessions) {
    app.use('/api', adminAuth({ token: options.adminToken, sessions: options.sessions }), customersApi(options.connection), ...options.adminRoutes);
  } else {
    app.use('/api', (_req, _res, next) => next(new HttpError(404, 'admin_api_off', 'the admin API is off: set ADMIN_TOKEN (or ADMIN_PASSWORD for the console) in .env and restart')));
  }
  if (options.console) app.use('/admin', options.console);
  else app.use('/admin', (_req, _res, next) => next(new HttpError(404, 'console_off', 'the staff console is off: set ADMIN_PASSWORD in .env and restart')));

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
