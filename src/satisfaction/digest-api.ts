import { Router, type Request } from 'express';
import type { Connection } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import { HttpError } from '../errors';
import type { Locales } from '../i18n/locales';
import { computeDigest } from './digest';
import type { DigestDays } from './digest-days';
import { digestLanguage, digestText } from './digest-text';
import { addDays, dayOf, lastSevenDays, period, type Period } from './periods';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

/** The period a request asks for: `from` and `to` days (both included), the last seven days by default. */
export function requestedPeriod(req: Request, timeZone: string, now = new Date()): Period {
  const { from, to } = req.query;
  if (from === undefined && to === undefined) return lastSevenDays(now, timeZone);
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (typeof value !== 'string' || !DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value)
      throw new HttpError(400, 'bad_period', `${name} must be a day such as 2026-11-23 (both from and to are needed), got ${JSON.stringify(value ?? null)}`);
  }
  if (from! > to!) throw new HttpError(400, 'bad_period', `from (${String(from)}) is after to (${String(to)})`);
  if (addDays(from as string, MAX_DAYS) <= (to as string)) throw new HttpError(400, 'bad_period', `a digest covers at most ${MAX_DAYS} days`);
  if ((from as string) > dayOf(now, timeZone)) throw new HttpError(400, 'bad_period', 'the period is in the future');
  return period(from as string, to as string, timeZone);
}

/** GET /digest?from=&to= as JSON; `&format=text&lang=fr|ar|en` for the text the cooperative receives. */
export function digestApi(connection: Connection, days: DigestDays, live: { catalog(): Catalog; locales(): Locales }, timeZone: string): Router {
  const router = Router();
  router.get('/digest', async (req, res) => {
    const p = requestedPeriod(req, timeZone);
    const digest = await computeDigest(connection, live.catalog(), days, p, timeZone);
    if (req.query.format === 'text') {
      const lang = typeof req.query.lang === 'string' ? req.query.lang : 'fr';
      if (!['fr', 'ar', 'ary', 'en'].includes(lang)) throw new HttpError(400, 'bad_lang', `lang must be fr, ar or en, got ${JSON.stringify(lang)}`);
      res.type('text/plain').send(digestText(digest, { locales: live.locales(), lang: digestLanguage(lang), cooperative: live.catalog().data.cooperative.name }));
      return;
    }
    if (req.query.format !== undefined && req.query.format !== 'json') throw new HttpError(400, 'bad_format', 'format must be json or text');
    res.json(digest);
  });
  return router;
}
