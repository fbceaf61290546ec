// npm run bench [-- --customers 200 --rate 100]: N simulated customers, each taking a whole
// order through signed Messenger webhooks, against a local fake Graph API and the real
// database (FerretDB, or MONGODB_URI). Phase 1 runs as fast as it goes (throughput);
// phase 2 paces the webhooks at --rate messages/s (latency). The same workload then runs
// through a bare baseline: express and the same database writes, no bot.
process.env.DOTENV_CONFIG_QUIET ??= 'true';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import mongoose from 'mongoose';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';
import { Catalog } from '../src/catalog/catalog';
import { orderModel } from '../src/db/models/order';
import { FakeGraphApi, messengerText, signedWebhook } from '../test/support/fake-graph-api';
import { benchDatabase, numberArg, stopBenchDatabases } from './bench-support';

const CUSTOMERS = numberArg('customers', 200);
const RATE = numberArg('rate', 100);
const SECRET = 'bench-secret';
const TOKEN = 'bench-token';
// A whole order: greeting, name, the Order button, product 3 of the numbered list, quantity,
// "that's all", phone, delivery, city, address, cash on delivery, yes.
const SCRIPT: [string, string?][] = [
  ['bonjour'],
  ['Client'],
  ['Commander', 'ORDER'],
  ['3'],
  ['2'],
  ["C'est tout", 'done'],
  ['0612345678'],
  ['Livraison', 'delivery'],
  ['Rabat'],
  ['Agdal, rue 3'],
  ['À la livraison', 'cod'],
  ['oui'],
];

const REPLY_TIMEOUT_MS = 30_000;

interface Run {
  /** Messages whose reply did not come within REPLY_TIMEOUT_MS (the customer goes on). */
  lost: number;
  messages: number;
  seconds: number;
  ack: number[];
  reply: number[];
  cpuMs: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

/** Plays every customer's order against `url`; replies are seen on `graph`; `rate` paces all webhooks (0: no pacing). */
async function play(url: string, graph: FakeGraphApi, prefix: string, rate: number): Promise<Run> {
  const waiting = new Map<string, () => void>();
  graph.onSent = (m) => {
    const wake = waiting.get(m.recipient);
    if (wake) {
      waiting.delete(m.recipient);
      wake();
    }
  };
  const ack: number[] = [];
  const reply: number[] = [];
  let lost = 0;
  let next = performance.now();
  const slot = async () => {
    if (!rate) return;
    const at = next;
    next += 1000 / rate;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CUSTOMERS }, async (_, c) => {
      const sender = `${prefix}-${c}`;
      for (const [text, payload] of SCRIPT) {
        await slot();
        const { raw, signature } = signedWebhook(messengerText(sender, text, payload), SECRET);
        const replied = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            waiting.delete(sender);
            resolve(false);
          }, REPLY_TIMEOUT_MS);
          waiting.set(sender, () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        const t0 = performance.now();
        const res = await fetch(`${url}/webhooks/messenger`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
        ack.push(performance.now() - t0);
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
        if (await replied) reply.push(performance.now() - t0);
        else lost += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { lost, messages: CUSTOMERS * SCRIPT.length, seconds, ack, reply, cpuMs: (used.user + used.system) / 1000 };
}

/** The baseline: verify, parse, and the same writes (event, customer, message in, message out), then one Send API call. */
async function baseline(uri: string, graphUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const db = await mongoose.createConnection(uri).asPromise();
  // The same layout as the bot: webhook events in a database of their own.
  const inboxDb = db.useDb(`${db.name}_inbox`);
  const app = express();
  app.use(express.json({ limit: '1mb', verify: (req, _res, buf) => ((req as { rawBody?: Buffer }).rawBody = buf) }));
  app.post('/webhooks/messenger', async (req, res) => {
    const raw = (req as { rawBody?: Buffer }).rawBody!;
    const expected = `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;
    if (req.get('x-hub-signature-256') !== expected) return void res.sendStatus(403);
    const item = req.body.entry[0].messaging[0];
    await inboxDb.collection('inbound_events').insertOne({ _id: `messenger:${item.message.mid}` as never, sender: item.sender.id, status: 'pending', at: new Date() });
    res.sendStatus(200);
    const customer = await db.collection('customers').findOneAndUpdate({ channel: 'messenger', externalId: item.sender.id }, { $set: { lastSeenAt: new Date() } }, { upsert: true, returnDocument: 'after' });
    await db.collection('messages').insertOne({ customer: customer?._id, direction: 'in', text: item.message.text, at: new Date() });
    await db.collection('messages').insertOne({ customer: customer?._id, direction: 'out', text: 'ok', at: new Date() });
    await inboxDb.collection('inbound_events').updateOne({ _id: `messenger:${item.message.mid}` as never }, { $set: { status: 'done' } });
    const proof = createHmac('sha256', SECRET).update(TOKEN).digest('hex');
    await fetch(`${graphUrl}/v21.0/me/messages?access_token=${TOKEN}&appsecret_proof=${proof}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: { id: item.sender.id }, messaging_type: 'RESPONSE', message: { text: 'ok' } }),
    });
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: async () => (server.close(), await db.close()) };
}

