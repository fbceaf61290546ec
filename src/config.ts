import fs from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { redactUri } from './db/redact-uri';
import { ConfigError } from './errors';
import { projectRoot } from './paths';

export const LANGUAGES = ['fr', 'ar', 'ary', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The whole configuration, typed and validated; built once at start. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  mongodbUri: string | undefined;
  dataDir: string;
  /** A database of its own for the channels' inbox, or undefined for the main one. */
  inboxDatabase: string | undefined;
  /** Whether this is the database's only Taawun process (unset: yes with the embedded database, no with MONGODB_URI). */
  singleProcess: boolean | undefined;
  flowsDir: string;
  localesDir: string;
  ferretdbBin: string | undefined;
  adminToken: string | undefined;
  webchatSecret: string | undefined;
  defaultLanguage: Language;
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'pretty';
  /** Messenger, when its three variables are set. */
  /** Messenger, when its three settings are given; `pageId` (MESSENGER_PAGE_ID) limits it to one Page. */
  messenger: { pageToken: string; appSecret: string; verifyToken: string; pageId?: string } | undefined;
  /** WhatsApp through the Cloud API, when its four variables are set. */
  whatsapp: { token: string; phoneNumberId: string; appSecret: string; verifyToken: string; messagesPerSecond?: number; template: { name: string; language: string } | undefined; catalogId?: string } | undefined;
  graphApiUrl: string;
  graphApiVersion: string;
  /** WhatsApp through whatsapp-web.js, when WHATSAPP_WEB=true. */
  whatsappWeb: { chromePath: string; groups: boolean; lookupTimeLimitMs?: number; lookupAgainMinutes?: number } | undefined;
  /** Where the cooperative is told of new orders: a channel recipient or a webhook address. */
  coopNotify: CoopTarget | undefined;
  /** When ratings are asked for, and how often at most. */
  ratings: { afterDeliveryHours: number | undefined; afterAnswerMinutes: number | undefined; cooldownDays: number };
  /** When the satisfaction digest goes to the cooperative (node-cron), in `timeZone`. */
  digestCron: string;
  timeZone: string;
  /** The staff console's password; unset turns the console off. */
  adminPassword: string | undefined;
  /** How long a handoff pauses the bot for a customer before it answers again. */
  handoffTimeoutHours: number;
  /** Messages older than this are deleted every night; undefined keeps them. */
  messageRetentionDays: number | undefined;
  /** Voice notes: where they are kept, their limits, and who transcribes them (`auto`: the local worker once installed). */
  voice: {
    transcriber: 'auto' | 'local' | 'http' | 'off';
    /** The local model: a folder, or a name faster-whisper downloads where there is a network; the installed base model when unset. */
    model: string | undefined;
    python: string | undefined;
    url: string | undefined;
    apiKey: string | undefined;
    apiModel: string;
    dir: string;
    maxBytes: number;
    maxSeconds: number;
    timeLimitMs: number;
    workers: number;
    unsureBelow: number;
  };
}

/** The cooperative's notification recipient: someone on a channel, or an address that receives JSON. */
export type CoopTarget = { kind: 'webhook'; url: string } | { kind: 'channel'; channel: 'whatsapp' | 'whatsapp-web' | 'messenger'; id: string };

/** Whether the runtime knows a time zone name ("Africa/Casablanca"). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Reads COOP_NOTIFY: "whatsapp:+212 6…", "whatsapp-web:2126…", "messenger:<page-scoped id>" or "https://…". */
export function parseCoopTarget(raw: string): CoopTarget | undefined {
  if (/^https?:\/\/[^\s/]+/.test(raw)) return { kind: 'webhook', url: raw };
  const match = /^(whatsapp|whatsapp-web|messenger):(.+)$/.exec(raw);
  if (!match) return undefined;
  const channel = match[1] as 'whatsapp' | 'whatsapp-web' | 'messenger';
  const id = channel === 'messenger' ? match[2]!.trim() : match[2]!.replace(/[\s+\-()]/g, '');
  if (channel === 'messenger' ? !/^\d+$/.test(id) : !/^\d{8,15}$/.test(id)) return undefined;
  return { kind: 'channel', channel, id: channel === 'whatsapp-web' ? `${id}@c.us` : id };
}

const optional = (s: string | undefined) => (s === undefined || s.trim() === '' ? undefined : s.trim());

