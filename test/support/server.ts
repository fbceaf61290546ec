import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import type { WebClient } from '../../src/channels/whatsapp-web/whatsapp-web-client';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { freshDatabaseUri } from './database';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const ADMIN_PASSWORD = 'test-console-password';

/** Log lines a test server writes, with a way to wait for one (by event, not by sleeping). */
export class LogLines {
  readonly lines: Record<string, unknown>[] = [];
  private readonly waiters: (() => void)[] = [];

  /** Takes one JSON log line. */
  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves with the first line that matches, failing after a few seconds. */
  async waitFor(match: (line: Record<string, unknown>) => boolean, ms = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching log line within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** Starts a whole Taawun on a free port against the given (or a fresh) database; logs are silent. */
export async function startTestServer(
  overrides: Partial<Config> & { label?: string; logLines?: LogLines; whatsappWebClient?: () => Promise<WebClient> } = {},
): Promise<RunningServer> {
  const { label = 'server', logLines, whatsappWebClient, ...rest } = overrides;
  const base = loadConfig({});
  const config: Config = {
    ...base,
    // Voice notes are kept apart per server (their transcripts are cached by event id), and not heard unless a test asks.
    voice: { ...base.voice, transcriber: 'off', dir: fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-voice-')) },
    port: 0,
    host: '127.0.0.1',
    mongodbUri: freshDatabaseUri(label),
    adminToken: ADMIN_TOKEN,
    adminPassword: ADMIN_PASSWORD,
    logLevel: logLines ? 'info' : 'silent',
    ...rest,
  };
  const destination = logLines ? { write: (line: string) => logLines.write(line) } : undefined;
  return startServer(config, createLogger(config.logLevel, 'json', destination), { whatsappWebClient });
}

/**
 * Stops a test server, then drops its database from a fresh connection. In that order:
 * FerretDB's SQLite engine can crash (SIGBUS in its WAL) when a database is dropped while
 * the server still reads it.
 */
export async function stopAndDrop(server: RunningServer): Promise<void> {
  await server.stop();
  const connection = await mongoose.createConnection(server.databaseUri).asPromise();
  await connection.dropDatabase();
  await connection.close();
}

/** GET or POST against the admin API with the test token. */
export async function adminGet(server: RunningServer, path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

/** Waits until `check` holds (polling every 20 ms), or fails after `ms` saying what it waited for. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
