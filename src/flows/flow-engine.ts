import { renderTemplate } from './texts';
import { VOICE_CONFIRMED, VOICE_RETYPE, type VoiceStatus } from '../voice/voice-notes';
import type { BotAdapter, TurnContext } from 'botbuilder';
import type { Botkit, BotkitMessage, BotWorker } from 'botkit';
import type { DialogContext } from 'botbuilder-dialogs';
import { Types, type Connection } from 'mongoose';
import { storeOutbound } from '../bot/recorder';
import { turnInfo, type TurnInfo } from '../bot/turn-info';
import { LANGUAGES, type Language } from '../config';
import { customerModel } from '../db/models/customer';
import { normalizeText } from '../nlu/normalize';
import { flowVersionModel } from '../db/models/flow-version';
import { unansweredModel } from '../db/models/unanswered';
import { updateCustomerProfile, type Customer } from '../history/customers';
import type { Logger } from '../logger';
import type { ActionRegistry, ActionServices } from './actions';
import { parseAnswer } from './answers/parse-answer';
import { compileFlow, dialogId, flowDialogOf, flowPosition, type FlowEnvironment, type FlowVars } from './compile-flow';
import type { Diagnostic } from './diagnostics';
import type { Flow } from './flow-schema';
import { FlowLibrary, loadFlowLibrary, type FlowPaths } from './flow-library';
import { formatDiagnostics } from './validate-flows';
import { insertOnce, isDuplicateKey } from '../db/duplicate-key';

type Next = (err?: Error) => void;

/** Messages in a row the bot cannot follow before a person takes over. */
const FALLBACKS_BEFORE_HUMAN = 3;

/**
 * Runs the cooperative's flows inside Botkit: starts the flow a message triggers, answers
 * the global commands (menu, cancel, talk to a person), falls back to the menu, and swaps
 * in a new set of flows on reload while customers in an older version finish it.
 */
export class FlowEngine {
  private library: FlowLibrary;
  private readonly env: FlowEnvironment;

  private constructor(
    library: FlowLibrary,
    private readonly controller: Botkit,
    private readonly connection: Connection,
    private readonly paths: FlowPaths,
    private readonly actions: ActionRegistry,
    private readonly defaultLanguage: Language,
    private readonly services: ActionServices,
    private readonly log: Logger,
  ) {
    this.library = library;
    this.env = {
      controller,
      connection,
      actions,
      locales: () => this.library.locales,
      catalog: () => this.library.catalog,
      understanding: () => this.library.understanding,
      services,
      log,
    };
  }

  /** Loads the flows (refusing to start on any error) and installs the engine's handlers on the controller. */
  static async start(options: {
    controller: Botkit;
    connection: Connection;
    paths: FlowPaths;
    actions: ActionRegistry;
    defaultLanguage: Language;
    services: ActionServices;
    log: Logger;
  }): Promise<FlowEngine> {
    const { library, diagnostics } = loadFlowLibrary(options.paths, options.actions);
    for (const line of formatDiagnostics(diagnostics.filter((d) => d.severity === 'warning'))) options.log.warn(line);
    if (!library) throw new FlowLoadError(diagnostics);
    const engine = new FlowEngine(library, options.controller, options.connection, options.paths, options.actions, options.defaultLanguage, options.services, options.log);
    await engine.register(library);
    engine.install();
    // The console shows what the validator said of the flows now live, warnings included.
    engine.status.problems = formatDiagnostics(diagnostics);
    return engine;
  }

  /** The last load of the flows: when, whether it took, and what the validator said. */
  status: { liveSince: Date; lastReloadAt: Date; ok: boolean; problems: string[] } = { liveSince: new Date(), lastReloadAt: new Date(), ok: true, problems: [] };

  /** The flows now live. */
  get current(): FlowLibrary {
    return this.library;
  }

