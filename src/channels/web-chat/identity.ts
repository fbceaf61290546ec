import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Web chat identities issued and signed by the server. The stock web adapter trusts the
 * `user` a browser sends, so anyone could read or speak as another customer; here the
 * browser holds `<id>.<signature>` and the server derives the identity from it alone.
 */
export class WebChatIdentities {
  constructor(private readonly secret: string) {
    if (secret.length < 32) throw new Error('the web chat secret must be at least 32 characters');
  }

  /** Creates a new visitor identity and its token. */
  issue(): { user: string; token: string } {
    const user = `w_${randomBytes(12).toString('base64url')}`;
    return { user, token: `${user}.${this.sign(user)}` };
  }

  /** Returns the identity a token stands for, or undefined if it was not signed by this server. */
  verify(token: unknown): string | undefined {
    if (typeof token !== 'string' || token.length > 200) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const user = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.sign(user));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return user;
  }

  private sign(user: string): string {
    return createHmac('sha256', this.secret).update(`webchat:${user}`).digest('base64url');
  }
}
