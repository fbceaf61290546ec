import type { TurnContext } from 'botbuilder';
import { BotkitConversation, type Botkit, type BotkitDialogWrapper, type BotWorker } from 'botkit';
import { Types, type Connection } from 'mongoose';
import { turnInfo } from '../bot/turn-info';
import type { Catalog } from '../catalog/catalog';
import { LANGUAGES, type Language } from '../config';
import { updateCustomerProfile } from '../history/customers';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import type { Understanding } from '../nlu/understand';
import type { ActionRegistry, ActionServices } from './actions';
import { cartOf } from '../orders/cart';
import { parseAnswer } from './answers/parse-answer';
import { evaluateCondition, parseCondition } from './conditions';
import type { AskStep, Flow, Step, TextRef } from './flow-schema';
import { renderTemplate, resolveText } from './texts';

/** What compiled flows read while they run; locales and catalog are read live, so an edit applies at once. */
export interface FlowEnvironment {
  controller: Botkit;
  connection: Connection;
  actions: ActionRegistry;
  locales(): Locales;
  catalog(): Catalog;
  understanding(): Understanding;
  services: ActionServices;
  log: Logger;
}

/** The values a flow keeps in Botkit's dialog state, besides the customer's answers. */
export interface FlowVars extends Record<string, unknown> {
  lang: Language;
  _customer: { name?: string; phone?: string; language?: string; city?: string; address?: string };
  _retries?: Record<string, number>;
}

const END_THREAD = 'end';
const DEFAULT_MAX_RETRIES = 2;

/** The Botkit dialog id of a flow version: a new version is a new dialog, so customers in the old one finish it. */
export function dialogId(flowId: string, version: string): string {
  return `flow:${flowId}:${version}`;
}

/** The flow dialog id behind any dialog Botkit stacks for it: its wrapper, its prompt, or itself. */
export function flowDialogOf(id: string): string | undefined {
  return id.startsWith('flow:') ? id.replace(/(:botkit-wrapper|_default_prompt)$/, '') : undefined;
}

/** The flow and step a dialog stack is at ("flow:order:ab12" on thread "t:ask_qty" is order, ask_qty). */
export function flowPosition(stack: { id: string; state?: { thread?: unknown } }[] | undefined): { flow: string | null; step: string | null } {
  // The conversation itself is the entry that knows its thread; a prompt may sit above it.
  const entry = stack?.find((d) => d.id === flowDialogOf(d.id) && typeof d.state?.thread === 'string');
  if (!entry) return { flow: null, step: null };
  const thread = entry.state!.thread as string;
  return { flow: entry.id.split(':')[1]!, step: thread.startsWith('t:') ? thread.slice(2).replace(/:retry$/, '') : null };
}

const threadOf = (stepId: string) => `t:${stepId}`;

/** Compiles a validated flow into one BotkitConversation: a thread per step, asks as Botkit questions, logic in `before` hooks. */
export function compileFlow(flow: Flow, env: FlowEnvironment): BotkitConversation {
  const dialog = new BotkitConversation(dialogId(flow.id, flow.version), env.controller);
  const next = (i: number) => (flow.steps[i + 1] ? threadOf(flow.steps[i + 1]!.id) : END_THREAD);
  const targetThread = (to: string) => (to === 'end' ? END_THREAD : threadOf(to));
  const tag = (step: Step) => ({ taawun: { flow: flow.id, step: step.id } });

  const text = (ref: TextRef) => (_line: unknown, vars: FlowVars) => renderTemplate(resolveText(ref, vars.lang, env.locales()), view(vars));

  dialog.addAction(threadOf(flow.steps[0]!.id), 'default');
  dialog.addAction('complete', END_THREAD);

  flow.steps.forEach((step, i) => {
    const thread = threadOf(step.id);
    switch (step.kind) {
      case 'say':
        dialog.addMessage(
          {
            text: text(step.say),
            // Botkit fills the templates of channelData's strings (not of a list of strings): the ids go
            // as one string, "{{vars.product.id}} amlou"; "all" is read from the live catalog when sent.
            channelData: { ...tag(step), ...(step.products ? { products: step.products === 'all' ? 'all' : step.products.join(' ') } : {}) },
            ...(step.buttons
              ? { quick_replies: (_l: unknown, vars: FlowVars) => step.buttons!.map((b) => ({ title: text(b.title)(null, vars), payload: renderTemplate(b.payload, view(vars)) })) }
              : {}),
          },
          thread,
        );
        dialog.addAction(next(i), thread);
        break;
      case 'ask': {
        const handler = answerHandler(step, next(i), targetThread(step.on_fail ?? 'end'), env);
        const quickReplies = (_l: unknown, vars: FlowVars) => askQuickReplies(step, vars, env);
        // Channels that can ask for a location (WhatsApp's location request) read this flag.
        const channelData = { ...tag(step), ...(step.location ? { askLocation: true } : {}) };
        dialog.addQuestion({ text: text(step.prompt), quick_replies: quickReplies, channelData }, handler, '_answer', thread);
        const retry: TextRef = step.retry ?? `answers.retry_${step.ask}`;
        dialog.addQuestion({ text: text(retry), quick_replies: quickReplies, channelData }, handler, '_answer', `${thread}:retry`);
        break;
      }
      case 'set':
        dialog.before(thread, async (convo, bot) => {
          await applySet(step.set, convo, bot, env);
        });
        dialog.addAction(next(i), thread);
        break;
      case 'branch': {
        const choices = step.branch.map((b) => ('if' in b ? { condition: parseCondition(b.if), to: b.goto } : { condition: undefined, to: b.else }));
        dialog.before(thread, async (convo) => {
          for (const choice of choices) {
            if (!choice.condition || ('error' in choice.condition ? false : evaluateCondition(choice.condition, view(convo.vars as FlowVars)))) {
              await convo.gotoThread(targetThread(choice.to));
              return;
            }
          }
        });
        dialog.addAction(next(i), thread);
        break;
      }
      case 'goto':
        dialog.addAction(targetThread(step.goto), thread);
        break;
      case 'do':
        dialog.before(thread, async (convo, bot) => {
          const ok = await runAction(flow, step, convo, bot, env);
          if (!ok) await convo.gotoThread(END_THREAD);
        });
        dialog.addAction(next(i), thread);
        break;
      case 'end':
        dialog.addAction('complete', thread);
        break;
    }
  });
  return dialog;
}

