// npm run bench [-- --customers 200 --rate 100]: N simulated customers, each taking a whole
// order through signed Messenger webhooks, against a local fake Graph API and the real
// database (FerretDB, or MONGODB_URI). Phase 1 runs as fast as it goes (throughput);
// phase 2 paces the webhooks at --rate messages/s (latency); phase 3 plays the orders over
// WhatsApp Cloud as fast as they go (each message also marked read). The same workload then runs
// through a bare baseline: express and the same database writes, no bot. The customers and
// the fake Graph API run in a process of their own (scripts/bench-load.ts): the CPU printed
// is the bot's (or the baseline's) alone.
process.env.DOTENV_CONFIG_QUIET ??= 'true';
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import mongoose from 'mongoose';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server';
import { Catalog } from '../src/catalog/catalog';
import { orderModel } from '../src/db/models/order';
import { benchDatabase, numberArg, stopBenchDatabases } from './bench-support';
import { GRAPH_VERSION, PHONE_NUMBER_ID, SCRIPT, SECRET, TOKEN, type LoadReply, type LoadRequest, type Run } from './bench-load';

const CUSTOMERS = numberArg('customers', 200);
const RATE = numberArg('rate', 100);

/** A run's figures, with the CPU the process under test spent on it. */
type Measured = Run & { cpuMs: number; dbCpuMs: number | undefined };

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};

/** The customers' process (scripts/bench-load.ts): it hosts the fake Graph API and plays the orders. */
class Customers {
  private constructor(
    private readonly child: ChildProcess,
    readonly graphUrl: string,
  ) {}

