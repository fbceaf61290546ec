import fs from 'node:fs';
import type { Logger } from '../logger';

const SETTLE_MS = 250;

/**
 * Calls `reload` when a file in one of the folders changes, once the burst of events an
 * editor makes on save has settled; a save takes effect well within two seconds.
 */
export function watchFolders(folders: string[], reload: () => Promise<unknown>, log: Logger): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Reloads run one after the other, so the last save always wins.
      running = running.then(reload).catch((err: Error) => log.error({ err: err.message }, 'reload failed'));
    }, SETTLE_MS);
  };
  const watchers = folders.map((folder) =>
    fs.watch(folder, { persistent: false }, (_event, name) => {
      if (!name || /\.ya?ml$|\.json$/.test(String(name))) schedule();
    }),
  );
  for (const w of watchers) w.on('error', (err) => log.error({ err: err.message }, 'watching the flows stopped'));
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
