import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { SourceMap, type Diagnostic } from './diagnostics';
import { flowSchema, stepSchemaFor, type Flow, type Step } from './flow-schema';
import { didYouMean } from './suggest';

/** The flow files of a folder, parsed and checked against the schema (not yet against each other). */
export interface ParsedFlows {
  flows: Flow[];
  sources: Map<Flow, SourceMap>;
  diagnostics: Diagnostic[];
}

const TEXT_FIELDS = new Set(['say', 'prompt', 'retry', 'title', 'label']);

/** Reads every `*.yml` / `*.yaml` flow file directly in `dir` (tests and the catalog are not flows). */
export function readFlowFiles(dir: string, displayRoot = process.cwd()): ParsedFlows {
  const result: ParsedFlows = { flows: [], sources: new Map(), diagnostics: [] };
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !/^catalog\.ya?ml$/.test(f))
    .sort();
  for (const name of files) {
    const full = path.join(dir, name);
    const display = path.relative(displayRoot, full) || full;
    const parsed = parseFlowSource(display, fs.readFileSync(full, 'utf8'));
    result.diagnostics.push(...parsed.diagnostics);
    if (parsed.flow) {
      result.flows.push(parsed.flow);
      result.sources.set(parsed.flow, parsed.map);
    }
  }
  return result;
}

/** Parses one flow file's text; the flow is absent when its shape is wrong. */
export function parseFlowSource(file: string, text: string): { flow?: Flow; map: SourceMap; diagnostics: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(file, doc, lines);
  const diagnostics: Diagnostic[] = doc.errors.map((e) => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { severity: 'error' as const, file, line, column: col, message: `YAML: ${e.message.split('\n')[0]}` };
  });
  if (diagnostics.length > 0) return { map, diagnostics };

  const raw = doc.toJS() as unknown;
  const top = flowSchema.safeParse(raw);
  if (!top.success) {
    diagnostics.push(...describeIssues(map, [], top.error.issues));
    return { map, diagnostics };
  }

  const steps: Step[] = [];
  top.data.steps.forEach((rawStep, index) => {
    const chosen = stepSchemaFor(rawStep);
    if ('error' in chosen) {
      diagnostics.push(map.at(['steps', index], chosen.error));
      return;
    }
    const parsed = chosen.schema.safeParse(rawStep);
    if (!parsed.success) {
      diagnostics.push(...describeIssues(map, ['steps', index], parsed.error.issues, chosen.kind));
      return;
    }
    const data = (parsed.data === 'end' ? {} : parsed.data) as { id?: string };
    steps.push({ ...data, kind: chosen.kind, id: data.id ?? `step${index + 1}` } as Step);
  });
  if (diagnostics.length > 0) return { map, diagnostics };

  const t = top.data.triggers ?? {};
  const body = {
    id: top.data.id,
    description: top.data.description,
    ...(top.data.interrupt ? { interrupt: true } : {}),
    triggers: { intents: t.intents ?? [], keywords: t.keywords ?? {}, payloads: t.payloads ?? [] },
    steps,
  };
  const version = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 10);
  return { flow: { ...body, file, version }, map, diagnostics };
}

const KNOWN_FIELDS: Record<string, string[]> = {
  flow: ['id', 'description', 'triggers', 'steps'],
  triggers: ['intents', 'keywords', 'payloads'],
  say: ['id', 'say', 'buttons'],
  ask: ['id', 'ask', 'prompt', 'var', 'retry', 'max_retries', 'on_fail', 'min', 'max', 'max_length', 'choices'],
  set: ['id', 'set'],
  branch: ['id', 'branch'],
  goto: ['id', 'goto'],
  do: ['id', 'do', 'with', 'var'],
  end: ['id', 'end'],
};

function describeIssues(map: SourceMap, prefix: (string | number)[], issues: z.core.$ZodIssue[], kind?: string): Diagnostic[] {
  return issues.map((issue) => {
    const where = [...prefix, ...(issue.path as (string | number)[])];
    const field = where.filter((s) => typeof s === 'string').pop();
    if (map.doc.getIn(where) === undefined && !map.doc.hasIn(where) && issue.code !== 'unrecognized_keys') {
      return map.at(where.slice(0, -1), `"${String(where[where.length - 1])}" is missing`);
    }
    if (issue.code === 'unrecognized_keys') {
      const known = KNOWN_FIELDS[where.length === 0 ? 'flow' : field === 'triggers' ? 'triggers' : (kind ?? '')] ?? [];
      const key = issue.keys[0]!;
      return map.at([...where, key], `unknown field "${key}"${didYouMean(key, known)}`, 'error', { key: true });
    }
    if (issue.code === 'invalid_union' && field && TEXT_FIELDS.has(field)) {
      return map.at(where, `"${field}" must be a locale key such as "order.ask_qty", or the text per language: { fr: "…", ar: "…", ary: "…", en: "…" }`);
    }
    const name = where.length > prefix.length ? `"${where.slice(prefix.length).join('.')}" ` : '';
    return map.at(where, `${name}${issue.message.replace(/^Invalid input: /, '')}`);
  });
}
