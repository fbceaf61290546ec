import { GraphClient } from '../../../src/channels/meta/graph-api';
import { createLogger } from '../../../src/logger';
import { FakeGraphApi } from '../../support/fake-graph-api';

const TOKEN = 'graph-token';
const SECRET = 'graph-secret';
const PHONE_ID = '100200300';

describe('GraphClient rate limit', () => {
  let graph: FakeGraphApi;
  let baseUrl: string;
  beforeAll(async () => {
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: PHONE_ID });
    baseUrl = await graph.start();
  });
  afterAll(() => graph.stop());

  it('counts messages only: read receipts (unmetered) leave the number its whole rate for replies', async () => {
    // One message a second: were the 20 receipts counted, the reply would wait 20 seconds.
    const client = new GraphClient({ baseUrl, version: 'v21.0', accessToken: TOKEN, appSecret: SECRET, perSecond: 1, log: createLogger('silent', 'json') });
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.post(`${PHONE_ID}/messages`, { messaging_product: 'whatsapp', status: 'read', message_id: `wamid.r${i}` }, { unmetered: true })));
    await client.post(`${PHONE_ID}/messages`, { messaging_product: 'whatsapp', to: '212600000001', type: 'text', text: { body: 'salam' } });
    expect(graph.reads).toHaveLength(20);
    expect(graph.sent).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(5000);
    // A second message in the same second waits for the limiter (messages are still counted).
    const second = Date.now();
    await client.post(`${PHONE_ID}/messages`, { messaging_product: 'whatsapp', to: '212600000001', type: 'text', text: { body: 'bis' } });
    expect(Date.now() - second).toBeGreaterThanOrEqual(500);
  });
});
