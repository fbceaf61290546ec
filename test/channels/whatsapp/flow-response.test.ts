import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunningServer } from '../../../src/server';
import { FakeGraphApi, signedWebhook, TEST_PHONE_NUMBER_ID, whatsappMessage } from '../../support/fake-graph-api';
import { startTestServer, stopAndDrop } from '../../support/server';

const SECRET = 'flow-response-secret';
const TOKEN = 'flow-response-token';
const projectRoot = path.resolve(__dirname, '../../..');

// A flow the cooperative wrote for its WhatsApp Flow (a feedback form): started by the form's answers.
const FORM_FLOW = `id: feedback_form
description: Answers of the WhatsApp feedback form
triggers:
  payloads: [FLOW_RESPONSE]
steps:
  - say: { fr: "Merci ! Livraison notée {{vars.flow_response.delivery_rating}}/5 : « {{vars.flow_response.comment_text}} »" }
`;

describe('WhatsApp Flow answers (nfm_reply) reach a flow as variables (real database)', () => {
  let graph: FakeGraphApi;
  let server: RunningServer;
  beforeAll(async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-form-'));
    fs.cpSync(path.join(projectRoot, 'flows'), path.join(root, 'flows'), { recursive: true });
    fs.writeFileSync(path.join(root, 'flows', 'feedback-form.yml'), FORM_FLOW);
    graph = new FakeGraphApi({ accessToken: TOKEN, appSecret: SECRET, version: 'v21.0', phoneNumberId: TEST_PHONE_NUMBER_ID });
    server = await startTestServer({
      label: 'flowresponse',
      flowsDir: path.join(root, 'flows'),
      whatsapp: { token: TOKEN, phoneNumberId: TEST_PHONE_NUMBER_ID, appSecret: SECRET, verifyToken: 'v', template: undefined },
      graphApiUrl: await graph.start(),
      graphApiVersion: 'v21.0',
    });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await graph.stop();
  });

  it('starts the flow whose payload trigger is FLOW_RESPONSE with vars.flow_response, field names with dots included', async () => {
    const answers = { comment_text: 'Très bon amlou', delivery_rating: '4', 'a.b': 'kept', flow_token: 'AQAAAAACS5FpgQ' };
    const body = whatsappMessage('212677700001', { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: JSON.stringify(answers) } } });
    const { raw, signature } = signedWebhook(body, SECRET);
    const res = await fetch(`${server.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body: raw });
    expect(res.status).toBe(200);
    await server.inbox.idle();
    expect(graph.sent.map((m) => m.text)).toEqual(['Merci ! Livraison notée 4/5 : « Très bon amlou »']);
  });
});
