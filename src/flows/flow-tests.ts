import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { SourceMap, type Diagnostic } from './diagnostics';

/**
 * Test conversations admins write beside their flows (flows/tests/*.yml): what the
 * customer says or taps, and what the bot must answer, exactly or as /a pattern/.
 */
const turnSchema = z.union([
  z.object({ user: z.string().min(1) }).strict(),
  z.object({ tap: z.string().min(1) }).strict(),
  z.object({ bot: z.string().min(1), buttons: z.array(z.string()).optional() }).strict(),
]);
const fileSchema = z.object({ name: z.string().min(1), conversation: z.array(z.unknown()).min(1) }).strict();

export type Turn = z.infer<typeof turnSchema> & { line: number };
export interface FlowTest {
  file: string;
  name: string;
  turns: Turn[];
}

/** One bot message as the test sees it. */
export interface Reply {
  text: string;
  quick_replies?: { title: string; payload: string }[];
}

/** Reads every test file of a folder; problems come back as diagnostics with positions. */
export function readFlowTests(dir: string, displayRoot = process.cwd()): { tests: FlowTest[]; diagnostics: Diagnostic[] } {
  const tests: FlowTest[] = [];
  const diagnostics: Diagnostic[] = [];
  if (!fs.existsSync(dir)) return { tests, diagnostics };
  for (const name of fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = path.relative(displayRoot, path.join(dir, name)) || name;
    const lines = new LineCounter();
    const doc = parseDocument(fs.readFileSync(path.join(dir, name), 'utf8'), { lineCounter: lines });
    const map = new SourceMap(file, doc, lines);
    if (doc.errors.length > 0) {
      const { line, col } = lines.linePos(doc.errors[0]!.pos[0]);
      diagnostics.push({ severity: 'error', file, line, column: col, message: `YAML: ${doc.errors[0]!.message.split('\n')[0]} (quote a text or /pattern/ that holds ": ")` });
      continue;
    }
    const top = fileSchema.safeParse(doc.toJS());
    if (!top.success) {
      diagnostics.push(map.at(top.error.issues[0]!.path as (string | number)[], `${top.error.issues[0]!.path.join('.')} ${top.error.issues[0]!.message}`));
      continue;
    }
    const turns: Turn[] = [];
    top.data.conversation.forEach((raw, i) => {
      const parsed = turnSchema.safeParse(raw);
      if (parsed.success) turns.push({ ...parsed.data, line: map.position(['conversation', i]).line });
      else diagnostics.push(map.at(['conversation', i], 'each line is { user: … }, { tap: PAYLOAD } or { bot: "text" or /pattern/, buttons: [PAYLOAD, …] }'));
    });
    tests.push({ file, name: top.data.name, turns });
  }
  return { tests, diagnostics };
}

/** Plays a test conversation through `send`, which returns the bot's replies to one message; returns the failures. */
export async function runFlowTest(test: FlowTest, send: (text: string, payload?: string) => Promise<Reply[]>): Promise<string[]> {
  let pending: Reply[] = [];
  let last: Reply | undefined;
  for (const turn of test.turns) {
    const where = `${test.file}:${turn.line}`;
    if ('user' in turn) {
      pending = await send(turn.user);
    } else if ('tap' in turn) {
      const button = [...(last ? [last] : []), ...pending].flatMap((r) => r.quick_replies ?? []).find((b) => b.payload === turn.tap);
      if (!button) return [`${where} no button with payload ${turn.tap} to tap; the bot offered ${describeButtons(last)}`];
      pending = await send(button.title, button.payload);
    } else {
      const reply = pending.shift();
      if (!reply) return [`${where} expected the bot to say ${JSON.stringify(turn.bot)}, but it said nothing more`];
      last = reply;
      if (!matches(reply.text, turn.bot)) return [`${where} expected the bot to say ${JSON.stringify(turn.bot)}\n    but it said ${JSON.stringify(reply.text)}`];
      if (turn.buttons) {
        const payloads = (reply.quick_replies ?? []).map((b) => b.payload);
        if (JSON.stringify(payloads) !== JSON.stringify(turn.buttons)) return [`${where} expected buttons [${turn.buttons.join(', ')}], got ${describeButtons(reply)}`];
      }
    }
  }
  return [];
}

function matches(text: string, expected: string): boolean {
  const pattern = /^\/(.*)\/([imsu]*)$/s.exec(expected);
  return pattern ? new RegExp(pattern[1]!, pattern[2]).test(text) : text === expected;
}

function describeButtons(reply: Reply | undefined): string {
  const payloads = (reply?.quick_replies ?? []).map((b) => b.payload);
  return payloads.length ? `[${payloads.join(', ')}]` : 'no buttons';
}
