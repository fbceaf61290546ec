import { randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize } from 'cookie';
import type { Request, Response } from 'express';
import type { Connection } from 'mongoose';
import { adminSessionModel, type AdminSessionDoc } from '../db/models/admin-session';

const COOKIE = 'taawun_admin';
const LIFETIME_MS = 12 * 60 * 60_000;

/** Staff sessions: a random id in an HttpOnly, SameSite=Strict cookie, kept in the database for 12 hours. */
export class AdminSessions {
  constructor(
    private readonly connection: Connection,
    /** Secure cookies when the server is reached over https. */
    private readonly secure: boolean,
  ) {}

  /** Opens a session and sets its cookie. */
  async open(res: Response): Promise<AdminSessionDoc> {
    const now = new Date();
    const session: AdminSessionDoc = { _id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), createdAt: now, expiresAt: new Date(now.getTime() + LIFETIME_MS) };
    await adminSessionModel(this.connection).create(session);
    res.append('Set-Cookie', serialize(COOKIE, session._id, { httpOnly: true, sameSite: 'strict', secure: this.secure, path: '/', maxAge: LIFETIME_MS / 1000 }));
    return session;
  }

  /** The live session a request's cookie names, if any. */
  async of(req: Request): Promise<AdminSessionDoc | undefined> {
    const id = parseCookies(req.get('cookie') ?? '')[COOKIE];
    if (!id || !/^[\w-]{20,100}$/.test(id)) return undefined;
    const session = await adminSessionModel(this.connection).findById(id).lean<AdminSessionDoc>();
    return session && session.expiresAt.getTime() > Date.now() ? session : undefined;
  }

  /** Ends the request's session and clears its cookie. */
  async close(req: Request, res: Response): Promise<void> {
    const session = await this.of(req);
    if (session) await adminSessionModel(this.connection).deleteOne({ _id: session._id });
    res.append('Set-Cookie', serialize(COOKIE, '', { httpOnly: true, sameSite: 'strict', secure: this.secure, path: '/', maxAge: 0 }));
  }
}

/** Whether a request carries the session's CSRF token, in the `_csrf` form field or the X-CSRF-Token header. */
export function hasCsrfToken(req: Request, session: AdminSessionDoc): boolean {
  const sent = req.get('x-csrf-token') ?? (typeof (req.body as { _csrf?: unknown } | undefined)?._csrf === 'string' ? (req.body as { _csrf: string })._csrf : '');
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
