import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateCommand } from '../../src/cli/flows-validate';
import { flowsTestCommand } from '../../src/cli/flows-test';
import { projectRoot } from '../../src/paths';
import { freshDatabaseUri } from '../support/database';

describe('npm run cli -- flows …', () => {
  const saved = process.env.MONGODB_URI;
  beforeAll(() => {
    // The commands read MONGODB_URI like the server; point them at the suite's engine.
    process.env.MONGODB_URI = freshDatabaseUri('cli');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.MONGODB_URI;
    else process.env.MONGODB_URI = saved;
  });

  it('validate: one line per valid flow and exit 0 for the shipped flows', () => {
    const lines: string[] = [];
    expect(validateCommand(projectRoot, undefined, (l) => lines.push(l))).toBe(0);
    const flowFiles = fs.readdirSync(path.join(projectRoot, 'flows')).filter((f) => f.endsWith('.yml') && f !== 'catalog.yml');
    expect(lines.filter((l) => l.startsWith('ok  '))).toHaveLength(flowFiles.length);
    expect(lines[lines.length - 1]).toBe(`${flowFiles.length} flows valid`);
  });

  it('validate: every error and exit 1 for a broken folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-cli-'));
    fs.cpSync(path.join(projectRoot, 'flows'), path.join(dir, 'flows'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'flows', 'menu.yml'), 'id: menu\ntriggers:\n  payloads: [MENU]\nsteps:\n  - goto: nowhere\n  - say: menu.txt\n');
    const lines: string[] = [];
    expect(validateCommand(projectRoot, path.join(dir, 'flows'), (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual([
      'flows/menu.yml:5:11 unknown step "nowhere"',
      'flows/menu.yml:6:10 unknown locale key "menu.txt" (did you mean "menu.text"?); add it to locales/fr.yml, or write the text inline: { fr: "…", ar: "…" }',
      '2 errors, 0 warnings: the flows were not loaded',
    ]);
  });

  it('test: plays the shipped test conversations and passes them all', async () => {
    const lines: string[] = [];
    expect(await flowsTestCommand(projectRoot, undefined, (l) => lines.push(l))).toBe(0);
    expect(lines.filter((l) => l.startsWith('PASS'))).toHaveLength(fs.readdirSync(path.join(projectRoot, 'flows', 'tests')).length);
    expect(lines[lines.length - 1]).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('test: reports a conversation that goes otherwise, with its line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-cli-'));
    fs.cpSync(path.join(projectRoot, 'flows'), path.join(dir, 'flows'), { recursive: true });
    fs.rmSync(path.join(dir, 'flows', 'tests'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'flows', 'tests'));
    fs.writeFileSync(path.join(dir, 'flows', 'tests', 'wrong.yml'), 'name: expects the wrong words\nconversation:\n  - user: hello\n  - bot: "Good morning!"\n');
    const lines: string[] = [];
    expect(await flowsTestCommand(projectRoot, path.join(dir, 'flows'), (l) => lines.push(l))).toBe(1);
    expect(lines).toContain('  ' + path.relative(process.cwd(), path.join(dir, 'flows', 'tests', 'wrong.yml')) + ':4 expected the bot to say "Good morning!"\n    but it said "Hello and welcome! I am the cooperative\'s assistant."');
    expect(lines[lines.length - 1]).toBe('0 passed, 1 failed');
  });
});

describe('npm run cli -- chat', () => {
  it('chats in the terminal on the real flows, buttons numbered', async () => {
    const child = spawn(process.execPath, [path.join(projectRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(projectRoot, 'src', 'cli.ts'), 'chat', '--lang', 'en', '--as', `t${Date.now()}`], {
      env: { ...process.env, MONGODB_URI: freshDatabaseUri('chat'), DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-chat-')) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const waitFor = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${out}`)), 20_000);
        const check = () => {
          if (out.includes(text)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          check();
        });
        check();
      });
    await waitFor('you> ');
    child.stdin.write('hello\n');
    await waitFor('bot> What is your name?');
    child.stdin.write('Zineb\n');
    await waitFor('[2] Order');
    child.stdin.write('2\n');
    await waitFor('bot> Which product would you like to order?');
    child.stdin.end('/quit\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });
});