// Each variable has its own schema so that every bad one is reported, each on one line.
const variables = {
  PORT: z
    .string()
    .default('3000')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535, {
      message: 'must be a whole number from 1 to 65535',
    })
    .transform(Number),
  HOST: z.string().default('0.0.0.0').refine((s) => s.length > 0, { message: 'must not be empty' }),
  PUBLIC_URL: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^https?:\/\/[^\s/]+/.test(s), {
      message: 'must be an http(s) address such as "https://bot.example.ma"',
    }),
  MONGODB_URI: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^mongodb(\+srv)?:\/\/\S+$/.test(s), {
      message: 'must start with mongodb:// or mongodb+srv://',
    }),
  DATA_DIR: z.string().default('data'),
  INBOX_DATABASE: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^[A-Za-z0-9_-]{1,60}$/.test(s), { message: 'must be a database name (letters, digits, _ and -)' }),
  SINGLE_PROCESS: z.string().optional().refine((s) => s === undefined || s === 'true' || s === 'false', { message: 'must be true or false' }),
  FLOWS_DIR: z.string().default('flows'),
  LOCALES_DIR: z.string().default('locales'),
  FERRETDB_BIN: z.string().optional(),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.length >= 16, {
      message: 'must be at least 16 characters (try: openssl rand -hex 24)',
    }),
  WEBCHAT_SECRET: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.length >= 32, {
      message: 'must be at least 32 characters (try: openssl rand -hex 32), or unset to keep a generated one in the database',
    }),
  DEFAULT_LANGUAGE: z.string().default('fr').refine((s) => (LANGUAGES as readonly string[]).includes(s), {
    message: `must be one of ${LANGUAGES.join(', ')}`,
  }),
  LOG_FORMAT: z
    .string()
    .optional()
    .refine((s) => s === undefined || s === 'json' || s === 'pretty', { message: 'must be json or pretty' }),
  MESSENGER_PAGE_TOKEN: z.string().optional(),
  MESSENGER_APP_SECRET: z.string().optional(),
  MESSENGER_VERIFY_TOKEN: z.string().optional(),
  WHATSAPP_TOKEN: z.string().optional(),
  WHATSAPP_PHONE_NUMBER_ID: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^\d+$/.test(s), { message: 'must be the digits of the phone number id from the Meta app (not the phone number)' }),
  WHATSAPP_APP_SECRET: z.string().optional(),
  // Meta's throughput for the number: 80 messages a second by default, raised up to 1,000 for higher tiers.
  WHATSAPP_MESSAGES_PER_SECOND: z
    .string()
    .default('80')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 1000, { message: 'must be a whole number of messages a second from 1 to 1000 (Meta: 80 by default, up to 1,000)' }),
  // The Meta catalog linked to the WhatsApp number (Commerce Manager): products shown in the chat, and `catalog publish`.
  WHATSAPP_CATALOG_ID: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^\d{5,25}$/.test(s), { message: "must be the digits of the catalog's id (Commerce Manager, Catalog, Settings)" }),
  // The Page this server answers for; events for other Pages of the app are logged and dropped.
  MESSENGER_PAGE_ID: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^\d+$/.test(s), { message: "must be the digits of the Page's id (Page settings, About, Page ID)" }),
  WHATSAPP_VERIFY_TOKEN: z.string().optional(),
  WHATSAPP_TEMPLATE: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^[a-z0-9_]+:[a-z]{2}(_[A-Z]{2})?$/.test(s), { message: 'must be an approved template name and its language, such as "order_update:fr"' }),
  WHATSAPP_WEB: z.string().default('false').refine((s) => s === 'true' || s === 'false', { message: 'must be true or false' }),
  WHATSAPP_WEB_GROUPS: z.string().default('false').refine((s) => s === 'true' || s === 'false', { message: 'must be true or false' }),
  // How long whatsapp-web.js may take to say a contact's other id (phone or @lid) before the message goes on without it.
  WHATSAPP_WEB_LOOKUP_MS: z
    .string()
    .default('5000')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 100 && Number(s) <= 60_000, { message: 'must be a whole number of milliseconds from 100 to 60000' }),
  // How long a contact the library could not map is not asked about again (0: on every message).
  WHATSAPP_WEB_LOOKUP_AGAIN_MINUTES: z
    .string()
    .default('10')
    .refine((s) => /^\d+$/.test(s) && Number(s) <= 1440, { message: 'must be a whole number of minutes from 0 to 1440' }),
  CHROME_PATH: z.string().default('/usr/bin/chromium'),
  GRAPH_API_URL: z
    .string()
    .default('https://graph.facebook.com')
    .refine((s) => /^https?:\/\/[^\s/]+/.test(s), { message: 'must be an address with its scheme, such as "https://graph.facebook.com"' }),
  GRAPH_API_VERSION: z
    .string()
    .default('v21.0')
    .refine((s) => /^v\d+\.\d+$/.test(s), { message: 'must look like "v21.0"' }),
  COOP_NOTIFY: z
    .string()
    .optional()
    .refine((s) => s === undefined || parseCoopTarget(s) !== undefined, {
      message: 'must be whatsapp:<number with country code>, whatsapp-web:<number>, messenger:<page-scoped id> or an https:// address',
    }),
  RATING_AFTER_DELIVERY_HOURS: z
    .string()
    .default('24')
    .refine((s) => s === 'off' || (/^\d+(\.\d+)?$/.test(s) && Number(s) <= 720), { message: 'must be a number of hours from 0 to 720, or off' }),
  RATING_AFTER_ANSWER_MINUTES: z
    .string()
    .default('30')
    .refine((s) => s === 'off' || (/^\d+$/.test(s) && Number(s) <= 10_080), { message: 'must be a whole number of minutes from 0 to 10080, or off' }),
  RATING_COOLDOWN_DAYS: z
    .string()
    .default('30')
    .refine((s) => /^\d+$/.test(s) && Number(s) <= 365, { message: 'must be a whole number of days from 0 to 365' }),
  DIGEST_CRON: z
    .string()
    .default('0 8 * * 1')
    .refine((s) => cron.validate(s), { message: 'must be a cron expression such as "0 8 * * 1" (Mondays at 08:00)' }),
  TZ: z
    .string()
    .default('Africa/Casablanca')
    .refine((s) => isTimeZone(s), { message: 'must be a time zone such as Africa/Casablanca' }),
  ADMIN_PASSWORD: z
    .string()
    .optional()
    .refine((s) => s === undefined || s.length >= 10, { message: 'must be at least 10 characters' }),
  HANDOFF_TIMEOUT_HOURS: z
    .string()
    .default('24')
    .refine((s) => /^\d+(\.\d+)?$/.test(s) && Number(s) > 0 && Number(s) <= 720, { message: 'must be a number of hours from 0.1 to 720' }),
  MESSAGE_RETENTION_DAYS: z
    .string()
    .default('off')
    .refine((s) => s === 'off' || (/^\d+$/.test(s) && Number(s) >= 1), { message: 'must be a whole number of days (1 or more), or off' }),
  // Who hears voice notes: local (the speech worker, npm run voice:install), http (VOICE_URL), off; unset: local once installed.
  VOICE_TRANSCRIBER: z
    .string()
    .optional()
    .refine((s) => s === undefined || ['local', 'http', 'off'].includes(s), { message: 'must be local, http or off' }),
  VOICE_MODEL: z.string().optional(),
  VOICE_PYTHON: z.string().optional(),
  VOICE_URL: z
    .string()
    .optional()
    .refine((s) => s === undefined || /^https?:\/\/[^\s/]+\S*$/.test(s), { message: 'must be an OpenAI-compatible transcription address, such as "https://api.openai.com/v1/audio/transcriptions"' }),
  VOICE_API_KEY: z.string().optional(),
  VOICE_API_MODEL: z.string().default('whisper-1'),
  VOICE_DIR: z.string().optional(),
  // WhatsApp's own limit for audio is 16 MB.
  VOICE_MAX_MB: z
    .string()
    .default('16')
    .refine((s) => /^\d+(\.\d+)?$/.test(s) && Number(s) > 0 && Number(s) <= 100, { message: 'must be a number of megabytes from 0.1 to 100' }),
  VOICE_MAX_SECONDS: z
    .string()
    .default('300')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 5 && Number(s) <= 3600, { message: 'must be a whole number of seconds from 5 to 3600' }),
  VOICE_TIME_LIMIT_SECONDS: z
    .string()
    .default('120')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 5 && Number(s) <= 1800, { message: 'must be a whole number of seconds from 5 to 1800' }),
  VOICE_WORKERS: z
    .string()
    .default('1')
    .refine((s) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 8, { message: 'must be a whole number of worker processes from 1 to 8' }),
  VOICE_UNSURE_BELOW: z
    .string()
    .default('-0.5')
    .refine((s) => /^-?\d+(\.\d+)?$/.test(s) && Number(s) <= 0 && Number(s) >= -5, { message: "must be a log-probability from -5 to 0 (Whisper's average; -0.5 by default)" }),
  LOG_LEVEL: z.string().default('info').refine((s) => (LOG_LEVELS as readonly string[]).includes(s), {
    message: `must be one of ${LOG_LEVELS.join(', ')}`,
  }),
} as const;

