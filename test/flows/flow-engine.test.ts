import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { customerModel } from '../../src/db/models/customer';
import { unansweredModel } from '../../src/db/models/unanswered';
import { projectRoot } from '../../src/paths';
import type { RunningServer } from '../../src/server';
import { httpChat } from '../support/http-chat';
import { LogLines, startTestServer, stopAndDrop } from '../support/server';

const CONSTRUCTS = `
id: constructs
triggers:
  keywords:
    fr: [essai]
steps:
  - set:
      customer.name: "Testeur"
      greeting: "salut"
  - say: { fr: "{{vars.greeting}} {{customer.name}}" }
  - id: pick
    ask: choice
    prompt: { fr: "Choisis" }
    choices:
      - { value: a, label: { fr: "Alpha" } }
      - { value: b, label: { fr: "Beta" } }
    var: pick
    on_fail: end
  - id: qty
    ask: number
    min: 1
    max: 5
    prompt: { fr: "Combien ?" }
    retry: { fr: "Entre 1 et 5 !" }
    max_retries: 1
    var: qty
    on_fail: failed
  - branch:
      - if: vars.qty >= 3
        goto: many
      - else: few
  - id: few
    say: { fr: "Peu : {{vars.qty}} {{vars.pick}}" }
  - goto: done
  - id: many
    say: { fr: "Beaucoup : {{vars.qty}}" }
  - id: done
    do: handoff
    with:
      reason: "test {{vars.qty}}"
    var: handed
  - say: { fr: "Fini ({{vars.handed}})" }
  - end
  - id: failed
    say: { fr: "Tant pis" }
`;

/** A private copy of the shipped flows and locales, plus the constructs flow, that a test may edit. */
function workspace(): { root: string; flowsDir: string; localesDir: string; edit(file: string, change: (text: string) => string): void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-engine-'));
  fs.cpSync(path.join(projectRoot, 'flows'), path.join(root, 'flows'), { recursive: true });
  fs.cpSync(path.join(projectRoot, 'locales'), path.join(root, 'locales'), { recursive: true });
  fs.writeFileSync(path.join(root, 'flows', 'constructs.yml'), CONSTRUCTS);
  return {
    root,
    flowsDir: path.join(root, 'flows'),
    localesDir: path.join(root, 'locales'),
    edit: (file, change) => fs.writeFileSync(path.join(root, file), change(fs.readFileSync(path.join(root, file), 'utf8'))),
  };
}

