import fs from 'node:fs';
import path from 'node:path';
import { Catalog, CatalogError } from '../catalog/catalog';
import { LANGUAGES, type Language } from '../config';
import { Locales } from '../i18n/locales';
import { containsPhrase, normalizeText } from '../nlu/normalize';
import { BUILTIN_TRAINING_DIR, readTrainingExamples } from '../nlu/training-data';
import { Understanding } from '../nlu/understand';
import type { ActionRegistry } from './actions';
import type { Diagnostic } from './diagnostics';
import type { Flow } from './flow-schema';
import { readFlowFiles } from './load-flows';
import { validateFlows } from './validate-flows';

/** Where a cooperative's configuration lives. */
export interface FlowPaths {
  flowsDir: string;
  localesDir: string;
  catalogFile: string;
}

/** Why a message starts a flow. */
export interface TriggerMatch {
  flow: Flow;
  by: 'payload' | 'intent' | 'keyword';
  /** The language of the keyword that matched, when a keyword did. */
  lang?: Language;
}

/** A valid set of flows with their texts and catalog, and the lookups that find which flow a message starts. */
export class FlowLibrary {
  readonly flows: Map<string, Flow>;
  private readonly keywords: { phrase: string; lang: Language; flow: Flow }[];

  constructor(
    flows: Flow[],
    readonly locales: Locales,
    readonly catalog: Catalog,
    readonly understanding: Understanding,
  ) {
    this.flows = new Map(flows.map((f) => [f.id, f]));
    // Longest phrase first, so "salam 3likom" wins over "salam".
    this.keywords = flows
      .flatMap((flow) => LANGUAGES.flatMap((lang) => (flow.triggers.keywords[lang] ?? []).map((word) => ({ phrase: normalizeText(word), lang, flow }))))
      .sort((a, b) => b.phrase.length - a.phrase.length);
  }

  /**
   * The flow a message starts: a button payload first, then an admin's keyword (an explicit
   * rule beats a statistical guess; `preferred` language when a word is in several), then
   * the understood intent.
   */
  match(message: { text?: string; payload?: string; intent?: string | null }, preferred?: Language): TriggerMatch | undefined {
    if (message.payload) {
      // "ORDER:amlou" starts the flow of ORDER, about amlou.
      const base = message.payload.split(':')[0]!;
      for (const flow of this.flows.values()) if (flow.triggers.payloads.includes(message.payload) || flow.triggers.payloads.includes(base)) return { flow, by: 'payload' };
    }
    const said = normalizeText(message.text ?? '');
    const first = said ? this.keywords.find((k) => containsPhrase(said, k.phrase)) : undefined;
    if (first) {
      const same = this.keywords.filter((k) => k.phrase === first.phrase && k.flow === first.flow);
      const hit = same.find((k) => k.lang === preferred) ?? first;
      return { flow: hit.flow, by: 'keyword', lang: hit.lang };
    }
    if (message.intent) {
      for (const flow of this.flows.values()) if (flow.triggers.intents.includes(message.intent)) return { flow, by: 'intent' };
    }
    return undefined;
  }

  /** The command (menu, cancel, human) the whole message is, and its language: `preferred` when the word is in several. */
  command(text: string | undefined, preferred?: Language): { command: 'menu' | 'cancel' | 'human'; lang: Language } | undefined {
    const said = normalizeText(text ?? '');
    if (!said) return undefined;
    for (const command of ['menu', 'cancel', 'human'] as const) {
      const langs = LANGUAGES.filter((lang) => this.locales.list(lang, `commands.${command}`).some((w) => normalizeText(w) === said));
      if (langs.length > 0) return { command, lang: preferred && langs.includes(preferred) ? preferred : langs[0]! };
    }
    return undefined;
  }
}

/** Loads and validates everything; the library is absent when any error was found. */
export function loadFlowLibrary(paths: FlowPaths, actions: ActionRegistry, displayRoot?: string): { library?: FlowLibrary; diagnostics: Diagnostic[] } {
  // Positions read "flows/order.yml:14:11", relative to the folder that holds flows/.
  const root = displayRoot ?? path.dirname(paths.flowsDir);
  const display = (p: string) => path.relative(root, p) || p;
  let locales: Locales;
  let catalog: Catalog;
  try {
    locales = Locales.load(paths.localesDir);
  } catch (err) {
    return { diagnostics: [{ severity: 'error', file: display(paths.localesDir), line: 1, column: 1, message: (err as Error).message }] };
  }
  try {
    catalog = Catalog.load(paths.catalogFile, display(paths.catalogFile));
  } catch (err) {
    if (err instanceof CatalogError) return { diagnostics: err.diagnostics };
    return { diagnostics: [{ severity: 'error', file: display(paths.catalogFile), line: 1, column: 1, message: (err as Error).message }] };
  }
  let understanding: Understanding;
  try {
    understanding = Understanding.build(catalog, readTrainingExamples([BUILTIN_TRAINING_DIR, path.join(paths.flowsDir, 'training')]));
  } catch (err) {
    return { diagnostics: [{ severity: 'error', file: display(path.join(paths.flowsDir, 'training')), line: 1, column: 1, message: (err as Error).message }] };
  }
  if (!fs.existsSync(paths.flowsDir)) {
    return { diagnostics: [{ severity: 'error', file: display(paths.flowsDir), line: 1, column: 1, message: 'no such folder' }] };
  }
  const parsed = readFlowFiles(paths.flowsDir, root);
  const diagnostics = [...parsed.diagnostics, ...validateFlows(parsed, locales, actions)];
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  return { library: new FlowLibrary(parsed.flows, locales, catalog, understanding), diagnostics };
}
