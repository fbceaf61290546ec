import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpError } from '../errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Express middleware that admits only `Authorization: Bearer <token>`; anything else is 401. */
export function bearerAuth(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    // Hashing both sides gives equal lengths, so the comparison time says nothing about the token.
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next();
    res.set('WWW-Authenticate', 'Bearer realm="taawun-admin"');
    next(new HttpError(401, 'unauthorized', header ? 'the bearer token is wrong' : 'send Authorization: Bearer <ADMIN_TOKEN>'));
  };
}
