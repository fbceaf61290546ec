import path from 'node:path';
import { loadConfig } from '../src/config';
import { ConfigError } from '../src/errors';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', defaultLanguage: 'fr', logLevel: 'info' });
    expect(config.mongodbUri).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(path.basename(config.dataDir)).toBe('data');
  });

  it('reports a bad PORT in one line naming the value', () => {
    expect(problems({ PORT: 'abc' })).toEqual(['PORT must be a whole number from 1 to 65535, got "abc"']);
    expect(problems({ PORT: '70000' })).toEqual(['PORT must be a whole number from 1 to 65535, got "70000"']);
    expect(problems({ PORT: '0' })).toHaveLength(1);
  });

  it('reports every bad variable at once', () => {
    const found = problems({ PORT: 'x', MONGODB_URI: 'http://db', ADMIN_TOKEN: 'short', DEFAULT_LANGUAGE: 'de', LOG_LEVEL: 'loud' });
    expect(found).toHaveLength(5);
    expect(found).toContain('MONGODB_URI must start with mongodb:// or mongodb+srv://, got "http://db"');
    // A secret is never echoed, only its length.
    expect(found).toContain('ADMIN_TOKEN must be at least 16 characters (try: openssl rand -hex 24), got 5 characters');
    expect(found).toContain('DEFAULT_LANGUAGE must be one of fr, ar, ary, en, got "de"');
  });

  it("takes the WhatsApp number's throughput tier and the Messenger Page, refusing what Meta would not", () => {
    const wa = { WHATSAPP_TOKEN: 't', WHATSAPP_PHONE_NUMBER_ID: '123', WHATSAPP_APP_SECRET: 's', WHATSAPP_VERIFY_TOKEN: 'v' };
    expect(loadConfig(wa).whatsapp?.messagesPerSecond).toBe(80);
    expect(loadConfig({ ...wa, WHATSAPP_MESSAGES_PER_SECOND: '1000' }).whatsapp?.messagesPerSecond).toBe(1000);
    expect(problems({ ...wa, WHATSAPP_MESSAGES_PER_SECOND: '5000' })).toEqual(['WHATSAPP_MESSAGES_PER_SECOND must be a whole number of messages a second from 1 to 1000 (Meta: 80 by default, up to 1,000), got "5000"']);
    const fb = { MESSENGER_PAGE_TOKEN: 't', MESSENGER_APP_SECRET: 's', MESSENGER_VERIFY_TOKEN: 'v' };
    expect(loadConfig({ ...fb, MESSENGER_PAGE_ID: '1029384756' }).messenger?.pageId).toBe('1029384756');
    expect(problems({ ...fb, MESSENGER_PAGE_ID: 'my-page' })).toHaveLength(1);
  });

  it('takes how long WhatsApp Web may take to map a contact, refusing what makes no sense', () => {
    // Any file that exists stands for Chromium here: the check is only that it is there.
    const web = { WHATSAPP_WEB: 'true', CHROME_PATH: process.execPath };
    expect(loadConfig(web).whatsappWeb?.lookupTimeLimitMs).toBe(5000);
    expect(loadConfig({ ...web, WHATSAPP_WEB_LOOKUP_MS: '800' }).whatsappWeb?.lookupTimeLimitMs).toBe(800);
    expect(problems({ ...web, WHATSAPP_WEB_LOOKUP_MS: '5s' })).toEqual(['WHATSAPP_WEB_LOOKUP_MS must be a whole number of milliseconds from 100 to 60000, got "5s"']);
  });

  it('hides the password of a bad MongoDB address', () => {
    expect(problems({ MONGODB_URI: 'mongo://admin:s3cret@db/x' })).toEqual(['MONGODB_URI must start with mongodb:// or mongodb+srv://, got "mongo://admin:***@db/x"']);
  });

  it('treats empty values as unset, as .env.example leaves them', () => {
    const config = loadConfig({ MONGODB_URI: '', ADMIN_TOKEN: '  ', PORT: '' });
    expect(config.mongodbUri).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(config.port).toBe(3000);
  });

  it('keeps valid values and trims the public address', () => {
    const config = loadConfig({ PORT: '8080', MONGODB_URI: 'mongodb://u:p@db:27017/x', PUBLIC_URL: 'https://bot.example.ma/', DEFAULT_LANGUAGE: 'ary' });
    expect(config).toMatchObject({ port: 8080, mongodbUri: 'mongodb://u:p@db:27017/x', publicUrl: 'https://bot.example.ma', defaultLanguage: 'ary' });
  });

  it('reads COOP_NOTIFY as a channel recipient or a webhook, and says what it takes', () => {
    expect(loadConfig({ COOP_NOTIFY: 'whatsapp:+212 6 61 23 45 67' }).coopNotify).toEqual({ kind: 'channel', channel: 'whatsapp', id: '212661234567' });
    expect(loadConfig({ COOP_NOTIFY: 'whatsapp-web:212661234567' }).coopNotify).toEqual({ kind: 'channel', channel: 'whatsapp-web', id: '212661234567@c.us' });
    expect(loadConfig({ COOP_NOTIFY: 'messenger:1234567890' }).coopNotify).toEqual({ kind: 'channel', channel: 'messenger', id: '1234567890' });
    expect(loadConfig({ COOP_NOTIFY: 'https://hooks.example.ma/taawun' }).coopNotify).toEqual({ kind: 'webhook', url: 'https://hooks.example.ma/taawun' });
    expect(loadConfig({}).coopNotify).toBeUndefined();
    expect(problems({ COOP_NOTIFY: 'sms:0661' })).toEqual([
      'COOP_NOTIFY must be whatsapp:<number with country code>, whatsapp-web:<number>, messenger:<page-scoped id> or an https:// address, got "sms:0661"',
    ]);
  });

  it('reads the rating and digest settings, and says what a bad one should be', () => {
    expect(loadConfig({})).toMatchObject({ ratings: { afterDeliveryHours: 24, afterAnswerMinutes: 30, cooldownDays: 30 }, digestCron: '0 8 * * 1', timeZone: 'Africa/Casablanca' });
    expect(loadConfig({ RATING_AFTER_DELIVERY_HOURS: 'off', RATING_AFTER_ANSWER_MINUTES: 'off', TZ: 'Europe/Paris' })).toMatchObject({ ratings: { afterDeliveryHours: undefined, afterAnswerMinutes: undefined }, timeZone: 'Europe/Paris' });
    expect(problems({ DIGEST_CRON: 'every monday', TZ: 'Mars/Olympus', RATING_COOLDOWN_DAYS: '-1' })).toEqual([
      'RATING_COOLDOWN_DAYS must be a whole number of days from 0 to 365, got "-1"',
      'DIGEST_CRON must be a cron expression such as "0 8 * * 1" (Mondays at 08:00), got "every monday"',
      'TZ must be a time zone such as Africa/Casablanca, got "Mars/Olympus"',
    ]);
  });
});
