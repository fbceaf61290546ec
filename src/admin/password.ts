import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Connection } from 'mongoose';
import { settingModel } from '../db/models/setting';

const KEY_LENGTH = 64;
const SETTING = 'admin-password-hash';

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEY_LENGTH, { N: 16384, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A password's scrypt hash as "scrypt$<salt>$<key>" (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await derive(password, salt)).toString('base64')}`;
}

/** Whether a password matches a stored hash, compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Keeps ADMIN_PASSWORD's hash in the database (never the password): stored at first
 * start, and stored anew when the configured password no longer matches it (changed).
 * Returns the hash logins are checked against.
 */
export async function storedPasswordHash(connection: Connection, configured: string): Promise<string> {
  const Setting = settingModel(connection);
  const current = await Setting.findById(SETTING).lean();
  if (current && (await verifyPassword(configured, current.value))) return current.value;
  const hash = await hashPassword(configured);
  await Setting.updateOne({ _id: SETTING }, { $set: { value: hash }, $setOnInsert: { createdAt: new Date() } }, { upsert: true });
  return hash;
}
