import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startServer, type RunningServer } from '../../src/server';
import { freshDatabaseUri } from './database';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** Starts a whole Taawun on a free port against the given (or a fresh) database; logs are silent. */
export async function startTestServer(overrides: Partial<Config> & { label?: string; logLines?: string[] } = {}): Promise<RunningServer> {
  const { label = 'server', logLines, ...rest } = overrides;
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    mongodbUri: freshDatabaseUri(label),
    adminToken: ADMIN_TOKEN,
    logLevel: logLines ? 'info' : 'silent',
    ...rest,
  };
  const destination = logLines ? { write: (line: string) => void logLines.push(line) } : undefined;
  return startServer(config, createLogger(config.logLevel, 'json', destination));
}

/** GET or POST against the admin API with the test token. */
export async function adminGet(server: RunningServer, path: string, token: string | null = ADMIN_TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}