  /** Reads the files again; a valid set replaces the live one, an invalid one is logged and the last good set stays. */
  async reload(): Promise<{ ok: boolean; diagnostics: Diagnostic[] }> {
    const { library, diagnostics } = loadFlowLibrary(this.paths, this.actions);
    const now = new Date();
    if (!library) {
      this.status = { ...this.status, lastReloadAt: now, ok: false, problems: formatDiagnostics(diagnostics) };
      this.log.error({ errors: formatDiagnostics(diagnostics.filter((d) => d.severity === 'error')) }, 'flows not reloaded: the last good version stays live');
      return { ok: false, diagnostics };
    }
    await this.register(library);
    this.library = library;
    this.status = { liveSince: now, lastReloadAt: now, ok: true, problems: formatDiagnostics(diagnostics) };
    for (const line of formatDiagnostics(diagnostics)) this.log.warn(line);
    this.log.info({ flows: [...library.flows.keys()] }, `flows reloaded: ${library.flows.size} flows`);
    return { ok: true, diagnostics };
  }

  /** Compiles and registers each flow version not yet known, and keeps its source for after a restart. */
  private async register(library: FlowLibrary): Promise<void> {
    const versions = flowVersionModel(this.connection);
    for (const flow of library.flows.values()) {
      const id = dialogId(flow.id, flow.version);
      if (this.controller.dialogSet.find(id)) continue;
      this.controller.addDialog(compileFlow(flow, this.env));
      await versions.updateOne({ _id: id }, { $setOnInsert: { flow: JSON.stringify(flow), savedAt: new Date() } }, { upsert: true }).catch((err: { code?: number }) => {
        if (!isDuplicateKey(err)) throw err;
      });
    }
  }

  private install(): void {
    const controller = this.controller;
    controller.middleware.ingest.use((bot: BotWorker, message: BotkitMessage, next: Next) => {
      this.restoreVersions(bot)
        .then(() => this.pauseForHandoff(bot))
        .then(() => this.digress(bot, message))
        .then(() => next(), next);
    });

    const infoOf = (message: BotkitMessage) => turnInfo((message as unknown as { context: TurnContext }).context);
    // A person has the conversation: nothing the bot would say, not even a command's answer.
    controller.interrupts(
      async (message: BotkitMessage) => Boolean(infoOf(message).paused) && !this.interruptingFlow(message),
      'message',
      async () => undefined,
    );

    // "stop" to a rating question: said before the cancel command could take the word.
    controller.interrupts(
      async (message: BotkitMessage) => Boolean((message as { context?: TurnContext }).context && turnInfo((message as unknown as { context: TurnContext }).context).ratingOptOut),
      'message',
      async (bot) => {
        await bot.say(this.library.locales.text(this.language(bot), 'satisfaction.opted_out'));
      },
    );

    // A voice note not heard well enough to act on, or "I will type it": answered here, so an
    // open flow waits at its step for what the customer says next, and nothing counts as misunderstood.
    controller.interrupts(
      async (message: BotkitMessage) => message.type === 'message' && (unheardVoice(message) !== undefined || valueOf(message) === VOICE_RETYPE),
      'message',
      async (bot, message) => this.answerVoice(bot, message),
    );

    // Commands and buttons act even in the middle of a flow.
    controller.interrupts(
      async (message: BotkitMessage) =>
        message.type === 'message' && (this.library.command(message.text) !== undefined || this.buttonFlow(message) !== undefined || this.interruptingFlow(message) !== undefined),
      'message',
      async (bot, message) => {
        // A WhatsApp cart sent while an order is being put together: the order flow asks which to keep.
        const open = (bot.getConfig('context') as TurnContext).activity.channelData?.cart ? openCartOf(bot.getConfig('dialogContext') as DialogContext | undefined) : undefined;
        await bot.cancelAllDialogs();
        const interrupting = this.interruptingFlow(message);
        if (interrupting) {
          await this.begin(bot, interrupting.flow, interrupting.lang);
          return;
        }
        // A cart's words are its note, not a command.
        const command = (bot.getConfig('context') as TurnContext).activity.channelData?.cart ? undefined : this.library.command(message.text, this.customerLanguage(bot));
        if (command?.command === 'cancel') {
          await bot.say(this.library.locales.text(this.language(bot, command.lang), 'commands.cancelled'));
          return;
        }
        const flow = command ? this.library.flows.get(command.command === 'menu' ? 'menu' : 'human')! : this.buttonFlow(message)!;
        await this.begin(bot, flow, command?.lang, open ? { previousCart: open } : {});
      },
    );

    controller.on('message', async (bot, message) => {
      const match = this.library.match(
        { text: message.text, payload: valueOf(message), intent: turnInfo(bot.getConfig('context') as TurnContext).intent },
        this.customerLanguage(bot),
      );
      if (match) {
        await this.begin(bot, match.flow, match.lang);
        return;
      }
      await this.fallback(bot, message);
    });
  }