function report(name: string, run: Run): void {
  console.log(
    `${name.padEnd(28)} ${(run.messages / run.seconds).toFixed(1).padStart(7)} msg/s${run.lost ? ` (${run.lost} replies lost)` : ''}   ack p99 ${quantile(run.ack, 0.99).toFixed(1).padStart(6)} ms   reply p50 ${quantile(run.reply, 0.5).toFixed(1).padStart(6)} ms  p99 ${quantile(run.reply, 0.99).toFixed(1).padStart(6)} ms   CPU ${(run.cpuMs / run.messages).toFixed(2)} ms/msg`,
  );
}

async function main(): Promise<void> {
  const database = await benchDatabase('bench');
  const dbUri = database.uri;
  console.log(database.machine);
  console.log(`workload: ${CUSTOMERS} customers × ${SCRIPT.length} messages (a whole order each) through signed Messenger webhooks; fake Graph API on loopback\n`);

  const graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0' });
  const graphUrl = await graph.start();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  const server = await startServer(
    { ...loadConfig({}), port: 0, host: '127.0.0.1', mongodbUri: dbUri(`bench_${process.pid}`), singleProcess: !process.env.MONGODB_URI, inboxDatabase: process.env.INBOX_DATABASE ?? `bench_${process.pid}_inbox`, logLevel: 'error', logFormat: 'json', messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: 'v' }, graphApiUrl: graphUrl, graphApiVersion: 'v21.0' },
    createLogger('error', 'json'),
  );
  // Enough amlou for every customer of both runs: the benchmark measures the pipeline, not sold-out answers.
  const catalog = Catalog.load(path.join(loadConfig({}).flowsDir, 'catalog.yml'));
  for (const product of catalog.products) product.stock = 10 * CUSTOMERS;
  await server.orders.stock.sync(catalog);
  const full = await play(server.url, graph, 'full', 0);
  const paced = await play(server.url, graph, 'paced', RATE);
  // Each customer of each run ends with a placed order, or the workload was not the one stated.
  const placed = await orderModel(server.connection).countDocuments({});
  await server.stop();
  // Dropped after the stop: FerretDB can crash (SIGBUS) when a database in use is dropped.
  for (const name of [`bench_${process.pid}`, `bench_${process.pid}_inbox`]) {
    const c = await mongoose.createConnection(dbUri(name)).asPromise();
    await c.dropDatabase();
    await c.close();
  }
  const botPeak = peakRss;

  const bare = await baseline(dbUri(`bench_base_${process.pid}`), graphUrl);
  const bareRun = await play(bare.url, graph, 'base', 0);
  await bare.close();
  for (const name of [`bench_base_${process.pid}`, `bench_base_${process.pid}_inbox`]) {
    const c = await mongoose.createConnection(dbUri(name)).asPromise();
    await c.dropDatabase();
    await c.close();
  }
  clearInterval(sampler);

  report('Taawun, as fast as it goes', full);
  report(`Taawun, paced at ${RATE} msg/s`, paced);
  report('baseline (no bot), fastest', bareRun);
  const ratio = full.messages / full.seconds / (bareRun.messages / bareRun.seconds);
  console.log(`\norders placed: ${placed} of ${2 * CUSTOMERS}`);
  console.log(`peak RSS (bot runs): ${(botPeak / 2 ** 20).toFixed(0)} MiB`);
  console.log(`throughput vs baseline: ${(ratio * 100).toFixed(0)}% (target ≥ 50%)`);
  console.log(`at ${RATE} msg/s: ack p99 ${quantile(paced.ack, 0.99).toFixed(1)} ms (target < 50), webhook-to-reply p99 ${quantile(paced.reply, 0.99).toFixed(1)} ms (target < 150)`);
  await graph.stop();
  await database.stop();
}

main().then(
  () => process.exit(0),
  async (err: Error) => {
    console.error(err);
    await stopBenchDatabases();
    // The engine's own words, when it is the one that failed.
    const log = path.join(os.tmpdir(), 'taawun-bench-last-ferretdb.log');
    if (fs.existsSync(log)) console.error(`FerretDB log: ${log}`);
    process.exit(1);
  },
);
