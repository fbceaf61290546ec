import { LANGUAGES } from '../config';
import type { Locales } from '../i18n/locales';
import { INTENTS } from '../nlu/intents';
import { normalizeText } from '../nlu/normalize';
import type { ActionRegistry } from './actions';
import { conditionPaths, parseCondition } from './conditions';
import { formatDiagnostic, type Diagnostic, type SourceMap } from './diagnostics';
import type { Flow, Step, TextRef } from './flow-schema';
import type { ParsedFlows } from './load-flows';
import { didYouMean } from './suggest';
import { templatePaths } from './texts';

/** Flows the engine itself starts: the menu command and the fallback show `menu`; the human command starts `human`. */
export const REQUIRED_FLOWS = ['menu', 'human'] as const;
export const CUSTOMER_FIELDS = ['name', 'phone', 'city', 'address', 'language'] as const;
const PRODUCT_FIELDS = ['id', 'name', 'price', 'currency', 'unit', 'description', 'stock'];
// Set by the engine when a flow starts: the reply language, and what understanding found.
// Set by the engine: the reply language, what understanding found, the order limit; `suggestions` after an unknown
// product; `occasion`, `order` and `request` when the server starts the flow for a rating request;
// `flow_response`, a WhatsApp Flow's answers (nfm_reply), when they started it or came while it waited;
// `incoming_cart`, a WhatsApp cart that started it, and `previous_cart`, the cart of the order it interrupted;
// `location`, the coordinates of a location shared to an `ask: text` with `location: true`.
const BUILTIN_VARS = ['lang', 'intent', 'product', 'max_quantity', 'suggestions', 'occasion', 'order', 'request', 'flow_response', 'incoming_cart', 'previous_cart', 'location'];

/** Checks flows against each other, the locales and the actions; returns every problem found. */
export function validateFlows(parsed: ParsedFlows, locales: Locales, actions: ActionRegistry): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, Flow>();
  for (const flow of parsed.flows) {
    const map = parsed.sources.get(flow)!;
    const first = seen.get(flow.id);
    if (first) out.push(map.at(['id'], `flow id "${flow.id}" is also used by ${first.file}; flow ids must be unique`));
    else seen.set(flow.id, flow);
    out.push(...validateFlow(flow, map, locales, actions));
  }
  // Checks across files would only echo a broken file's absence.
  if (parsed.diagnostics.length > 0) return out;
  out.push(...triggerConflicts(parsed));
  out.push(...buttonTargets(parsed));
  if (parsed.flows.length > 0) {
    for (const id of REQUIRED_FLOWS) {
      if (!seen.has(id)) {
        const anyFile = parsed.flows[0]!.file.replace(/[^/]+$/, '');
        out.push({ severity: 'error', file: `${anyFile}${id}.yml`, line: 1, column: 1, message: `no flow has id "${id}": the ${id === 'menu' ? 'menu command and the fallback show it' : '"talk to a person" command starts it'}` });
      }
    }
  }
  return out;
}

