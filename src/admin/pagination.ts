import type { Request } from 'express';
import { HttpError } from '../errors';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** A page request: how many items and how many to skip. */
export interface Page {
  limit: number;
  offset: number;
}

function wholeNumber(req: Request, name: string, fallback: number, min: number, max: number): number {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new HttpError(400, 'bad_pagination', `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Reads `limit` (1-200, default 50) and `offset` (default 0) from the query; a bad value is a 400. */
export function parsePage(req: Request): Page {
  return {
    limit: wholeNumber(req, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
    offset: wholeNumber(req, 'offset', 0, 0, 10_000_000),
  };
}

/** The JSON shape of a page of results, with the query of the next page when there is one. */
export function pageBody<T>(items: T[], total: number, page: Page) {
  const nextOffset = page.offset + items.length;
  return { items, total, limit: page.limit, offset: page.offset, next: nextOffset < total ? `?limit=${page.limit}&offset=${nextOffset}` : null };
}
