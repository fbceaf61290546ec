import { MediaTooBigError } from './voice-notes';

/** Downloads a media file, refusing one larger than `maxBytes` (by its length header, then as it streams). */
export async function fetchMedia(url: string, options: { maxBytes: number; headers?: Record<string, string>; timeoutMs?: number }): Promise<{ bytes: Buffer; mime?: string }> {
  const res = await fetch(url, { headers: options.headers ?? {}, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000), redirect: 'follow' });
  if (!res.ok) throw new Error(`${new URL(url).host} answered ${res.status} for the media`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(length) && length > options.maxBytes) {
    await res.body?.cancel();
    throw new MediaTooBigError(length);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > options.maxBytes) throw new MediaTooBigError(size);
    chunks.push(Buffer.from(chunk));
  }
  const mime = res.headers.get('content-type') ?? undefined;
  return { bytes: Buffer.concat(chunks), ...(mime ? { mime } : {}) };
}