/** The coordinates (and name, address) of a shared location, if they are numbers in range. */
function locationOf(raw: unknown): { latitude: number; longitude: number; name?: string; address?: string } | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const l = raw as Record<string, unknown>;
  const latitude = Number(l.latitude);
  const longitude = Number(l.longitude);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return undefined;
  const words = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : undefined);
  return { latitude, longitude, ...(words(l.name) ? { name: words(l.name) } : {}), ...(words(l.address) ? { address: words(l.address) } : {}) };
}

/** The template view: `vars` and `customer`. */
function view(vars: FlowVars): Record<string, unknown> {
  return { vars, customer: vars._customer ?? {} };
}

function answerHandler(step: Extract<Step, { kind: 'ask' }>, nextThread: string, failThread: string, env: FlowEnvironment) {
  return async (answer: string, convo: BotkitDialogWrapper, _bot: BotWorker, message: { value?: unknown; flowResponse?: unknown; location?: unknown }) => {
    const vars = convo.vars as FlowVars;
    // A WhatsApp Flow's answers that come while a flow waits are its variables too.
    if (message.flowResponse && typeof message.flowResponse === 'object') convo.setVar('flow_response', message.flowResponse);
    // A location answering a location ask: its coordinates are kept (vars.location), its words answer.
    // Every answer to it sets it: a typed address after a shared one leaves no old coordinates.
    if (step.location) convo.setVar('location', (locationOf(message.location) ?? null) as never);
    const payload = typeof message.value === 'string' ? message.value : undefined;
    const catalog = env.catalog();
    const parsed = parseAnswer(
      step,
      { text: answer ?? '', payload },
      {
        lang: vars.lang,
        locales: env.locales(),
        catalog,
        inCart: cartOf(vars)?.lines.map((l) => l.product),
        stock: (id) => env.services.orders.stock.cachedLevel(id),
        productIn: (text) => env.understanding().understand(text).product ?? undefined,
        maxQuantity: typeof vars.max_quantity === 'number' ? vars.max_quantity : undefined,
      },
    );
    // A product the catalog does not know gets the closest names as a suggestion, in the retry's text and buttons.
    if (step.ask === 'product' && !parsed.ok) {
      const closest = catalog.closestProducts(answer ?? '').filter((p) => !step.in_cart || cartOf(vars)?.lines.some((l) => l.product === p.id));
      convo.setVar('suggestions', closest.map((p) => catalog.view(p, vars.lang).name).join(', '));
      convo.setVar('_suggested', closest.map((p) => p.id));
    }
    const retries = { ...(vars._retries ?? {}) };
    if (parsed.ok) {
      convo.setVar(step.var, parsed.value);
      convo.setVar('_suggested', []);
      delete retries[step.id];
      convo.setVar('_retries', retries);
      await convo.gotoThread(nextThread);
      return;
    }
    retries[step.id] = (retries[step.id] ?? 0) + 1;
    if (retries[step.id]! > (step.max_retries ?? DEFAULT_MAX_RETRIES)) {
      delete retries[step.id];
      convo.setVar('_retries', retries);
      await convo.gotoThread(failThread);
      return;
    }
    convo.setVar('_retries', retries);
    await convo.gotoThread(`${threadOf(step.id)}:retry`);
  };
}

