import http from 'node:http';
import https from 'node:https';

// Kept-alive connections to the Graph API: a busy page makes hundreds of calls a second to
// one host. node:http rather than fetch: fetch's web streams cost about half a millisecond
// of CPU a call here (npm run bench), a tenth of a whole turn.
const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

// Meta's answers are a few hundred bytes; anything this large is not one.
const MAX_ANSWER_BYTES = 1 << 20;

/** An HTTP answer: its status, and its body parsed as JSON (`{}` when it is not JSON). */
export interface JsonAnswer {
  status: number;
  statusText: string;
  ok: boolean;
  data: unknown;
}

/** POSTs `body` as JSON and reads the answer; rejects when the network fails or no answer came within `timeoutMs`. */
export function postJson(url: URL, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
  return requestJson(url, 'POST', body, timeoutMs);
}

/** GETs `url` and reads the JSON answer, as postJson does. */
export function getJson(url: URL, timeoutMs: number): Promise<JsonAnswer> {
  return requestJson(url, 'GET', undefined, timeoutMs);
}

function requestJson(url: URL, method: 'GET' | 'POST', body: unknown, timeoutMs: number): Promise<JsonAnswer> {
  const agent = agents[url.protocol];
  if (!agent) return Promise.reject(new Error(`${url.protocol} is not http: or https:`));
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const client = url.protocol === 'https:' ? https : http;
  const headers = payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {};
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer over ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        let data: unknown = {};
        try {
          data = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Meta answers JSON, errors included; a proxy's error page is not, and its status says enough.
        }
        const status = res.statusCode ?? 0;
        resolve({ status, statusText: res.statusMessage ?? '', ok: status >= 200 && status < 300, data });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    if (payload) req.end(payload);
    else req.end();
  });
}
