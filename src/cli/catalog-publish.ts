import path from 'node:path';
import { Catalog } from '../catalog/catalog';
import { CatalogPublisher, type PublishReport } from '../catalog/meta-catalog/catalog-publisher';
import { MetaCatalogClient } from '../catalog/meta-catalog/meta-catalog-client';
import { itemLink } from '../catalog/meta-catalog/meta-items';
import { GraphClient } from '../channels/meta/graph-api';
import { loadConfig } from '../config';
import { withCliDatabase } from './cli-database';
import { createLogger } from '../logger';
import { StockLedger } from '../orders/stock-ledger';

/**
 * `catalog publish [--dry-run]`: makes the Meta catalog linked to the WhatsApp number
 * (WHATSAPP_CATALOG_ID) match flows/catalog.yml, with the live stock from the database, and
 * prints what it created, updated and removed, and what Meta refused with what to fix.
 * `--dry-run` compares and prints without changing anything. Returns the exit code.
 */
export async function catalogPublishCommand(args: string[], print: (line: string) => void = console.log): Promise<number> {
  const unknown = args.filter((a) => a !== '--dry-run');
  if (unknown.length > 0) {
    console.error(`unknown option "${unknown[0]}": catalog publish takes only --dry-run`);
    return 2;
  }
  const dryRun = args.includes('--dry-run');
  const config = loadConfig();
  const wa = config.whatsapp;
  if (!wa?.catalogId) {
    console.error(
      wa
        ? 'set WHATSAPP_CATALOG_ID to the id of the catalog linked to the WhatsApp number (Commerce Manager, Catalog, Settings; the number: WhatsApp Manager, Catalog)'
        : 'set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN (the WhatsApp Cloud API), and WHATSAPP_CATALOG_ID (the catalog linked to the number)',
    );
    return 2;
  }
  const catalog = Catalog.load(path.join(config.flowsDir, 'catalog.yml'));
  const link = itemLink(config.publicUrl, catalog);
  if (!link) {
    console.error('Meta wants a link for each product: set PUBLIC_URL (the cooperative page, the web chat), or the cooperative phone in flows/catalog.yml (a wa.me link is made from it)');
    return 2;
  }
  const log = createLogger('warn', 'pretty');
  const catalogId = wa.catalogId;
  return withCliDatabase(config, async (connection) => {
    const stock = new StockLedger(connection);
    const graph = new GraphClient({ baseUrl: config.graphApiUrl, version: config.graphApiVersion, accessToken: wa.token, appSecret: wa.appSecret, perSecond: 10, log });
    const publisher = new CatalogPublisher(new MetaCatalogClient(graph, catalogId), () => catalog, (id) => stock.level(id), link, log);
    const report = await publisher.publish({ dryRun, progress: (line) => console.error(line) });
    for (const line of reportLines(report)) print(line);
    return report.errors.length > 0 && !dryRun ? 1 : 0;
  });
}

/** The report as lines: what was (or would be) created, updated, removed, then the refusals with their fixes. */
export function reportLines(report: PublishReport): string[] {
  const verb = (done: string, would: string) => (report.dryRun ? would : done);
  const refused = new Set(report.errors.filter(() => !report.dryRun).map((e) => e.id));
  const ok = (ids: string[]) => ids.filter((id) => !refused.has(id));
  const lines = [
    `${verb('created', 'would create')} (${ok(report.plan.create.map((i) => i.id)).length}): ${ok(report.plan.create.map((i) => i.id)).join(', ') || '-'}`,
    `${verb('updated', 'would update')} (${ok(report.plan.update.map((u) => u.item.id)).length}): ${report.plan.update.filter((u) => !refused.has(u.item.id)).map((u) => `${u.item.id} (${u.changes.join(', ')})`).join(', ') || '-'}`,
    `${verb('removed', 'would remove')} (${ok(report.plan.remove).length}): ${ok(report.plan.remove).join(', ') || '-'}`,
    `unchanged (${report.plan.same.length}): ${report.plan.same.join(', ') || '-'}`,
  ];
  for (const e of report.errors) lines.push(`${report.dryRun ? 'warning' : 'refused'}: ${e.id}: ${e.message}; ${e.fix}`);
  for (const w of report.warnings) lines.push(`warning from Meta: ${w.id}: ${w.message}`);
  if (!report.finished) lines.push('Meta is still processing the changes: run it again in a minute to see what it refused');
  return lines;
}