  /**
   * Language, intent and product of a message: kept on the turn for the flows, returned for
   * the stored message, and (the language) kept on the customer, unless they chose one.
   */
  async understand(info: TurnInfo, text: string): Promise<{ language: Language; intent: string; product: string | null; confidence: number }> {
    const customer = info.customer;
    const known = (customer?.language as Language | undefined) ?? this.defaultLanguage;
    const u = this.library.understanding.understand(text, (customer?.language as Language | undefined) ?? undefined, this.defaultLanguage);
    info.intent = u.intent;
    info.product = u.product;
    info.confidence = u.confidence;
    info.lang = customer?.languageChosen ? known : u.lang;
    info.langSure = u.langSure || Boolean(customer?.languageChosen);
    if (customer && !customer.languageChosen && customer.language !== u.lang) {
      await updateCustomerProfile(this.connection, customer._id, { language: u.lang });
      customer.language = u.lang;
    }
    return { language: u.lang, intent: u.intent, product: u.product, confidence: u.confidence };
  }

  /** Starts a flow in the customer's language, with what understanding found: `vars.intent`, `vars.product`. */
  private async begin(bot: BotWorker, flow: Flow, triggerLang?: Language, overrides: { intent?: string; afterFallback?: boolean; previousCart?: Record<string, unknown> } = {}): Promise<void> {
    const lang = this.language(bot, triggerLang);
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    const customer = info.customer;
    // Understood: the count of messages in a row it could not follow starts again.
    if (customer?.fallbacks && !overrides.intent && !overrides.afterFallback) {
      await customerModel(this.connection).updateOne({ _id: customer._id }, { $set: { fallbacks: 0 } });
      customer.fallbacks = 0;
    }
    const catalog = this.library.catalog;
    // A button can carry the product it is about ("ORDER:amlou"); else the product the words named.
    const payloadProduct = payloadArgument(bot);
    const product = (payloadProduct && catalog.product(payloadProduct)) || (info.product ? catalog.product(info.product) : undefined);
    // A WhatsApp Flow's answers (nfm_reply) reach the flow it starts as vars.flow_response.
    const activity = (bot.getConfig('context') as TurnContext).activity;
    const flowResponse = activity.channelData?.flowResponse as Record<string, unknown> | undefined;
    // A WhatsApp cart reaches the order flow as vars.incoming_cart, with the id of its message.
    const incoming = activity.channelData?.cart as Record<string, unknown> | undefined;
    const vars: FlowVars = {
      ...(flowResponse ? { flow_response: flowResponse } : {}),
      ...(incoming ? { incoming_cart: { ...incoming, message: String(activity.id ?? '') } } : {}),
      ...(overrides.previousCart ? { previous_cart: overrides.previousCart } : {}),
      lang,
      intent: overrides.intent ?? info.intent ?? null,
      max_quantity: catalog.orders.max_quantity,
      ...(product ? { product: catalog.view(product, lang, this.services.orders.stock.cachedLevel(product.id)) } : {}),
      _customer: {
        name: customer?.name ?? undefined,
        phone: customer?.phone ?? undefined,
        city: customer?.city ?? undefined,
        address: customer?.address ?? undefined,
        language: lang,
      },
    };
    await bot.beginDialog(dialogId(flow.id, flow.version), vars);
  }

