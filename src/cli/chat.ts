import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { LANGUAGES, loadConfig, type Language } from '../config';
import { createLogger } from '../logger';
import { startServer } from '../server';
import { webhookCustomer } from './webhook-client';

/**
 * `chat [--lang fr] [--as NAME]`: a terminal chat on the real flows and database, as a
 * web chat customer the admin can come back as (the identity is kept in DATA_DIR).
 * Buttons are numbered: typing the number taps one. Flow edits apply as you chat.
 */
export async function chatCommand(_root: string, args: string[]): Promise<number> {
  const lang = option(args, '--lang');
  if (lang && !(LANGUAGES as readonly string[]).includes(lang)) {
    console.error(`--lang must be one of ${LANGUAGES.join(', ')}, got "${lang}"`);
    return 2;
  }
  const who = option(args, '--as') ?? 'admin';
  const config = loadConfig();
  const server = await startServer(
    { ...config, port: 0, host: '127.0.0.1', adminToken: undefined, defaultLanguage: (lang as Language | undefined) ?? config.defaultLanguage, logLevel: 'warn' },
    createLogger('warn', 'pretty'),
    { shareDatabase: true },
  );
  const tokenFile = path.join(config.dataDir, `cli-chat-${who.replace(/\W/g, '_')}.token`);
  const stored = fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : undefined;
  const session = await webhookCustomer(server.url, stored);
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(tokenFile, session.token);

  console.log(`Chatting as "${who}" (web customer ${session.user}) on ${server.databaseUri.replace(/\/\/[^@]*@/, '//')}. Ctrl-D or /quit to leave.`);
  let buttons: { title: string; payload: string }[] = [];
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit') break;
    if (text) {
      const tapped = /^\d+$/.test(text) ? buttons[Number(text) - 1] : undefined;
      const replies = await session.say(tapped?.title ?? text, tapped?.payload).catch((err: Error) => {
        console.log(`  (${err.message})`);
        return [];
      });
      for (const reply of replies) {
        console.log(`bot> ${reply.text}`);
        if (reply.quick_replies?.length) {
          buttons = reply.quick_replies;
          console.log(buttons.map((b, i) => `     [${i + 1}] ${b.title}`).join('\n'));
        }
      }
    }
    rl.prompt();
  }
  rl.close();
  await server.stop();
  return 0;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
