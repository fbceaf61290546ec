import type { Locales } from '../i18n/locales';

/** The console's languages; it follows ?lang=, else the browser's language. */
export const CONSOLE_LANGUAGES = ['fr', 'ar', 'en'] as const;
export type ConsoleLanguage = (typeof CONSOLE_LANGUAGES)[number];

/** The console's words in one language, from the `console.*` texts of the locales. */
export class ConsoleText {
  constructor(
    private readonly locales: Locales,
    readonly lang: ConsoleLanguage,
  ) {}

  /** A word of the console; `{n}` in it becomes `n`. */
  t(key: string, n?: number): string {
    return this.locales.text(this.lang, `console.${key}`).replace('{n}', String(n ?? ''));
  }

  /** The word for a code (a status, a payment, a handoff reason) when the locales have one, else the code itself. */
  word(code: string): string {
    for (const key of [`console.${code}`, `console.reason_${code.split(':')[0]}`]) if (this.locales.has(this.lang, key) || this.locales.has('fr', key)) return this.locales.text(this.lang, key);
    return code;
  }
}