  /**
   * Starts a flow for a customer outside their turn (a rating request), on their channel's
   * adapter, as if they had triggered it: same variables, messages kept in their history,
   * and the dialog saved so their answer continues it.
   */
  async beginProactively(adapter: BotAdapter, customer: Customer, flowId: string, extra: Record<string, unknown>): Promise<void> {
    const flow = this.library.flows.get(flowId);
    if (!flow) throw new Error(`no flow "${flowId}" to start`);
    const bot = await this.controller.spawn({}, adapter);
    await bot.changeContext({
      channelId: customer.channel,
      conversation: { id: customer.externalId, isGroup: false, conversationType: 'personal', name: '' },
      user: { id: customer.externalId, name: '' },
      bot: { id: 'business', name: 'business' },
      serviceUrl: '',
    });
    const context = bot.getConfig('context') as TurnContext;
    const info = turnInfo(context);
    info.channel = customer.channel;
    info.customer = customer;
    context.onSendActivities(async (_ctx, activities, next) => {
      await storeOutbound(this.connection, customer._id, customer.channel, activities, adapter);
      return next();
    });
    const lang = (customer.language as Language | undefined) ?? this.defaultLanguage;
    const vars: FlowVars = {
      lang,
      intent: null,
      max_quantity: this.library.catalog.orders.max_quantity,
      ...extra,
      _customer: { name: customer.name ?? undefined, phone: customer.phone ?? undefined, city: customer.city ?? undefined, address: customer.address ?? undefined, language: lang },
    };
    await bot.beginDialog(dialogId(flow.id, flow.version), vars);
  }

  /** Says what became of a voice note the bot could not act on: what it heard, to confirm or type, or why it heard nothing. */
  private async answerVoice(bot: BotWorker, message: BotkitMessage): Promise<void> {
    const lang = this.language(bot);
    const locales = this.library.locales;
    const voice = unheardVoice(message);
    if (!voice) {
      await bot.say(locales.text(lang, 'voice.retype'));
      return;
    }
    if (voice.status === 'unsure') {
      await bot.say({
        text: renderTemplate(locales.text(lang, 'voice.unsure'), { heard: voice.transcript }),
        quick_replies: [
          { title: locales.text(lang, 'voice.confirm_button'), payload: VOICE_CONFIRMED },
          { title: locales.text(lang, 'voice.retype_button'), payload: VOICE_RETYPE },
        ],
      } as Partial<BotkitMessage>);
      return;
    }
    const key = { nothing: 'voice.nothing', too_long: 'voice.too_long', too_big: 'voice.too_long', unreadable: 'voice.unreadable', unfetched: 'voice.failed', failed: 'voice.failed', off: 'voice.off' }[voice.status];
    await bot.say(locales.text(lang, key));
  }

  /** Not understood: say so, keep the question for the cooperative, and show the menu. */
  private async fallback(bot: BotWorker, message: BotkitMessage): Promise<void> {
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    const lang = this.language(bot);
    // Shared contacts, a sticker, a cart, a form's answers, a type WhatsApp cannot show: a short
    // answer of their own, not counted as misunderstood.
    const short = (message as { short?: unknown }).short;
    if (typeof short === 'string' && !message.text?.trim()) {
      await bot.say(this.library.locales.text(lang, `fallback.${short}`));
      return;
    }
    // A photo, a voice note, a location: the bot reads text only, and says so kindly.
    if (!message.text?.trim() && Array.isArray((message as { attachments?: unknown[] }).attachments)) {
      await bot.say(this.library.locales.text(lang, 'fallback.attachment'));
      return;
    }
    // Keyed by the message: a turn run again after a crash keeps it once.
    if (info.customer && message.text) {
      const id = info.inboundId ?? new Types.ObjectId();
      await insertOnce(unansweredModel(this.connection).create({ _id: id, customer: info.customer._id, message: info.inboundId, channel: info.channel, text: message.text, language: lang, at: new Date() }));
    }
    // Three messages in a row the bot cannot follow: a person takes over. A message is counted
    // once, however often its turn runs (the count names the last message it counted).
    const counted = Boolean(info.inboundId && info.customer?.fallbackMessage?.equals(info.inboundId));
    const missed = (info.customer?.fallbacks ?? 0) + (counted ? 0 : 1);
    if (info.customer && !counted) {
      await customerModel(this.connection).updateOne({ _id: info.customer._id }, { $set: { fallbacks: missed, fallbackMessage: info.inboundId ?? null } });
      info.customer.fallbacks = missed;
    }
    const human = this.library.flows.get('human');
    if (missed >= FALLBACKS_BEFORE_HUMAN && human) {
      await this.begin(bot, human, lang, { intent: 'repeated_fallbacks' });
      return;
    }
    await bot.say(this.library.locales.text(lang, 'fallback.not_understood'));
    const menu = this.library.flows.get('menu');
    if (menu) await this.begin(bot, menu, lang, { afterFallback: true });
  }