function validateFlow(flow: Flow, map: SourceMap, locales: Locales, actions: ActionRegistry): Diagnostic[] {
  const out: Diagnostic[] = [];
  const ids = new Map<string, number>();
  flow.steps.forEach((step, i) => {
    if (ids.has(step.id)) out.push(map.at(['steps', i, 'id'], `duplicate step id "${step.id}" (also step ${ids.get(step.id)! + 1})`));
    else ids.set(step.id, i);
  });
  const stepIds = [...ids.keys()];
  const defined = new Set<string>(BUILTIN_VARS);
  const productVars = new Set<string>(['product']);
  for (const step of flow.steps) {
    if (step.kind === 'ask' || (step.kind === 'do' && step.var)) defined.add(step.var!);
    if (step.kind === 'do') for (const name of actions.get(step.do)?.sets ?? []) defined.add(name);
    if (step.kind === 'ask' && step.ask === 'product') productVars.add(step.var);
    if (step.kind === 'set') for (const k of Object.keys(step.set)) if (!k.startsWith('customer.')) defined.add(k.replace(/^vars\./, ''));
  }

  let unknownTargets = 0;
  const target = (path: (string | number)[], to: string) => {
    if (to === 'end' || ids.has(to)) return;
    unknownTargets += 1;
    out.push(map.at(path, `unknown step "${to}"${didYouMean(to, [...stepIds, 'end'])}`));
  };
  const checkPaths = (path: (string | number)[], paths: string[][]) => {
    for (const p of paths) {
      const [root, name, field] = p;
      if (root === 'customer') {
        if (!name || !(CUSTOMER_FIELDS as readonly string[]).includes(name))
          out.push(map.at(path, `unknown customer field "${p.join('.')}"${didYouMean(name ?? '', CUSTOMER_FIELDS.map((f) => f))}; use ${CUSTOMER_FIELDS.map((f) => `customer.${f}`).join(', ')}`));
      } else if (root === 'vars') {
        if (!name || !defined.has(name)) out.push(map.at(path, `unknown variable "${p.join('.')}"${didYouMean(name ?? '', defined)}: no ask, set or do of this flow sets it`));
        else if (field && productVars.has(name) && !PRODUCT_FIELDS.includes(field))
          out.push(map.at(path, `"${p.join('.')}": a product has ${PRODUCT_FIELDS.join(', ')}${didYouMean(field, PRODUCT_FIELDS)}`));
      } else out.push(map.at(path, `"${p.join('.')}" is not a variable; write vars.<name> or customer.<field>`));
    }
  };
  const text = (path: (string | number)[], ref: TextRef | undefined) => {
    if (ref === undefined) return;
    if (typeof ref === 'string') {
      if (!locales.has('fr', ref)) {
        out.push(map.at(path, `unknown locale key "${ref}"${didYouMean(ref, locales.keys())}; add it to locales/fr.yml, or write the text inline: { fr: "…", ar: "…" }`));
        return;
      }
      for (const lang of LANGUAGES) if (locales.has(lang, ref)) checkTemplate(path, locales.text(lang, ref));
      const missing = LANGUAGES.filter((lang) => !locales.has(lang, ref));
      if (missing.length > 0) out.push(map.at(path, `locale key "${ref}" has no ${missing.join(', ')} text in ${missing.map((l) => `locales/${l}.yml`).join(', ')}; French is used`, 'warning'));
      return;
    }
    if (!ref.fr) out.push(map.at(path, 'inline text needs fr, the language used when another is missing'));
    const missing = LANGUAGES.filter((lang) => lang !== 'fr' && !ref[lang]);
    for (const lang of LANGUAGES) if (ref[lang]) checkTemplate(path, ref[lang]!);
    if (ref.fr && missing.length > 0) out.push(map.at(path, `inline text has no ${missing.join(', ')}; French is used`, 'warning'));
  };
  // Messenger and WhatsApp show at most 20 characters on a button; longer choices arrive as a numbered list.
  const buttonLength = (path: (string | number)[], ref: TextRef) => {
    for (const lang of LANGUAGES) {
      const title = typeof ref === 'string' ? (locales.has(lang, ref) ? locales.text(lang, ref) : undefined) : ref[lang];
      if (title && [...title].length > 20)
        out.push(map.at(path, `button title "${title}" (${lang}) has ${[...title].length} characters; Messenger and WhatsApp show 20, so the choices will come as a numbered list`, 'warning'));
    }
  };
  const checkTemplate = (path: (string | number)[], template: string) => {
    try {
      checkPaths(path, templatePaths(template));
    } catch (err) {
      out.push(map.at(path, `template: ${(err as Error).message}`));
    }
  };

  flow.steps.forEach((step, i) => {
    const at = (...rest: (string | number)[]) => ['steps', i, ...rest];
    switch (step.kind) {
      case 'say':
        text(at('say'), step.say);
        step.buttons?.forEach((b, j) => {
          text(at('buttons', j, 'title'), b.title);
          buttonLength(at('buttons', j, 'title'), b.title);
          checkTemplate(at('buttons', j, 'payload'), b.payload);
        });
        if (Array.isArray(step.products)) {
          step.products.forEach((id, j) => {
            if (id.includes('{{')) checkTemplate(at('products', j), id);
            else if (!/^[a-z0-9-]+$/.test(id)) out.push(map.at(at('products', j), `products: "${id}" is not a product id (lower-case letters, digits and -, as in catalog.yml) nor a template such as "{{vars.product.id}}"`));
          });
        }
        if (step.products && step.buttons) out.push(map.at(at('products'), 'a message shows products or buttons, not both (WhatsApp has no message with both): put the buttons in the next say'));
        break;
      case 'ask':
        text(at('prompt'), step.prompt);
        text(at('retry'), step.retry);
        if (step.on_fail === undefined) out.push(map.at(at('ask'), `ask "${step.id}" has no way out: add on_fail: <step id or end>, where the customer goes after ${step.max_retries ?? 2} answers it cannot use`));
        else target(at('on_fail'), step.on_fail);
        if (step.ask === 'choice' && !step.choices) out.push(map.at(at('ask'), 'a choice needs choices: [{ value: …, label: … }]'));
        if (step.ask !== 'choice' && step.choices) out.push(map.at(at('choices'), `choices are for ask: choice, not ask: ${step.ask}`));
        step.choices?.forEach((c, j) => text(at('choices', j, 'label'), c.label));
        if ((step.min !== undefined || step.max !== undefined) && step.ask !== 'number' && step.ask !== 'quantity')
          out.push(map.at(at('min' in step && step.min !== undefined ? 'min' : 'max'), `min and max are for ask: number or quantity, not ask: ${step.ask}`));
        if (step.in_cart !== undefined && step.ask !== 'product') out.push(map.at(at('in_cart'), `in_cart is for ask: product, not ask: ${step.ask}`));
        if (step.location !== undefined && step.ask !== 'text') out.push(map.at(at('location'), `location is for ask: text (an address), not ask: ${step.ask}`));
        if (step.min !== undefined && step.max !== undefined && step.min > step.max) out.push(map.at(at('min'), `min ${step.min} is above max ${step.max}`));
        break;
      case 'set':
        for (const [key, value] of Object.entries(step.set)) {
          if (key.startsWith('customer.') && !(CUSTOMER_FIELDS as readonly string[]).includes(key.slice(9)))
            out.push(map.at(at('set', key), `cannot set "${key}"; a flow may set ${CUSTOMER_FIELDS.map((f) => `customer.${f}`).join(', ')}`, 'error', { key: true }));
          if (typeof value === 'string') checkTemplate(at('set', key), value);
        }
        break;
      case 'branch':
        step.branch.forEach((b, j) => {
          if ('if' in b) {
            const c = parseCondition(b.if);
            if ('error' in c) out.push(map.at(at('branch', j, 'if'), `condition: ${c.error}`));
            else checkPaths(at('branch', j, 'if'), conditionPaths(c));
            target(at('branch', j, 'goto'), b.goto);
          } else {
            target(at('branch', j, 'else'), b.else);
            if (j !== step.branch.length - 1) out.push(map.at(at('branch', j), 'else must be the last choice of a branch'));
          }
        });
        break;
      case 'goto':
        target(at('goto'), step.goto);
        break;
      case 'do': {
        const action = actions.get(step.do);
        if (!action) {
          out.push(map.at(at('do'), `unknown action "${step.do}"${didYouMean(step.do, actions.names())}; known: ${actions.names().join(', ') || 'none'}`));
          break;
        }
        const params = step.with ?? {};
        for (const [name, value] of Object.entries(params)) {
          if (!action.params[name]) out.push(map.at(at('with', name), `action "${step.do}" has no parameter "${name}"${didYouMean(name, Object.keys(action.params))}`, 'error', { key: true }));
          if (typeof value === 'string') checkTemplate(at('with', name), value);
        }
        for (const [name, spec] of Object.entries(action.params)) {
          if (spec.required && !(name in params)) out.push(map.at(at('do'), `action "${step.do}" needs the parameter "${name}" (${spec.description})`));
        }
        break;
      }
      default:
        break;
    }
  });

  for (const intent of flow.triggers.intents) {
    if (!(INTENTS as readonly string[]).includes(intent)) {
      const i = flow.triggers.intents.indexOf(intent);
      out.push(map.at(['triggers', 'intents', i], `unknown intent "${intent}"${didYouMean(intent, INTENTS)}`));
    }
  }

  // With a broken goto, "never reached" would only repeat that error.
  if (unknownTargets > 0) return out;
  const reachable = reachableSteps(flow.steps, ids);
  flow.steps.forEach((step, i) => {
    if (!reachable.has(step.id)) out.push(map.at(['steps', i], `step "${step.id}" is never reached: no step leads to it`));
  });
  return out;
}