/** Buttons an ask offers: its choices, yes/no, 1-5 stars, or the catalog's products. */
function askQuickReplies(step: AskStep, vars: FlowVars, env: FlowEnvironment): { title: string; payload: string }[] {
  const t = (ref: TextRef) => renderTemplate(resolveText(ref, vars.lang, env.locales()), view(vars));
  switch (step.ask) {
    case 'choice':
      return (step.choices ?? []).map((c) => ({ title: t(c.label), payload: c.value }));
    case 'yesno':
      return [
        { title: t('answers.yes_button'), payload: 'yes' },
        { title: t('answers.no_button'), payload: 'no' },
      ];
    case 'rating':
      return [1, 2, 3, 4, 5].map((n) => ({ title: '⭐'.repeat(n), payload: String(n) }));
    case 'product': {
      const catalog = env.catalog();
      const inCart = cartOf(vars)?.lines.map((l) => l.product);
      const suggested = (vars._suggested as string[] | undefined) ?? [];
      const ids = step.in_cart ? (inCart ?? []) : [...suggested, ...catalog.products.map((p) => p.id).filter((id) => !suggested.includes(id))];
      return ids
        .slice(0, 13)
        .flatMap((id) => {
          const product = catalog.product(id);
          return product ? [{ title: catalog.view(product, vars.lang).name, payload: `product:${id}` }] : [];
        });
    }
    default:
      return [];
  }
}

async function applySet(values: Record<string, unknown>, convo: BotkitDialogWrapper, bot: BotWorker, env: FlowEnvironment): Promise<void> {
  const vars = convo.vars as FlowVars;
  const profile: Record<string, string> = {};
  for (const [key, raw] of Object.entries(values)) {
    const value = typeof raw === 'string' ? renderTemplate(raw, view(vars)) : raw;
    if (key.startsWith('customer.')) profile[key.slice(9)] = String(value ?? '');
    else convo.setVar(key.replace(/^vars\./, ''), value);
  }
  if (Object.keys(profile).length === 0) return;
  const info = turnInfo(bot.getConfig('context') as TurnContext);
  convo.setVar('_customer', { ...vars._customer, ...profile });
  // A language the flow sets is the customer's choice: understanding keeps it from then on.
  if (profile.language && (LANGUAGES as readonly string[]).includes(profile.language)) convo.setVar('lang', profile.language);
  if (info.customer) {
    await updateCustomerProfile(env.connection, info.customer._id, { ...profile, ...(profile.language ? { languageChosen: true } : {}) });
    Object.assign(info.customer, profile);
  }
}

async function runAction(flow: Flow, step: Extract<Step, { kind: 'do' }>, convo: BotkitDialogWrapper, bot: BotWorker, env: FlowEnvironment): Promise<boolean> {
  const vars = convo.vars as FlowVars;
  const action = env.actions.get(step.do);
  const context = bot.getConfig('context') as TurnContext;
  const info = turnInfo(context);
  const params = Object.fromEntries(
    Object.entries(step.with ?? {}).map(([k, v]) => [k, typeof v === 'string' ? renderTemplate(v, view(vars)) : v]),
  );
  try {
    if (!action) throw new Error(`unknown action "${step.do}"`);
    if (!info.customer) throw new Error('no customer for this turn');
    const result = await action.run(
      {
        connection: env.connection,
        customer: info.customer,
        channel: info.channel,
        lang: vars.lang,
        flow: flow.id,
        step: step.id,
        vars,
        setVar: (name: string, value: unknown) => convo.setVar(name, value as never),
        turn: (info.inboundId ??= new Types.ObjectId()),
        // A tapped button's (or numbered choice's) text is its title, not the customer's words.
        message: context.activity.value === undefined || context.activity.value === null ? (context.activity.text ?? '') : '',
        services: env.services,
        say: async (message: string, options?: { products?: string[] }) => {
          const products = options?.products?.length ? { products: options.products } : {};
          await bot.say({ text: message, channelData: { taawun: { flow: flow.id, step: step.id }, ...products } });
        },
        forgetTurn: () => {
          info.forgotten = true;
        },
        log: env.log,
        catalog: env.catalog(),
        locales: env.locales(),
        understanding: env.understanding(),
      },
      params,
    );
    if (step.var) convo.setVar(step.var, result as never);
    return true;
  } catch (err) {
    env.log.error({ flow: flow.id, step: step.id, action: step.do, err: (err as Error).message }, 'flow action failed');
    await bot.say(env.locales().text(vars.lang, 'errors.internal'));
    return false;
  }
}