  // Two interrupt tests ask about each message: the keywords are looked up once.
  private readonly interrupting = new WeakMap<BotkitMessage, { flow: Flow; lang?: Language } | null>();

  /** A flow marked `interrupt: true` whose words the message says ("supprimer mes données"), if any. */
  private interruptingFlow(message: BotkitMessage): { flow: Flow; lang?: Language } | undefined {
    if (typeof message.text !== 'string' || !message.text.trim()) return undefined;
    let found = this.interrupting.get(message);
    if (found === undefined) {
      const match = this.library.match({ text: message.text });
      found = match?.by === 'keyword' && match.flow.interrupt ? { flow: match.flow, lang: match.lang } : null;
      this.interrupting.set(message, found);
    }
    return found ?? undefined;
  }

  /** The flow a tapped button starts, if its payload is a flow trigger. */
  private buttonFlow(message: BotkitMessage): Flow | undefined {
    const payload = valueOf(message);
    return payload ? this.library.match({ payload })?.flow : undefined;
  }

  /** The language the customer was last answered in, if known. */
  private customerLanguage(bot: BotWorker): Language | undefined {
    return (turnInfo(bot.getConfig('context') as TurnContext).customer?.language as Language | undefined) ?? undefined;
  }

  /**
   * The reply language: the one the message's words told (or the customer chose), else the
   * language of the keyword or command word that matched, else the customer's, else the default.
   */
  private language(bot: BotWorker, wordLang?: Language): Language {
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    if (info.lang && info.langSure) return info.lang;
    return wordLang ?? info.lang ?? (info.customer?.language as Language | undefined) ?? this.defaultLanguage;
  }

  /**
   * A request where a name was asked ("je voudrais commander 3 pots d'amlou" for "your
   * name?") leaves that question: the open dialog is dropped so the message starts the flow
   * its intent triggers, as it would have without the question. Only names: a city or an
   * address could read as an intent by chance.
   */
  private async digress(bot: BotWorker, message: BotkitMessage): Promise<void> {
    const dc = bot.getConfig('dialogContext') as DialogContext | undefined;
    const at = flowPosition(dc?.stack);
    if (!dc || !at.flow || !at.step || message.type !== 'message' || typeof message.text !== 'string' || valueOf(message) !== undefined) return;
    if (at.flow === 'satisfaction' && this.isStopWord(message.text)) {
      const info = turnInfo(bot.getConfig('context') as TurnContext);
      if (info.customer) await customerModel(this.connection).updateOne({ _id: info.customer._id }, { $set: { ratingOptOut: true } });
      info.ratingOptOut = true;
      this.log.info({ customer: String(info.customer?._id) }, 'a customer opted out of rating requests');
      await dc.cancelAllDialogs();
      return;
    }
    const step = this.library.flows.get(at.flow)?.steps.find((s) => s.id === at.step);
    if (step?.kind !== 'ask' || step.ask !== 'name') return;
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    // A flow's own words ("donner mon avis") are a request even when they could be a name.
    const byWords = this.library.match({ text: message.text });
    const isName = parseAnswer(step, { text: message.text }, { lang: info.lang ?? this.defaultLanguage, locales: this.library.locales, catalog: this.library.catalog }).ok;
    if (isName && byWords?.by !== 'keyword') return;
    const match = byWords?.by === 'keyword' ? byWords : info.intent ? this.library.match({ intent: info.intent }) : undefined;
    if (!match || match.flow.id === at.flow) return;
    this.log.info({ flow: at.flow, step: at.step, intent: info.intent }, 'a request instead of a name: leaving the question');
    await dc.cancelAllDialogs();
  }