/** The steps reachable from the first one. */
function reachableSteps(steps: Step[], ids: Map<string, number>): Set<string> {
  const seen = new Set<string>();
  const queue = [0];
  while (queue.length > 0) {
    const i = queue.pop()!;
    const step = steps[i];
    if (!step || seen.has(step.id)) continue;
    seen.add(step.id);
    const go = (id: string) => ids.has(id) && queue.push(ids.get(id)!);
    switch (step.kind) {
      case 'goto':
        go(step.goto);
        break;
      case 'branch':
        for (const b of step.branch) go('if' in b ? b.goto : b.else);
        // A branch with no else goes on to the next step when nothing matches.
        if (!step.branch.some((b) => 'else' in b)) queue.push(i + 1);
        break;
      case 'end':
        break;
      case 'ask':
        if (step.on_fail) go(step.on_fail);
        queue.push(i + 1);
        break;
      default:
        queue.push(i + 1);
    }
  }
  return seen;
}

function triggerConflicts(parsed: ParsedFlows): Diagnostic[] {
  const out: Diagnostic[] = [];
  const owners = new Map<string, { flow: Flow; where: string }>();
  const claim = (flow: Flow, key: string, label: string, path: (string | number)[]) => {
    const map = parsed.sources.get(flow)!;
    const owner = owners.get(key);
    const here = map.position(path);
    if (owner && owner.flow !== flow) out.push(map.at(path, `${label} also triggers flow "${owner.flow.id}" (${owner.where}); one trigger starts one flow`));
    else if (!owner) owners.set(key, { flow, where: `${flow.file}:${here.line}:${here.column}` });
  };
  for (const flow of parsed.flows) {
    flow.triggers.intents.forEach((intent, i) => claim(flow, `intent:${intent}`, `intent "${intent}"`, ['triggers', 'intents', i]));
    flow.triggers.payloads.forEach((p, i) => claim(flow, `payload:${p}`, `payload "${p}"`, ['triggers', 'payloads', i]));
    for (const lang of LANGUAGES) {
      (flow.triggers.keywords[lang] ?? []).forEach((word, i) =>
        claim(flow, `keyword:${lang}:${normalizeText(word)}`, `keyword "${word}" (${lang})`, ['triggers', 'keywords', lang, i]),
      );
    }
  }
  return out;
}

function buttonTargets(parsed: ParsedFlows): Diagnostic[] {
  const payloads = new Set(parsed.flows.flatMap((f) => f.triggers.payloads));
  const out: Diagnostic[] = [];
  for (const flow of parsed.flows) {
    flow.steps.forEach((step, i) => {
      if (step.kind !== 'say') return;
      step.buttons?.forEach((b, j) => {
        if (!payloads.has(b.payload) && !payloads.has(b.payload.split(':')[0]!))
          out.push(parsed.sources.get(flow)!.at(['steps', i, 'buttons', j, 'payload'], `button payload "${b.payload}" starts no flow${didYouMean(b.payload, payloads)}; add it to a flow's triggers.payloads`));
      });
    });
  }
  return out;
}

/** Every diagnostic as a line, errors first. */
export function formatDiagnostics(diagnostics: Diagnostic[]): string[] {
  return [...diagnostics].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1)).map(formatDiagnostic);
}
