import type { Language } from '../config';
import { renderTemplate } from '../flows/texts';
import type { Locales } from '../i18n/locales';
import type { Digest } from './digest';

/** The languages the digest is written in; Darija readers get Arabic. */
export type DigestLanguage = 'fr' | 'ar' | 'en';
export const digestLanguage = (lang: Language | string | undefined): DigestLanguage => (lang === 'ar' || lang === 'ary' ? 'ar' : lang === 'en' ? 'en' : 'fr');

const percent = (share: number | null) => (share === null ? '—' : String(Math.round(share * 100)));
const signed = (n: number | null) => (n === null ? '' : n > 0 ? `+${n}` : String(n));

/** Writes a digest as text: `short` for a WhatsApp or Messenger message, else every section (the CLI). */
export function digestText(digest: Digest, options: { locales: Locales; lang: DigestLanguage; cooperative: string; link?: string; short?: boolean }): string {
  const t = (key: string, view: Record<string, unknown> = {}) => renderTemplate(options.locales.text(options.lang, `digest.${key}`), view);
  const d = digest;
  const lines = [t('title', { from: d.period.from, to: d.period.to, cooperative: options.cooperative })];
  lines.push(d.csat.count > 0 ? t('csat', { average: d.csat.average, count: d.csat.count, trend: signed(d.csat.trend) }) : t('csat_none'));
  if (d.csat.requests.sent > 0) lines.push(t('response_rate', { answered: d.csat.requests.answered, sent: d.csat.requests.sent, rate: percent(d.csat.requests.responseRate) }));
  if (!options.short && d.csat.count > 0) lines.push(t('distribution', { bars: (['5', '4', '3', '2', '1'] as const).map((s) => `${s}★ ${d.csat.distribution[s]}`).join(' · ') }));
  lines.push(t('low', { count: d.lowRatings.length }));
  if (!options.short) for (const r of d.lowRatings) lines.push(t('low_line', { ...r, name: r.name ?? '' }));
  lines.push(t('orders', { count: d.orders.count, revenue: d.orders.revenue, currency: d.orders.currency, cancelled: d.orders.cancelled || '' }));
  if (d.repeatCustomers.customers > 0) lines.push(t('repeat', { share: percent(d.repeatCustomers.share), repeat: d.repeatCustomers.repeat, customers: d.repeatCustomers.customers }));
  if (d.topCustomers.count > 0) lines.push(t('top', { count: d.topCustomers.count, share: percent(d.topCustomers.share) }));
  if (!options.short) {
    const section = (title: string, items: string[]) => items.length && lines.push('', t(title), ...items);
    section('by_product', d.byProduct.map((p) => t('score_line', { name: p.name, average: p.average, count: p.count })));
    section('by_channel', d.byChannel.map((c) => t('score_line', { name: c.channel, average: c.average, count: c.count })));
    section('suggestions', d.suggestions.map((s) => t('suggestion_line', s)));
    section('unanswered', d.unanswered.map((q) => t('unanswered_line', q)));
  }
  if (options.link) lines.push('', t('link', { link: options.link }));
  return lines.join('\n');
}
