import mustache from 'mustache';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';
import type { TextRef } from './flow-schema';

/** The text of a step in a language: a locale key's text, or the inline text; French when the language has none. */
export function resolveText(ref: TextRef, lang: Language, locales: Locales): string {
  if (typeof ref === 'string') return locales.text(lang, ref);
  return ref[lang] ?? ref.fr ?? Object.values(ref).find(Boolean) ?? '';
}

/** Fills `{{vars.x}}` and `{{customer.name}}`; chat text is not HTML, so nothing is escaped. */
export function renderTemplate(template: string, view: Record<string, unknown>): string {
  // Values are not HTML-escaped, but "{{" inside one is broken up so no later pass reads it as a tag.
  return mustache.render(template, view, undefined, { escape: (s: unknown) => String(s).replace(/\{\{/g, '{ {') });
}

/** The variable paths a template reads, such as ["vars", "qty"]; throws on a malformed template. */
export function templatePaths(template: string): string[][] {
  const paths: string[][] = [];
  const walk = (tokens: unknown[]) => {
    for (const token of tokens as [string, string, number, number, unknown[]?][]) {
      if (['name', '&', '#', '^'].includes(token[0])) paths.push(token[1].split('.'));
      if (Array.isArray(token[4])) walk(token[4]);
    }
  };
  walk(mustache.parse(template));
  return paths;
}