describe('flow engine (real database)', () => {
  let ws: ReturnType<typeof workspace>;
  let server: RunningServer;
  let logs: LogLines;

  beforeEach(async () => {
    ws = workspace();
    logs = new LogLines();
    server = await startTestServer({ label: 'engine', flowsDir: ws.flowsDir, localesDir: ws.localesDir, logLines: logs });
  });
  afterEach(async () => {
    await stopAndDrop(server);
    fs.rmSync(ws.root, { recursive: true, force: true });
  });

  it('runs every construct: set, templates, choice, number with retry, branch, goto, do with its result, end', async () => {
    const c = await httpChat(server);
    const start = await c.say('essai');
    expect(start.map((r) => r.text)).toEqual(['salut Testeur', 'Choisis']);
    expect(start[1]!.quick_replies).toEqual([
      { title: 'Alpha', payload: 'a' },
      { title: 'Beta', payload: 'b' },
    ]);
    expect(await c.texts('beta')).toEqual(['Combien ?']);
    expect(await c.texts('9')).toEqual(['Entre 1 et 5 !']);
    expect(await c.texts('2')).toEqual(['Peu : 2 b', 'Fini (true)']);
    const customer = await customerModel(server.connection).findOne({ externalId: c.user }).lean();
    expect(customer).toMatchObject({ name: 'Testeur', tags: ['needs_human'], handoff: { reason: 'test 2' } });
    // The handoff paused the bot: a message now gets no answer, until a person gives the conversation back.
    expect(await c.texts('essai')).toEqual([]);
    await customerModel(server.connection).updateOne({ _id: customer!._id }, { $unset: { handoff: 1 } });
    // The flow ended: the next message is a new start.
    expect(await c.texts('essai')).toEqual(['salut Testeur', 'Choisis']);
    expect(await c.texts('x', 'a')).toEqual(['Combien ?']);
    expect(await c.texts('4')).toEqual(['Beaucoup : 4', 'Fini (true)']);
  });

  it('takes the way out after the retries are used up', async () => {
    const c = await httpChat(server);
    await c.say('essai');
    await c.say('1');
    expect(await c.texts('zéro')).toEqual(['Entre 1 et 5 !']);
    expect(await c.texts('vingt')).toEqual(['Tant pis']);
  });

  it('records what no flow understood, and shows the menu', async () => {
    const c = await httpChat(server);
    const replies = await c.say('xyzzy plugh');
    expect(replies.map((r) => r.text)).toEqual([expect.stringMatching(/^Je n'ai pas compris/), 'Que puis-je faire pour vous ?']);
    expect(replies[1]!.quick_replies?.map((q) => q.payload)).toEqual(['PRODUCTS', 'ORDER', 'RATE', 'HUMAN']);
    expect(await unansweredModel(server.connection).find({}, { _id: 0, text: 1, language: 1, answered: 1 }).lean()).toEqual([{ text: 'xyzzy plugh', language: 'fr', answered: false }]);
  });

  it('applies a valid edit within two seconds, without a restart', async () => {
    const c = await httpChat(server);
    expect((await c.texts('menu'))[0]).toBe('Que puis-je faire pour vous ?');
    ws.edit('locales/fr.yml', (t) => t.replace('text: "Que puis-je faire pour vous ?"', 'text: "Voici le menu du jour :"'));
    await logs.waitFor((l) => String(l.msg).startsWith('flows reloaded'), 2000);
    expect((await c.texts('menu'))[0]).toBe('Voici le menu du jour :');
  });

  it('keeps the last good version live when an edit is invalid, and logs the error with its position', async () => {
    ws.edit('flows/menu.yml', (t) => t.replace('- say: menu.text', '- say: menu.txt'));
    const failure = await logs.waitFor((l) => l.msg === 'flows not reloaded: the last good version stays live', 2000);
    expect(failure.errors).toEqual([
      'flows/menu.yml:7:10 unknown locale key "menu.txt" (did you mean "menu.text"?); add it to locales/fr.yml, or write the text inline: { fr: "…", ar: "…" }',
    ]);
    const c = await httpChat(server);
    expect((await c.texts('menu'))[0]).toBe('Que puis-je faire pour vous ?');
  });

  it('lets a customer in the middle of a flow finish the version they started, while new customers get the new one', async () => {
    const early = await httpChat(server);
    expect(await early.texts('essai')).toEqual(['salut Testeur', 'Choisis']);
    ws.edit('flows/constructs.yml', (t) => t.replace('prompt: { fr: "Combien ?" }', 'prompt: { fr: "Quelle quantité ?" }'));
    await logs.waitFor((l) => String(l.msg).startsWith('flows reloaded'), 2000);
    expect(await early.texts('alpha')).toEqual(['Combien ?']);
    const late = await httpChat(server);
    await late.say('essai');
    expect(await late.texts('alpha')).toEqual(['Quelle quantité ?']);
  });

  it('resumes a flow at the same step after a restart, in the version the customer started', async () => {
    const c = await httpChat(server);
    await c.say('essai');
    expect(await c.texts('alpha')).toEqual(['Combien ?']);
    await server.stop();
    ws.edit('flows/constructs.yml', (t) => t.replace('say: { fr: "Peu : {{vars.qty}} {{vars.pick}}" }', 'say: { fr: "Un peu : {{vars.qty}}" }'));
    logs = new LogLines();
    server = await startTestServer({ mongodbUri: server.databaseUri, flowsDir: ws.flowsDir, localesDir: ws.localesDir, logLines: logs });
    const again = await httpChat(server, c.token);
    expect(await again.texts('2')).toEqual(['Peu : 2 a', 'Fini (true)']);
    expect(logs.lines.some((l) => l.msg === 'restored an older flow version for a customer in the middle of it')).toBe(true);
    // A person gives the conversation back after the handoff that ended the flow.
    await customerModel(server.connection).updateMany({}, { $unset: { handoff: 1 } });
    expect(await again.texts('essai')).toHaveLength(2);
    await again.say('b');
    expect(await again.texts('1')).toEqual(['Un peu : 1', 'Fini (true)']);
  });
});
