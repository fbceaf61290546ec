import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { AdminSessionDoc } from '../db/models/admin-session';
import { HttpError } from '../errors';
import { hasCsrfToken, type AdminSessions } from './sessions';

const digest = (s: string) => createHash('sha256').update(s).digest();
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Who a request acts as: a program with ADMIN_TOKEN, or a person signed in to the console. */
export type AdminIdentity = { via: 'token' } | { via: 'session'; session: AdminSessionDoc };

/** The identity adminAuth admitted. */
export function adminOf(req: Request): AdminIdentity {
  return (req as Request & { taawunAdmin: AdminIdentity }).taawunAdmin;
}

/**
 * Admits a request with `Authorization: Bearer <ADMIN_TOKEN>` (programs), or with a console
 * session cookie (people), which must also carry the session's CSRF token to change
 * anything. Anyone else: a page sends them to the login, an API call gets 401.
 */
export function adminAuth(options: { token: string | undefined; sessions: AdminSessions | undefined }): RequestHandler {
  const expected = options.token ? digest(options.token) : undefined;
  return (req, res, next) => {
    void (async () => {
      const header = req.get('authorization') ?? '';
      const bearer = /^Bearer\s+(\S+)$/i.exec(header);
      // Hashing both sides gives equal lengths, so the comparison time says nothing about the token.
      if (bearer && expected && timingSafeEqual(digest(bearer[1]!), expected)) {
        (req as Request & { taawunAdmin: AdminIdentity }).taawunAdmin = { via: 'token' };
        return next();
      }
      const session = !bearer && options.sessions ? await options.sessions.of(req) : undefined;
      if (session) {
        if (!SAFE_METHODS.has(req.method) && !hasCsrfToken(req, session)) return next(new HttpError(403, 'csrf', 'this form is stale or came from another site; reload the page and try again'));
        (req as Request & { taawunAdmin: AdminIdentity }).taawunAdmin = { via: 'session', session };
        return next();
      }
      if (req.method === 'GET' && req.baseUrl.startsWith('/admin')) return res.redirect(303, `/admin/login?next=${encodeURIComponent(req.originalUrl)}`);
      res.set('WWW-Authenticate', 'Bearer realm="taawun-admin"');
      next(new HttpError(401, 'unauthorized', bearer ? 'the bearer token is wrong' : 'sign in at /admin/login, or send Authorization: Bearer <ADMIN_TOKEN>'));
    })().catch(next);
  };
}
