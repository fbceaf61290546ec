import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance';

/** ` (did you mean "confirm"?)` when a known name is close to the unknown one, else an empty string. */
export function didYouMean(unknown: string, known: Iterable<string>): string {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = DamerauLevenshteinDistance(unknown.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  // Close means a typo, not another word: at most a third of the letters differ.
  return best && best.distance <= Math.max(1, Math.floor(unknown.length / 3)) ? ` (did you mean "${best.name}"?)` : '';
}
