/** A JSON object of a webhook body, whose fields are not trusted. */
export type Json = Record<string, unknown>;

/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A JSON object (not an array, not null), else undefined. */
export const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/** The objects of a list; anything else (not a list, items that are no objects) is left out. */
export const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => obj(x) !== undefined) : []);