const SECRETS = new Set(['VOICE_API_KEY', 'ADMIN_TOKEN', 'ADMIN_PASSWORD', 'WEBCHAT_SECRET', 'MESSENGER_PAGE_TOKEN', 'MESSENGER_APP_SECRET', 'MESSENGER_VERIFY_TOKEN', 'WHATSAPP_TOKEN', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN']);

/** A bad value as the error may show it: secrets by their length only, addresses without their password. */
function shown(name: string, raw: string | undefined): string {
  if (raw === undefined) return 'nothing';
  if (SECRETS.has(name)) return `${raw.length} characters`;
  if (name === 'MONGODB_URI') return JSON.stringify(redactUri(raw));
  return JSON.stringify(raw);
}

type Parsed = { [K in keyof typeof variables]: z.output<(typeof variables)[K]> };

/** Reads and validates the configuration from an environment; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const parsed: Partial<Record<keyof typeof variables, unknown>> = {};
  for (const [name, schema] of Object.entries(variables) as [keyof typeof variables, z.ZodType][]) {
    const raw = optional(env[name]);
    const result = schema.safeParse(raw);
    if (result.success) parsed[name] = result.data;
    else problems.push(`${name} ${result.error.issues[0]?.message ?? 'is invalid'}, got ${shown(name, raw)}`);
  }
  // A channel is on with all its variables, off with none; half set is a mistake to say.
  const groups = [
    { name: 'Messenger', vars: ['MESSENGER_PAGE_TOKEN', 'MESSENGER_APP_SECRET', 'MESSENGER_VERIFY_TOKEN'] },
    { name: 'WhatsApp', vars: ['WHATSAPP_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN'] },
  ];
  for (const group of groups) {
    const set = group.vars.filter((v) => optional(env[v]) !== undefined);
    if (set.length === 0 || set.length === group.vars.length) continue;
    const missing = group.vars.filter((v) => !set.includes(v));
    problems.push(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} unset while ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set; set all ${group.vars.length} to turn ${group.name} on, or none to leave it off`);
  }
  if (parsed.WHATSAPP_WEB === 'true' && typeof parsed.CHROME_PATH === 'string' && !fs.existsSync(parsed.CHROME_PATH)) {
    problems.push(`CHROME_PATH points to ${parsed.CHROME_PATH}, which does not exist; WhatsApp Web needs Chromium: apt-get install chromium, or set CHROME_PATH`);
  }
  if (parsed.VOICE_TRANSCRIBER === 'http' && !optional(env.VOICE_URL)) problems.push('VOICE_URL is unset while VOICE_TRANSCRIBER=http; set it to an OpenAI-compatible /v1/audio/transcriptions address, or choose local or off');
  if (problems.length > 0) throw new ConfigError(problems);
  const p = parsed as Parsed;
  return {
    port: p.PORT,
    host: p.HOST,
    publicUrl: p.PUBLIC_URL?.replace(/\/+$/, ''),
    mongodbUri: p.MONGODB_URI,
    dataDir: path.resolve(projectRoot, p.DATA_DIR),
    inboxDatabase: p.INBOX_DATABASE,
    singleProcess: p.SINGLE_PROCESS === undefined ? undefined : p.SINGLE_PROCESS === 'true',
    flowsDir: path.resolve(projectRoot, p.FLOWS_DIR),
    localesDir: path.resolve(projectRoot, p.LOCALES_DIR),
    ferretdbBin: p.FERRETDB_BIN,
    adminToken: p.ADMIN_TOKEN,
    webchatSecret: p.WEBCHAT_SECRET,
    defaultLanguage: p.DEFAULT_LANGUAGE as Language,
    logLevel: p.LOG_LEVEL as Config['logLevel'],
    // Readable lines for a person at a terminal; JSON for log collectors.
    logFormat: (p.LOG_FORMAT as Config['logFormat'] | undefined) ?? (process.stdout.isTTY ? 'pretty' : 'json'),
    messenger:
      p.MESSENGER_PAGE_TOKEN && p.MESSENGER_APP_SECRET && p.MESSENGER_VERIFY_TOKEN
        ? { pageToken: p.MESSENGER_PAGE_TOKEN, appSecret: p.MESSENGER_APP_SECRET, verifyToken: p.MESSENGER_VERIFY_TOKEN, ...(p.MESSENGER_PAGE_ID ? { pageId: p.MESSENGER_PAGE_ID } : {}) }
        : undefined,
    whatsapp:
      p.WHATSAPP_TOKEN && p.WHATSAPP_PHONE_NUMBER_ID && p.WHATSAPP_APP_SECRET && p.WHATSAPP_VERIFY_TOKEN
        ? {
            token: p.WHATSAPP_TOKEN,
            phoneNumberId: p.WHATSAPP_PHONE_NUMBER_ID,
            appSecret: p.WHATSAPP_APP_SECRET,
            verifyToken: p.WHATSAPP_VERIFY_TOKEN,
            messagesPerSecond: Number(p.WHATSAPP_MESSAGES_PER_SECOND),
            template: p.WHATSAPP_TEMPLATE ? { name: p.WHATSAPP_TEMPLATE.split(':')[0]!, language: p.WHATSAPP_TEMPLATE.split(':')[1]! } : undefined,
            ...(p.WHATSAPP_CATALOG_ID ? { catalogId: p.WHATSAPP_CATALOG_ID } : {}),
          }
        : undefined,
    graphApiUrl: p.GRAPH_API_URL.replace(/\/+$/, ''),
    graphApiVersion: p.GRAPH_API_VERSION,
    whatsappWeb: p.WHATSAPP_WEB === 'true' ? { chromePath: p.CHROME_PATH, groups: p.WHATSAPP_WEB_GROUPS === 'true', lookupTimeLimitMs: Number(p.WHATSAPP_WEB_LOOKUP_MS), lookupAgainMinutes: Number(p.WHATSAPP_WEB_LOOKUP_AGAIN_MINUTES) } : undefined,
    coopNotify: p.COOP_NOTIFY ? parseCoopTarget(p.COOP_NOTIFY) : undefined,
    ratings: {
      afterDeliveryHours: p.RATING_AFTER_DELIVERY_HOURS === 'off' ? undefined : Number(p.RATING_AFTER_DELIVERY_HOURS),
      afterAnswerMinutes: p.RATING_AFTER_ANSWER_MINUTES === 'off' ? undefined : Number(p.RATING_AFTER_ANSWER_MINUTES),
      cooldownDays: Number(p.RATING_COOLDOWN_DAYS),
    },
    digestCron: p.DIGEST_CRON,
    timeZone: p.TZ,
    adminPassword: p.ADMIN_PASSWORD,
    handoffTimeoutHours: Number(p.HANDOFF_TIMEOUT_HOURS),
    messageRetentionDays: p.MESSAGE_RETENTION_DAYS === 'off' ? undefined : Number(p.MESSAGE_RETENTION_DAYS),
    voice: {
      transcriber: (p.VOICE_TRANSCRIBER as Config['voice']['transcriber'] | undefined) ?? (p.VOICE_URL ? 'http' : 'auto'),
      model: p.VOICE_MODEL,
      python: p.VOICE_PYTHON,
      url: p.VOICE_URL,
      apiKey: p.VOICE_API_KEY,
      apiModel: p.VOICE_API_MODEL,
      dir: path.resolve(projectRoot, p.VOICE_DIR ?? path.join(p.DATA_DIR, 'voice')),
      maxBytes: Math.round(Number(p.VOICE_MAX_MB) * 1_000_000),
      maxSeconds: Number(p.VOICE_MAX_SECONDS),
      timeLimitMs: Number(p.VOICE_TIME_LIMIT_SECONDS) * 1000,
      workers: Number(p.VOICE_WORKERS),
      unsureBelow: Number(p.VOICE_UNSURE_BELOW),
    },
  };
}
