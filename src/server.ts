process.env.DOTENV_CONFIG_QUIET ??= 'true';
import { createVoiceNotes } from './voice/voice-setup';
import { hearingVoice } from './voice/voice-events';
import type { VoiceNotes } from './voice/voice-notes';
import 'dotenv/config';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { Router } from 'express';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { createBot, type Bot } from './bot/create-bot';
import { currentTurn } from './bot/turn-scope';
import { WEB_CHANNEL_ID, WebChatAdapter } from './channels/web-chat/adapter';
import { WebChatIdentities } from './channels/web-chat/identity';
import { historyFrame } from './channels/web-chat/history-frame';
import { webChatRoutes } from './channels/web-chat/routes';
import { Inbox } from './channels/inbox';
import { GraphClient } from './channels/meta/graph-api';
import { MESSENGER_CHANNEL, MessengerAdapter } from './channels/messenger/messenger-adapter';
import { metaWebhook } from './channels/meta/meta-webhook';
import { parseMessengerWebhook } from './channels/messenger/messenger-events';
import { WHATSAPP_CHANNEL, WhatsAppCloudAdapter } from './channels/whatsapp/whatsapp-cloud-adapter';
import { parseWhatsAppWebhook } from './channels/whatsapp/whatsapp-events';
import { whatsappWebAdminRoutes } from './channels/whatsapp-web/admin-page';
import { WHATSAPP_WEB_CHANNEL, WhatsAppWebChannel } from './channels/whatsapp-web/whatsapp-web-channel';
import { realWebClient, type WebClient } from './channels/whatsapp-web/whatsapp-web-client';
import { loadConfig, type Config } from './config';
import { connectDatabase, ensureIndexes } from './db/connection';
import { redactUri } from './db/redact-uri';
import { startEmbeddedDatabase, type RunningEngine } from './db/embedded/start-embedded';
import { leaseHolderName, startHeartbeat } from './db/models/lease';
import { settingOnce } from './db/models/setting';
import { MongoStorage } from './db/mongo-storage';
import { ConfigError, DatabaseError } from './errors';
import { createApp } from './http/app';
import { watchFolders } from './flows/watch-flows';
import { scheduleInboxRetention } from './jobs/inbox-retention';
import { createLogger, type Logger } from './logger';
import { ChannelDirectory } from './notify/channel-directory';
import { CooperativeNotifier } from './notify/cooperative-notifier';
import { CustomerNotifier } from './notify/customer-notifier';
import { OrderBook } from './orders/order-book';
import { orderNotifications } from './orders/order-notifications';
import { ordersApi } from './orders/orders-api';
import { consoleRoutes } from './admin/console-routes';
import { customersApi } from './admin/customers-api';
import { LoginLimiter } from './admin/login-limiter';
import { storedPasswordHash } from './admin/password';
import { AdminSessions } from './admin/sessions';
import { staffApi } from './admin/staff-api';
import { StaffConversation } from './handoff/staff-conversation';
import { scheduleMessageRetention } from './jobs/message-retention';
import { StockLedger } from './orders/stock-ledger';
import { CatalogPublisher } from './catalog/meta-catalog/catalog-publisher';
import { MetaCatalogClient } from './catalog/meta-catalog/meta-catalog-client';
import { itemLink } from './catalog/meta-catalog/meta-items';
import { digestApi } from './satisfaction/digest-api';
import { DigestDays } from './satisfaction/digest-days';
import { digestPage } from './satisfaction/digest-page';
import { DigestSender } from './satisfaction/digest-sender';
import { RatingScheduler } from './satisfaction/rating-scheduler';

// Send API calls a second, a little under what Meta allows: Messenger 300 a Page for text
// (developers.facebook.com/docs/messenger-platform/overview/rate-limiting). Below Meta's figure,
// a burst is never answered 429. WhatsApp's is the number's tier (WHATSAPP_MESSAGES_PER_SECOND).
const MESSENGER_SENDS_PER_SECOND = 250;

/** A running Taawun: its address, its database, and how to stop it. */
export interface RunningServer {
  url: string;
  port: number;
  connection: Connection;
  /** The database address in use (the embedded engine's, or MONGODB_URI). */
  databaseUri: string;
  engine: RunningEngine | undefined;
  /** The durable inbox of the Meta channels. */
  inbox: Inbox;
  /** The WhatsApp Web channel, when on. */
  whatsappWeb: WhatsAppWebChannel | undefined;
  /** Orders and stock. */
  orders: OrderBook;
  /** Notifications to the cooperative (COOP_NOTIFY). */
  cooperative: CooperativeNotifier;
  /** Rating requests and their scheduler. */
  ratings: RatingScheduler;
  /** The weekly digest. */
  digests: DigestSender;
  /** Voice notes: their files and transcriber. */
  voice: VoiceNotes;
  /** Every router of the admin API and the console, with where it is mounted: for the test that none is open. */
  adminRouters: { mount: '/api' | '/admin'; router: Router }[];
  stop(): Promise<void>;
}

