import { BotkitConversation, type Botkit, type BotkitMessage } from 'botkit';
import type { TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import { LANGUAGES, type Language } from '../config';
import { updateCustomerProfile } from '../history/customers';
import type { Locales } from '../i18n/locales';
import { turnInfo } from './turn-info';

const MAX_NAME_LENGTH = 60;
const SKIP_PAYLOAD = 'greeting.skip_name';

/** Lower-cases and strips accents and punctuation so "Bonjour !" and "bonjour" match alike. */
function normalise(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The language of the longest greeting word the text starts with, if any. */
export function greetingLanguage(locales: Locales, text: string): Language | undefined {
  const said = normalise(text);
  let best: { lang: Language; length: number } | undefined;
  for (const lang of LANGUAGES) {
    for (const word of locales.list(lang, 'greeting.words')) {
      const w = normalise(word);
      if (w && (said === w || said.startsWith(`${w} `)) && (!best || w.length > best.length)) best = { lang, length: w.length };
    }
  }
  return best?.lang;
}

/**
 * The core's greeting, until scripted flows take over: greets in the language of the
 * greeting word, asks a new customer's name and keeps it on their profile. It is a real
 * Botkit dialog, so a restart between the question and the answer resumes it.
 */
export function installGreeting(controller: Botkit, connection: Connection, locales: Locales, defaultLanguage: Language): void {
  for (const lang of LANGUAGES) {
    const t = (key: string) => locales.text(lang, key);
    const dialog = new BotkitConversation(`greeting_${lang}`, controller);
    dialog.say(t('greeting.hello'));
    const skip = { title: t('greeting.skip_name'), payload: SKIP_PAYLOAD };
    dialog.ask(
      { text: [t('greeting.ask_name')], quick_replies: [skip] },
      async (answer: string, convo, bot, message) => {
        // The way out: the customer may keep their name to themselves.
        if ((message as { value?: unknown }).value === SKIP_PAYLOAD || answer.trim() === skip.title) {
          await convo.gotoThread('skipped');
          return;
        }
        const name = answer.trim();
        if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
          await bot.say(t('greeting.retry_name'));
          await convo.repeat();
          return;
        }
        convo.setVar('name', name);
        // Saved before the next line is sent, so whoever reads the profile after the reply sees it.
        const customer = turnInfo(bot.getConfig('context') as TurnContext).customer;
        if (customer) await updateCustomerProfile(connection, customer._id, { name, language: lang });
      },
      'name',
    );
    dialog.say(t('greeting.nice_to_meet'));
    dialog.addMessage(t('greeting.no_name'), 'skipped');
    controller.addDialog(dialog);
  }

  controller.hears(
    async (message: BotkitMessage) => typeof message.text === 'string' && greetingLanguage(locales, message.text) !== undefined,
    'message',
    async (bot, message) => {
      const lang = greetingLanguage(locales, message.text ?? '') ?? defaultLanguage;
      const customer = turnInfo(bot.getConfig('context') as TurnContext).customer;
      // The greeting's language is the best guess of the customer's until understanding knows better.
      if (customer && customer.language !== lang) await updateCustomerProfile(connection, customer._id, { language: lang });
      if (customer?.name) await bot.say(locales.text(lang, 'greeting.welcome_back').replace('{{vars.name}}', customer.name));
      else await bot.beginDialog(`greeting_${lang}`);
    },
  );

  // Anything else is kept for the cooperative's team, and the customer is told so.
  controller.on('message', async (bot) => {
    const customer = turnInfo(bot.getConfig('context') as TurnContext).customer;
    const lang = (customer?.language as Language | undefined) ?? defaultLanguage;
    await bot.say(locales.text(lang, 'fallback.noted'));
  });
}
