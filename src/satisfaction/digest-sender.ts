import cron from 'node-cron';
import type { Connection } from 'mongoose';
import type { Catalog } from '../catalog/catalog';
import { releaseLease, takeLease } from '../db/models/lease';
import type { Locales } from '../i18n/locales';
import type { Logger } from '../logger';
import type { CooperativeNotifier } from '../notify/cooperative-notifier';
import { computeDigest } from './digest';
import type { DigestDays } from './digest-days';
import { digestLanguage, digestText } from './digest-text';
import { addDays, dayOf, lastSevenDays, type Period } from './periods';

// A sent digest's lease is never given back: it is the record that this period went out.
const KEEP_MS = 400 * 86_400_000;

/** Sends the digest of the past seven days to the cooperative on DIGEST_CRON, in its time zone, from one process only. */
export class DigestSender {
  constructor(
    private readonly connection: Connection,
    private readonly days: DigestDays,
    private readonly live: { catalog(): Catalog; locales(): Locales },
    private readonly cooperative: CooperativeNotifier,
    private readonly options: { timeZone: string; cron: string; staffLanguage: string; baseUrl(): string },
    private readonly holder: string,
    private readonly log: Logger,
  ) {}

  /** Where the cooperative reads a period's digest. */
  link(p: Pick<Period, 'from' | 'to'>): string {
    return `${this.options.baseUrl()}/admin/digest?from=${p.from}&to=${p.to}`;
  }

  /**
   * Computes and sends a period's digest, unless another process (or an earlier run) did:
   * a lease named after the period, taken by a unique insert, decides. Returns whether this call sent it.
   */
  async send(p: Period, now = new Date()): Promise<boolean> {
    if (!(await takeLease(this.connection, `digest:${p.from}:${p.to}`, this.holder, KEEP_MS))) {
      this.log.info({ from: p.from, to: p.to }, 'digest already sent by another process');
      return false;
    }
    const catalog = this.live.catalog();
    let digest: Awaited<ReturnType<typeof computeDigest>>;
    try {
      digest = await computeDigest(this.connection, catalog, this.days, p, this.options.timeZone, now);
    } catch (err) {
      // Not sent: the period's lease goes back, so the next run tries again.
      await releaseLease(this.connection, `digest:${p.from}:${p.to}`, this.holder);
      throw err;
    }
    const text = digestText(digest, { locales: this.live.locales(), lang: digestLanguage(this.options.staffLanguage), cooperative: catalog.data.cooperative.name, link: this.link(p), short: true });
    await this.cooperative.notify('digest', text, { digest });
    this.log.info({ from: p.from, to: p.to, ratings: digest.csat.count, orders: digest.orders.count }, 'digest sent to the cooperative');
    return true;
  }

  /** Sums yesterday once, so that digests only read kept days; under a lease, one process does it. */
  async sumYesterday(now = new Date()): Promise<void> {
    const yesterday = addDays(dayOf(now, this.options.timeZone), -1);
    if (!(await takeLease(this.connection, `digest-day:${yesterday}`, this.holder, 2 * 86_400_000))) return;
    await this.days.figures([yesterday], now);
  }

  /** Schedules the weekly send, and the nightly summing of the day just over; returns a function that stops both. */
  start(): () => void {
    const tz = { timezone: this.options.timeZone };
    const weekly = cron.schedule(
      this.options.cron,
      () => {
        this.send(lastSevenDays(new Date(), this.options.timeZone)).catch((err: Error) => this.log.error({ err: err.message }, 'the digest could not be sent'));
      },
      tz,
    );
    const nightly = cron.schedule(
      '10 0 * * *',
      () => {
        this.sumYesterday().catch((err: Error) => this.log.error({ err: err.message }, "yesterday's digest figures could not be summed"));
      },
      tz,
    );
    return () => {
      void weekly.stop();
      void nightly.stop();
    };
  }
}
