/**
 * Days and periods in the cooperative's time zone (TZ, Africa/Casablanca by default),
 * without a date library: Intl knows every zone's offsets, summer time included.
 */

/** The zone's offset from UTC at an instant, in milliseconds. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(instant))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant a day ("2026-11-26") starts in the zone. */
export function startOfDay(day: string, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const guess = Date.UTC(y, m - 1, d);
  let instant = guess - offsetAt(guess, timeZone);
  // Once more at the found instant: the offset may differ there (a change of summer time).
  instant = guess - offsetAt(instant, timeZone);
  return new Date(instant);
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The day ("2026-11-26") an instant falls on in the zone. */
export function dayOf(instant: Date, timeZone: string): string {
  // A formatter is slow to make and the digest asks for thousands of days: one a zone.
  let format = dayFormats.get(timeZone);
  if (!format) dayFormats.set(timeZone, (format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return format.format(instant);
}

/** Every day from `from` to `to`, both included. */
export function daysOf(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}

/** The day `n` days after a day (before, for a negative `n`). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** A period of whole days, `from` and `to` both included, with the instants it spans: [start, end). */
export interface Period {
  from: string;
  to: string;
  start: Date;
  end: Date;
}

/** The period of days `from` to `to` (both included) in the zone. */
export function period(from: string, to: string, timeZone: string): Period {
  return { from, to, start: startOfDay(from, timeZone), end: startOfDay(addDays(to, 1), timeZone) };
}

/** The period of the same length just before. */
export function previousPeriod(p: Period, timeZone: string): Period {
  const days = Math.round((Date.UTC(...ymd(p.to)) - Date.UTC(...ymd(p.from))) / 86_400_000) + 1;
  return period(addDays(p.from, -days), addDays(p.from, -1), timeZone);
}

/** The seven days before the day of `now`: what a weekly digest sent that morning covers. */
export function lastSevenDays(now: Date, timeZone: string): Period {
  const today = dayOf(now, timeZone);
  return period(addDays(today, -7), addDays(today, -1), timeZone);
}

function ymd(day: string): [number, number, number] {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return [y, m - 1, d];
}
