import path from 'node:path';
import { Catalog } from '../catalog/catalog';
import { loadConfig } from '../config';
import { withCliDatabase } from './cli-database';
import { Locales } from '../i18n/locales';
import { createLogger } from '../logger';
import { computeDigest } from '../satisfaction/digest';
import { DigestDays } from '../satisfaction/digest-days';
import { digestLanguage, digestText } from '../satisfaction/digest-text';
import { dayOf, lastSevenDays, period, type Period } from '../satisfaction/periods';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const option = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/**
 * `digest [--from DAY --to DAY] [--lang fr|ar|en] [--json]`: prints the digest of a period
 * (the last seven days by default) from the real database; with the embedded one, the
 * server's engine is shared if it runs. Returns the exit code.
 */
export async function digestCommand(args: string[], print: (line: string) => void = console.log): Promise<number> {
  const config = loadConfig();
  const from = option(args, '--from');
  const to = option(args, '--to');
  const lang = option(args, '--lang') ?? config.defaultLanguage;
  if ((from === undefined) !== (to === undefined) || [from, to].some((d) => d !== undefined && !DAY.test(d))) {
    console.error('give both --from and --to as days, such as --from 2026-11-16 --to 2026-11-22 (or neither, for the last seven days)');
    return 2;
  }
  if (from && to && from > to) {
    console.error(`--from ${from} is after --to ${to}`);
    return 2;
  }
  if (!['fr', 'ar', 'ary', 'en'].includes(lang)) {
    console.error(`--lang must be fr, ar or en, got "${lang}"`);
    return 2;
  }
  const p: Period = from && to ? period(from, to, config.timeZone) : lastSevenDays(new Date(), config.timeZone);
  const log = createLogger('warn', 'pretty');
  return withCliDatabase(config, async (connection) => {
    const catalog = Catalog.load(path.join(config.flowsDir, 'catalog.yml'));
    const locales = Locales.load(config.localesDir);
    const digest = await computeDigest(connection, catalog, new DigestDays(connection, config.timeZone, log), p, config.timeZone);
    if (args.includes('--json')) print(JSON.stringify(digest, null, 2));
    else print(digestText(digest, { locales, lang: digestLanguage(lang), cooperative: catalog.data.cooperative.name }));
    if (p.to >= dayOf(new Date(), config.timeZone)) console.error('(today is not over: its figures are as of now)');
    return 0;
  });
}