  /** A customer handed to a person stays with them until the handoff is given back or times out. */
  private async pauseForHandoff(bot: BotWorker): Promise<void> {
    const info = turnInfo(bot.getConfig('context') as TurnContext);
    const until = info.customer?.handoff?.until;
    if (!until || until.getTime() <= Date.now()) return;
    const dc = bot.getConfig('dialogContext') as DialogContext | undefined;
    // A flow that may interrupt (the erasure) goes on to its end even then.
    const open = flowPosition(dc?.stack).flow;
    if (open && this.library.flows.get(open)?.interrupt) return;
    info.paused = true;
    if (dc?.stack.length) await dc.cancelAllDialogs();
  }

  /** Whether a message is one of the words that stop rating requests ("stop", "safi", "arrête"), in any language. */
  private isStopWord(text: string): boolean {
    const said = normalizeText(text);
    return LANGUAGES.some((lang) => this.library.locales.list(lang, 'satisfaction.stop_words').some((w) => normalizeText(w) === said));
  }

  /**
   * A customer whose open dialog is a flow version this process has not compiled (it was
   * replaced before a restart) gets that version back from the database and finishes it.
   * If it cannot be found, the dialog is cancelled and the message handled afresh.
   */
  private async restoreVersions(bot: BotWorker): Promise<void> {
    const dc = bot.getConfig('dialogContext') as DialogContext | undefined;
    const ids = (dc?.stack ?? []).map((d) => flowDialogOf(d.id)).filter((id): id is string => id !== undefined);
    for (const id of new Set(ids)) {
      if (this.controller.dialogSet.find(id)) continue;
      const saved = await flowVersionModel(this.connection).findById(id).lean();
      if (saved) {
        this.controller.addDialog(compileFlow(JSON.parse(saved.flow) as Flow, this.env));
        this.log.info({ dialog: id }, 'restored an older flow version for a customer in the middle of it');
      } else {
        this.log.warn({ dialog: id }, 'open dialog of an unknown flow version cancelled');
        await dc!.cancelAllDialogs();
        return;
      }
    }
  }
}

/** The flows could not be loaded; each diagnostic says where and what. */
export class FlowLoadError extends Error {
  readonly code = 'TAAWUN_FLOWS';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`The flows have errors:\n${formatDiagnostics(diagnostics.filter((d) => d.severity === 'error')).map((l) => `  ${l}`).join('\n')}`);
    this.name = 'FlowLoadError';
  }
}

/** The open dialog's `vars.cart` (an order being put together), if it has lines; the engine does not read it further. */
function openCartOf(dc: DialogContext | undefined): Record<string, unknown> | undefined {
  for (const entry of dc?.stack ?? []) {
    const values = (entry.state as { values?: { cart?: { count?: unknown }; previous_cart?: { count?: unknown } } } | undefined)?.values;
    // Asked whether a cart replaces it, the order being put together is the previous one, not the cart not yet taken.
    for (const cart of [values?.previous_cart, values?.cart]) if (cart && typeof cart.count === 'number' && cart.count > 0) return cart as Record<string, unknown>;
  }
  return undefined;
}

/** What a button's payload carries after its trigger: "amlou" in "ORDER:amlou". */
function payloadArgument(bot: BotWorker): string | undefined {
  const value = (bot.getConfig('context') as TurnContext).activity.value;
  return typeof value === 'string' && value.includes(':') ? value.slice(value.indexOf(':') + 1) : undefined;
}

/** The voice note of a message that was not heard well enough to go on as its words. */
function unheardVoice(message: BotkitMessage): { status: Exclude<VoiceStatus, 'heard'>; transcript: string } | undefined {
  const voice = (message as { voice?: { status?: VoiceStatus; transcript?: string } }).voice;
  return voice?.status && voice.status !== 'heard' ? { status: voice.status, transcript: voice.transcript ?? '' } : undefined;
}

function valueOf(message: BotkitMessage): string | undefined {
  return typeof message.value === 'string' ? message.value : undefined;
}