  /** Forks the process and waits for its fake Graph API. */
  static async start(): Promise<Customers> {
    // The same loader (tsx) as this process, from process.execArgv.
    const child = fork(path.join(__dirname, 'bench-load.ts'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await Customers.next(child);
    if (ready.type !== 'ready') throw new Error(`the customers' process did not start: ${JSON.stringify(ready)}`);
    return new Customers(child, ready.graphUrl);
  }

  private static next(child: ChildProcess): Promise<LoadReply> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the customers' process stopped (exit ${code})`));
      child.once('exit', onExit);
      child.once('message', (reply: LoadReply) => {
        child.off('exit', onExit);
        resolve(reply);
      });
    });
  }

  /** Plays every customer's order against `url`, `rate` webhooks a second (0: as fast as it goes); measures this process's CPU meanwhile. */
  async play(url: string, prefix: string, rate: number, dbCpu: () => number | undefined, channel: 'messenger' | 'whatsapp' = 'messenger'): Promise<Measured> {
    const cpu = process.cpuUsage();
    const db = dbCpu();
    const request: LoadRequest = { type: 'play', url, prefix, rate, customers: CUSTOMERS, channel };
    this.child.send(request);
    const reply = await Customers.next(this.child);
    const used = process.cpuUsage(cpu);
    if (reply.type === 'failed') throw new Error(`the customers' run failed: ${reply.message}`);
    if (reply.type !== 'run') throw new Error(`unexpected answer from the customers' process: ${JSON.stringify(reply)}`);
    const dbAfter = dbCpu();
    return { ...reply.run, cpuMs: (used.user + used.system) / 1000, dbCpuMs: db === undefined || dbAfter === undefined ? undefined : dbAfter - db };
  }

  /** Stops the process and its fake Graph API. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const stopped = new Promise((resolve) => this.child.once('exit', resolve));
    const request: LoadRequest = { type: 'stop' };
    this.child.send(request);
    await stopped;
  }
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
    await fetch(`${graphUrl}/${GRAPH_VERSION}/me/messages?access_token=${TOKEN}&appsecret_proof=${proof}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ recipient: { id: item.sender.id }, messaging_type: 'RESPONSE', message: { text: 'ok' } }),
    });
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: async () => (server.close(), await db.close()) };
}

function report(name: string, run: Measured): void {
  console.log(
    `${name.padEnd(28)} ${(run.messages / run.seconds).toFixed(1).padStart(7)} msg/s${run.lost ? ` (${run.lost} replies lost)` : ''}   ack p99 ${quantile(run.ack, 0.99).toFixed(1).padStart(6)} ms   reply p50 ${quantile(run.reply, 0.5).toFixed(1).padStart(6)} ms  p99 ${quantile(run.reply, 0.99).toFixed(1).padStart(6)} ms   CPU ${(run.cpuMs / run.messages).toFixed(2)} ms/msg${run.dbCpuMs === undefined ? '' : ` (database ${(run.dbCpuMs / run.messages).toFixed(2)})`}`,
  );
}

async function main(): Promise<void> {
  const database = await benchDatabase('bench');
  const dbUri = database.uri;
  console.log(database.machine);
  console.log(`workload: ${CUSTOMERS} customers × ${SCRIPT.length} messages (a whole order each) through signed Messenger webhooks (and once more over WhatsApp Cloud, flat out); fake Graph API on loopback\n`);

  const customers = await Customers.start();
  const graphUrl = customers.graphUrl;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  const server = await startServer(
    { ...loadConfig({}), port: 0, host: '127.0.0.1', mongodbUri: dbUri(`bench_${process.pid}`), singleProcess: !process.env.MONGODB_URI, inboxDatabase: process.env.INBOX_DATABASE ?? `bench_${process.pid}_inbox`, logLevel: 'error', logFormat: 'json', messenger: { pageToken: TOKEN, appSecret: SECRET, verifyToken: 'v' }, whatsapp: { token: TOKEN, phoneNumberId: PHONE_NUMBER_ID, appSecret: SECRET, verifyToken: 'v', template: undefined }, graphApiUrl: graphUrl, graphApiVersion: GRAPH_VERSION },
    createLogger('error', 'json'),
  );
  // Enough amlou for every customer of both runs: the benchmark measures the pipeline, not sold-out answers.
  const catalog = Catalog.load(path.join(loadConfig({}).flowsDir, 'catalog.yml'));
  for (const product of catalog.products) product.stock = 10 * CUSTOMERS;
  await server.orders.stock.sync(catalog);
  const full = await customers.play(server.url, 'full', 0, database.cpuMs);
  const paced = await customers.play(server.url, 'paced', RATE, database.cpuMs);
  // The same orders over WhatsApp Cloud, flat out: each message is also marked read, which Meta does not count against the number's 80 messages a second.
  const whatsapp = await customers.play(server.url, 'wa', 0, database.cpuMs, 'whatsapp');
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
  const bareRun = await customers.play(bare.url, 'base', 0, database.cpuMs);
  await bare.close();
  for (const name of [`bench_base_${process.pid}`, `bench_base_${process.pid}_inbox`]) {
    const c = await mongoose.createConnection(dbUri(name)).asPromise();
    await c.dropDatabase();
    await c.close();
  }
  clearInterval(sampler);

  report('Taawun, as fast as it goes', full);
  report(`Taawun, paced at ${RATE} msg/s`, paced);
  report('Taawun, WhatsApp, fastest', whatsapp);
  report('baseline (no bot), fastest', bareRun);
  const ratio = full.messages / full.seconds / (bareRun.messages / bareRun.seconds);
  console.log(`\norders placed: ${placed} of ${3 * CUSTOMERS}`);
  console.log(`peak RSS (bot runs): ${(botPeak / 2 ** 20).toFixed(0)} MiB`);
  console.log(`throughput vs baseline: ${(ratio * 100).toFixed(0)}% (target ≥ 50%)`);
  console.log(`at ${RATE} msg/s: ack p99 ${quantile(paced.ack, 0.99).toFixed(1)} ms (target < 50), webhook-to-reply p99 ${quantile(paced.reply, 0.99).toFixed(1)} ms (target < 150)`);
  await customers.stop();
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
