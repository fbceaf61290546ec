import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { LANGUAGES, type Language } from '../config';

type Tree = { [key: string]: string | string[] | Tree };

/** Message texts per language from `locales/<lang>.yml`, looked up by dotted key, French as the fallback. */
export class Locales {
  private constructor(private readonly trees: Map<Language, Tree>) {}

  /** Loads every language file in `dir`; a missing or unreadable file is an error naming it. */
  static load(dir: string): Locales {
    const trees = new Map<Language, Tree>();
    for (const lang of LANGUAGES) {
      const file = path.join(dir, `${lang}.yml`);
      let tree: unknown;
      try {
        tree = parse(fs.readFileSync(file, 'utf8'));
      } catch (err) {
        throw new Error(`${file}: ${(err as Error).message}`);
      }
      if (typeof tree !== 'object' || tree === null) throw new Error(`${file}: expected a mapping of keys to texts`);
      trees.set(lang, tree as Tree);
    }
    return new Locales(trees);
  }

  /** The text for `key` in `lang`, else in French; throws if neither has it, since that is a bug in the code. */
  text(lang: Language, key: string): string {
    const value = this.lookup(lang, key) ?? this.lookup('fr', key);
    if (typeof value !== 'string') throw new Error(`locales: no text for "${key}" in ${lang} or fr`);
    return value;
  }

  /** Whether `lang` itself (without the French fallback) has a text for `key`. */
  has(lang: Language, key: string): boolean {
    return typeof this.lookup(lang, key) === 'string';
  }

  /** Every text key of a language, dotted: for "did you mean" hints. */
  keys(lang: Language = 'fr'): string[] {
    const out: string[] = [];
    const walk = (node: Tree, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        if (typeof v === 'string') out.push(prefix + k);
        else if (!Array.isArray(v) && v && typeof v === 'object') walk(v, `${prefix}${k}.`);
      }
    };
    walk(this.trees.get(lang) ?? {}, '');
    return out;
  }

  /** The list for `key` in `lang` (words that trigger something), or an empty list. */
  list(lang: Language, key: string): string[] {
    const value = this.lookup(lang, key);
    return Array.isArray(value) ? value.map(String) : [];
  }

  private lookup(lang: Language, key: string): Tree[string] | undefined {
    let node: Tree[string] | undefined = this.trees.get(lang);
    for (const part of key.split('.')) {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
      node = node[part];
    }
    return node;
  }
}