/** Starts everything in order: database, bot, channels, HTTP. Tests call it with port 0. */
export async function startServer(
  config: Config,
  log: Logger = createLogger(config.logLevel, config.logFormat),
  options: { shareDatabase?: boolean; whatsappWebClient?: () => Promise<WebClient> } = {},
): Promise<RunningServer> {
  let engine: RunningEngine | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    engine = await startEmbeddedDatabase({
      dataDir: config.dataDir,
      ferretdbBin: config.ferretdbBin,
      progress: (line) => log.info(line),
      share: options.shareDatabase,
    });
    uri = engine.uri;
    log.info({ engine: engine.engine, dataDir: engine.dataDir, binary: engine.binary }, `embedded database: ${engine.engine}${engine.binary ? ` (${engine.binary})` : ''}, data in ${engine.dataDir}`);
  } else {
    log.info({ mongodb: redactUri(uri) }, 'using MONGODB_URI');
  }

  let connection: Connection | undefined;
  try {
    connection = await connectDatabase(uri);
    await ensureIndexes(connection);
    const db = connection;
    const secret = config.webchatSecret ?? (await settingOnce(db, 'webchat-secret', () => randomBytes(32).toString('base64url')));
    const identities = new WebChatIdentities(secret);

    const adapter = new WebChatAdapter(identities, log, async (user, send) => send(await historyFrame(db, user)));
    const botRoutes = Router();
    // The embedded engine serves this process alone (a second Taawun on its folder is refused;
    // the CLI that shares it takes no webhooks and holds no conversation of a customer's).
    const alone = config.singleProcess ?? Boolean(engine);
    const flowPaths = { flowsDir: config.flowsDir, localesDir: config.localesDir, catalogFile: path.join(config.flowsDir, 'catalog.yml') };

    // Orders tell customers and the cooperative of changes through whichever channels are on;
    // the texts come from the live flows, which exist once the bot does.
    const channels = new ChannelDirectory().add(WEB_CHANNEL_ID, adapter);
    const holder = leaseHolderName();
    const cooperative = new CooperativeNotifier(config.coopNotify, channels, log, { connection: db, holder, alone });
    const customerNotifier = new CustomerNotifier(db, channels, log);
    let live: Bot | undefined;
    // Known once the server listens; links in notifications are only built later than that.
    let baseUrl = config.publicUrl ?? '';
    const ratings = new RatingScheduler(
      db,
      config.ratings,
      async (customer, request) => {
        const channel = channels.adapter(customer.channel);
        if (!channel) throw new Error(`the ${customer.channel} channel is off in this process`);
        // In line with the customer's own messages (here, and under their lease for other
        // processes), so the dialog state is not written twice at once.
        await live!.handleTurn.queue.run(`${customer.channel}:${customer.externalId}`, () =>
          // Under the lease of the inbox's queue of this customer (WhatsApp orders events by BSUID, else phone).
          inbox.whileHolding(customer.channel, customer.channel === WHATSAPP_CHANNEL ? (customer.whatsapp?.bsuid ?? customer.whatsapp?.phone ?? customer.externalId) : customer.externalId, () =>
            live!.flows.beginProactively(channel, customer, 'satisfaction', { occasion: request.occasion, order: request.order, request: request._id }),
          ),
        );
      },
      holder,
      log,
    );
    const digestDays = new DigestDays(db, config.timeZone, log);
    // Voice notes of every channel: kept under VOICE_DIR, heard by the configured transcriber.
    const voice = createVoiceNotes(config.voice, log);
    const orderEvents = orderNotifications({
      connection: db,
      customers: customerNotifier,
      cooperative,
      locales: () => live!.flows.current.locales,
      catalog: () => live!.flows.current.catalog,
      staffLanguage: config.defaultLanguage,
      orderLink: (number) => `${baseUrl}/admin/orders#order-${encodeURIComponent(number)}`,
      delivered: (order) => ratings.delivered(order),
      // A day whose figures were kept is summed again when one of its orders is cancelled.
      cancelled: (order) => digestDays.invalidate(order.createdAt),
      log,
    });
    const orders = new OrderBook(db, new StockLedger(db, { alone }), orderEvents, log, holder);
    // Products that sold out or came back before the WhatsApp shop is set up below (the start's stock sync: counts edited while stopped).
    const earlyAvailability = new Set<string>();
    orders.stock.onAvailability = (product) => earlyAvailability.add(product);
    const bot = (live = await createBot({
      adapter,
      webserver: botRoutes,
      webhookUri: '/webchat/messages',
      storage: new MongoStorage(db, { alone }),
      connection: db,
      flowPaths,
      defaultLanguage: config.defaultLanguage,
      services: {
        orders,
        ratings,
        cooperative,
        links: { customer: (customer) => `${baseUrl}/admin/customers/${customer}` },
        digestDays,
        handoff: { timeoutMs: config.handoffTimeoutHours * 3_600_000 },
        staffLanguage: config.defaultLanguage,
        // The inbox is made below, before any turn runs.
        inbox: { forget: (channel, senders) => inbox.forgetSenders(channel, senders) },
        voice: { forget: async (channel, senders) => voice.store.forget(channel, senders) },
      },
      log,
    }));
    // The catalog's stock counts go into the ledger at start and on each edit; a product back tells those waiting.
    const syncStock = async () => {
      const back = await orders.stock.sync(bot.flows.current.catalog);
      if (back.length > 0) orderEvents.backInStock(back);
    };
    await syncStock();
    const trainingDir = path.join(config.flowsDir, 'training');
    const watched = [config.flowsDir, config.localesDir, ...(fs.existsSync(trainingDir) ? [trainingDir] : [])];
    const watcher = watchFolders(
      watched,
      async () => {
        const reloaded = await bot.flows.reload();
        if (reloaded.ok) await syncStock().catch((err: Error) => log.error({ err: err.message }, 'could not update the stock from the catalog'));
        return reloaded;
      },
      log,
    );
    adapter.createSocketServer(undefined, undefined, bot.handleTurn);

    const channelRoutes = [webChatRoutes(identities), botRoutes];
    // Pages and API routes other capabilities add to the console and the admin API.
    const adminPages: Router[] = [];
    const adminApis: Router[] = [];
    // The embedded engine is ours: its inbox gets a database (a file) of its own by default.
    const inbox = new Inbox(db, log, { database: config.inboxDatabase ?? (engine ? `${db.name}_inbox` : undefined), alone, holder });
    await inbox.ensureIndexes();
    // Other processes (or a successor in another container) tell this one is alive by its heartbeat: leases of a gone process are taken over.
    const stopHeartbeat = startHeartbeat([...new Set([db, inbox.store])], holder, log);
    if (config.messenger) {
      const graph = new GraphClient({ baseUrl: config.graphApiUrl, version: config.graphApiVersion, accessToken: config.messenger.pageToken, appSecret: config.messenger.appSecret, perSecond: MESSENGER_SENDS_PER_SECOND, log });
      const messenger = new MessengerAdapter(graph, db, log, bot.handleTurn);
      const pageId = config.messenger.pageId;
      messenger.handoffMs = config.handoffTimeoutHours * 3_600_000;
      channels.add(MESSENGER_CHANNEL, messenger);
      const heard = hearingVoice(voice, db, MESSENGER_CHANNEL, messenger, (event, attempt) => messenger.processEvent(event, attempt));
      inbox.handle(MESSENGER_CHANNEL, heard.handle, heard.prepare);
      channelRoutes.push(
        metaWebhook({ path: '/webhooks/messenger', channel: MESSENGER_CHANNEL, verifyToken: config.messenger.verifyToken, appSecret: config.messenger.appSecret, parse: (body) => {
          const parsed = parseMessengerWebhook(body, { pageId });
          return { ...parsed, record: () => messenger.recordStatuses(parsed.statuses) };
        }, inbox, log }),
      );
      log.info(`Messenger is on: webhook at /webhooks/messenger, ${config.messenger.pageId ? `Page ${config.messenger.pageId}` : 'every Page (set MESSENGER_PAGE_ID to answer for one)'}, Graph API ${config.graphApiUrl}/${config.graphApiVersion}`);
    } else log.info('Messenger is off: set MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET and MESSENGER_VERIFY_TOKEN to turn it on');
    let publisher: CatalogPublisher | undefined;
    if (config.whatsapp) {
      const wa = config.whatsapp;
      const graph = new GraphClient({ baseUrl: config.graphApiUrl, version: config.graphApiVersion, accessToken: wa.token, appSecret: wa.appSecret, perSecond: wa.messagesPerSecond ?? 80, log });
      const whatsapp = new WhatsAppCloudAdapter(graph, wa.phoneNumberId, wa.template, db, log, bot.handleTurn);
      whatsapp.handoffMs = config.handoffTimeoutHours * 3_600_000;
      if (wa.catalogId) {
        whatsapp.shop = { catalogId: wa.catalogId, catalog: () => bot.flows.current.catalog };
        // A product that sells out or comes back shows so in the WhatsApp shop (at most once a minute).
        const link = itemLink(config.publicUrl, bot.flows.current.catalog) ?? '';
        const shop = new CatalogPublisher(new MetaCatalogClient(graph, wa.catalogId), () => bot.flows.current.catalog, (id) => orders.stock.level(id), link, log);
        publisher = shop;
        orders.stock.onAvailability = (product) => shop.availabilityChanged(product);
        for (const product of earlyAvailability) shop.availabilityChanged(product);
        earlyAvailability.clear();
      }
      channels.add(WHATSAPP_CHANNEL, whatsapp);
      const heard = hearingVoice(voice, db, WHATSAPP_CHANNEL, whatsapp, (event, attempt) => whatsapp.processEvent(event, attempt));
      inbox.handle(WHATSAPP_CHANNEL, heard.handle, heard.prepare);
      channelRoutes.push(
        metaWebhook({
          path: '/webhooks/whatsapp',
          channel: WHATSAPP_CHANNEL,
          verifyToken: wa.verifyToken,
          appSecret: wa.appSecret,
          parse: (body) => {
            const parsed = parseWhatsAppWebhook(body, { phoneNumberId: wa.phoneNumberId });
            for (const e of parsed.errors) log.error({ channel: WHATSAPP_CHANNEL, code: e.code, title: e.title, details: e.details }, 'WhatsApp reported an error');
            return {
              ...parsed,
              record: async () => {
                await whatsapp.recordStatuses(parsed.statuses);
                await whatsapp.recordPreferences(parsed.preferences);
              },
            };
          },
          inbox,
          log,
        }),
      );
      log.info(`WhatsApp (Cloud API) is on: webhook at /webhooks/whatsapp, phone number id ${wa.phoneNumberId}, ${wa.messagesPerSecond ?? 80} messages a second, ${wa.catalogId ? `products shown from catalog ${wa.catalogId}` : 'no catalog linked (set WHATSAPP_CATALOG_ID to show products in the chat)'}, Graph API ${config.graphApiUrl}/${config.graphApiVersion}`);
    } else log.info('WhatsApp (Cloud API) is off: set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN to turn it on');
    // No WhatsApp shop to keep up to date.
    if (!publisher) orders.stock.onAvailability = undefined;
    let whatsappWeb: WhatsAppWebChannel | undefined;
    if (config.whatsappWeb) {
      const chromePath = config.whatsappWeb.chromePath;
      const makeClient = options.whatsappWebClient ?? (() => realWebClient({ dataPath: path.join(config.dataDir, 'whatsapp-web'), chromePath }));
      whatsappWeb = new WhatsAppWebChannel(makeClient, inbox, { groups: config.whatsappWeb.groups, printQr: !options.whatsappWebClient, lookupTimeLimitMs: config.whatsappWeb.lookupTimeLimitMs, lookupAgainMinutes: config.whatsappWeb.lookupAgainMinutes }, db, log, bot.handleTurn);
      const channel = whatsappWeb;
      channels.add(WHATSAPP_WEB_CHANNEL, channel);
      const heard = hearingVoice(voice, db, WHATSAPP_WEB_CHANNEL, channel, (event, attempt) => channel.processEvent(event, attempt));
      inbox.handle(WHATSAPP_WEB_CHANNEL, heard.handle, heard.prepare);
      const waAdmin = whatsappWebAdminRoutes(channel);
      adminPages.push(waAdmin.page);
      adminApis.push(waAdmin.api);
      void channel.start();
      log.info(`WhatsApp Web is on: session kept in ${path.join(config.dataDir, 'whatsapp-web')}${config.adminPassword ? '; QR code at /admin/whatsapp-web' : '; set ADMIN_PASSWORD to see the QR code in the console'}`);
    } else log.info('WhatsApp Web is off: set WHATSAPP_WEB=true to link a phone');
    inbox.start();
    cooperative.logTarget();
    const stopNotices = cooperative.start();
    const stopRetention = scheduleInboxRetention(inbox.store, log, inbox.leaseHolder);
    const stopRatings = ratings.start();
    const liveFlows = { catalog: () => bot.flows.current.catalog, locales: () => bot.flows.current.locales };
    const digests = new DigestSender(db, digestDays, liveFlows, cooperative, { timeZone: config.timeZone, cron: config.digestCron, staffLanguage: config.defaultLanguage, baseUrl: () => baseUrl }, holder, log);
    const stopDigest = digests.start();
    adminPages.push(digestPage(() => bot.flows.current.locales));
    const stopRetentionOfMessages = scheduleMessageRetention(db, config.messageRetentionDays, config.timeZone, holder, log, voice.store);
    const staff = new StaffConversation(db, customerNotifier, () => bot.flows.current.locales, log);
    const sessions = config.adminPassword ? new AdminSessions(db, (config.publicUrl ?? '').startsWith('https:')) : undefined;
    const passwordHash = config.adminPassword ? await storedPasswordHash(db, config.adminPassword) : '';
    const consoleRouter = sessions
      ? consoleRoutes({
          connection: db,
          sessions,
          passwordHash: () => passwordHash,
          limiter: new LoginLimiter(),
          token: config.adminToken,
          staff,
          orders,
          flowsStatus: () => bot.flows.status,
          locales: () => bot.flows.current.locales,
          pages: adminPages,
          voice: voice.store,
          log,
        })
      : undefined;
    const adminRoutes = [ordersApi(orders), digestApi(db, digestDays, liveFlows, config.timeZone), staffApi(db, staff), ...adminApis];
    const app = createApp({ connection: db, adminToken: config.adminToken, sessions, channelRoutes, adminRoutes, console: consoleRouter, log });
    const adminRouters = [
      ...[customersApi(db), ...adminRoutes].map((router) => ({ mount: '/api' as const, router })),
      ...(consoleRouter ? [{ mount: '/admin' as const, router: consoleRouter }, ...adminPages.map((router) => ({ mount: '/admin' as const, router }))] : []),
    ];
    const server = http.createServer(app);
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname === '/ws') adapter.handleUpgrade(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        watcher.close();
        stopRetention();
        stopRatings();
        stopDigest();
        stopRetentionOfMessages();
        stopNotices();
        void inbox.stop();
        void voice.stop();
        void adapter.close();
        reject(
          err.code === 'EADDRINUSE'
            ? new Error(`port ${config.port} on ${config.host} is already in use: stop the program using it, or set PORT to another port`)
            : err,
        );
      });
      server.listen(config.port, config.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const url = config.publicUrl ?? `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
    baseUrl = url;
    if (!config.adminToken && !config.adminPassword) log.info('the admin API is off: set ADMIN_TOKEN (or ADMIN_PASSWORD, for the console) to turn it on');
    else if (config.adminToken) log.info(`the admin API is on at ${url}/api (customers, orders, digest; Authorization: Bearer <ADMIN_TOKEN>)`);
    if (config.adminPassword) log.info(`the staff console is at ${url}/admin (sign in with ADMIN_PASSWORD)`);
    else log.info('the staff console is off: set ADMIN_PASSWORD to turn it on');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        watcher.close();
        publisher?.stop();
        stopRetention();
        stopRatings();
        stopDigest();
        stopRetentionOfMessages();
        stopNotices();
        await adapter.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Idle keep-alive connections would hold close() open.
        server.closeAllConnections();
        await closed;
        await whatsappWeb?.stop();
        await inbox.stop();
        await voice.stop();
        await bot.handleTurn.queue.drain();
        await stopHeartbeat();
        await cooperative.flush();
        await db.close();
        await engine?.stop();
      })());
    return { url, port, connection: db, databaseUri: uri, engine, inbox, whatsappWeb, orders, cooperative, ratings, digests, voice, adminRouters, stop };
  } catch (err) {
    await connection?.close().catch(() => undefined);
    await engine?.stop().catch(() => undefined);
    throw err;
  }
}

/** `npm start` (scripts/start.js): reads .env, starts, prints where to go, and stops cleanly on SIGINT/SIGTERM. */
export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      console.error('Fix these in .env (see .env.example) and start again.');
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, config.logFormat);
  let running: RunningServer;
  try {
    running = await startServer(config, log);
  } catch (err) {
    log.fatal({ code: (err as DatabaseError).code }, (err as Error).message);
    process.exit(1);
  }
  log.info({ url: running.url }, `Taawun is running. Web chat: ${running.url}/  Health: ${running.url}/healthz`);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
    log.info(`${signal} received, stopping`);
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // The turn it came from, when it came from one: its customer and event (see bot/turn-scope.ts).
  process.on('unhandledRejection', (err) => log.error({ err: (err as Error)?.message ?? String(err), stack: (err as Error)?.stack, ...currentTurn() }, 'unhandled rejection'));
}

if (require.main === module) void main();
