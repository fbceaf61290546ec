import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Whether `X-Hub-Signature-256` ("sha256=<hex>") is the HMAC-SHA256 of the raw body with
 * the app secret. The raw bytes, not re-serialised JSON: Meta signs what it sent, with
 * non-ASCII escaped as \uXXXX. Compared in constant time.
 */
export function validMetaSignature(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
  if (!header || !header.startsWith('sha256=')) return false;
  const given = Buffer.from(header.slice(7), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `appsecret_proof`: the HMAC-SHA256 of the access token with the app secret, which every Graph call carries. */
export function appSecretProof(accessToken: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(accessToken).digest('hex');
}
