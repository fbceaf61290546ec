import { fetchMedia } from '../../voice/fetch-media';
import type { Logger } from '../../logger';
import { RateLimiter } from '../rate-limiter';
import { getJson, postJson, type JsonAnswer } from './post-json';
import { appSecretProof } from './signature';

// Meta's codes for "slow down" and "try later"; 5xx answers are retried too.
const RETRY_CODES = new Set([4, 17, 32, 613, 80007, 130429, 131048, 131056]);
// Codes after which sending again cannot help: the person cannot be reached this way now.
const PERMANENT_CODES = new Set([10, 100, 190, 200, 551, 131026, 131047, 131051, 1545041, 2018001, 2018108]);

/** An error the Graph API answered (status 0: no answer came), with Meta's code, subcode and whether trying again can help. */
export class GraphApiError extends Error {
  readonly code = 'TAAWUN_GRAPH';
  constructor(
    readonly status: number,
    readonly graphCode: number | undefined,
    readonly subcode: number | undefined,
    message: string,
    readonly path: string,
  ) {
    super(status === 0 ? `Graph API ${path} did not answer: ${message}` : `Graph API ${path} answered ${status}${graphCode !== undefined ? ` (code ${graphCode}${subcode ? `/${subcode}` : ''})` : ''}: ${message}`);
    this.name = 'GraphApiError';
  }

  /** Whether the same call may succeed later (rate limits, Meta's own failures). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500 || (this.graphCode !== undefined && RETRY_CODES.has(this.graphCode));
  }

  /** Whether the recipient cannot be reached this way (left the window, blocked, not on WhatsApp). */
  get permanent(): boolean {
    return !this.retryable && (this.graphCode === undefined || PERMANENT_CODES.has(this.graphCode) || this.status === 400 || this.status === 403);
  }
}

/** What a Graph client needs; `baseUrl` includes the scheme so tests point it at a local fake. */
export interface GraphClientOptions {
  baseUrl: string;
  version: string;
  accessToken: string;
  appSecret: string;
  perSecond?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  log: Logger;
}

/** Calls to Meta's Graph API: appsecret_proof on every call, a rate limit, retries with backoff on what may pass later. */
export class GraphClient {
  private readonly limiter: RateLimiter;
  private readonly proof: string;

  constructor(private readonly options: GraphClientOptions) {
    this.limiter = new RateLimiter(options.perSecond ?? 50);
    this.proof = appSecretProof(options.accessToken, options.appSecret);
  }

  /**
   * POSTs JSON to `/{version}/{path}`; throws GraphApiError once retries are spent or the error
   * is final. `unmetered` calls (WhatsApp read receipts, which Meta does not count as messages)
   * skip the rate limit.
   */
  async post(path: string, body: unknown, options: { unmetered?: boolean } = {}): Promise<unknown> {
    return this.call(path, (url) => postJson(url, body, 15_000), {}, options);
  }

  /** GETs `/{version}/{path}` with `query`, with the same proof, limit and retries as post. */
  async get(path: string, query: Record<string, string> = {}): Promise<unknown> {
    return this.call(path, (url) => getJson(url, 15_000), query, {});
  }

  /**
   * Downloads a media file Meta named by its URL (a WhatsApp media id's `url`), with the token
   * as Meta asks: in the Authorization header, not the query.
   */
  async download(url: string, maxBytes: number): Promise<{ bytes: Buffer; mime?: string }> {
    await this.limiter.take();
    return fetchMedia(url, { maxBytes, headers: { authorization: `Bearer ${this.options.accessToken}`, 'user-agent': 'Taawun' } });
  }

  private async call(path: string, send: (url: URL) => Promise<JsonAnswer>, query: Record<string, string>, options: { unmetered?: boolean }): Promise<unknown> {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/${this.options.version}/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    url.searchParams.set('access_token', this.options.accessToken);
    url.searchParams.set('appsecret_proof', this.proof);
    const attempts = this.options.maxAttempts ?? 4;
    for (let attempt = 1; ; attempt += 1) {
      if (!options.unmetered) await this.limiter.take();
      let error: GraphApiError;
      try {
        const res = await send(url);
        const data = (res.data ?? {}) as { error?: { code?: number; error_subcode?: number; message?: string } };
        if (res.ok) return data;
        error = new GraphApiError(res.status, data.error?.code, data.error?.error_subcode, data.error?.message ?? res.statusText, path);
      } catch (err) {
        if (err instanceof GraphApiError) throw err;
        // The network itself failed (timeout, refused): worth another try.
        error = new GraphApiError(0, undefined, undefined, (err as Error).message, path);
      }
      if (!error.retryable || attempt >= attempts) throw error;
      const wait = (this.options.baseDelayMs ?? 500) * 2 ** (attempt - 1);
      this.options.log.warn({ path, attempt, retryInMs: wait, err: error.message }, 'Graph API call will be retried');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
