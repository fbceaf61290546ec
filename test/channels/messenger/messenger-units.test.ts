import { createHmac } from 'node:crypto';
import { parseMessengerWebhook } from '../../../src/channels/messenger/messenger-events';
import { toSendApiMessages } from '../../../src/channels/messenger/send-api-messages';
import { appSecretProof, validMetaSignature } from '../../../src/channels/meta/signature';
import { signedWebhook } from '../../support/fake-graph-api';

describe('Meta signatures', () => {
  it('accepts the HMAC-SHA256 of the raw bytes, as Meta signs them with \\uXXXX escapes', () => {
    const { raw, signature } = signedWebhook({ text: 'سلام ça va' }, 'secret');
    expect(raw).toContain('\\u0633');
    expect(validMetaSignature(Buffer.from(raw), signature, 'secret')).toBe(true);
    // The same JSON re-serialised without escapes is other bytes: its signature differs.
    const reencoded = JSON.stringify(JSON.parse(raw));
    expect(validMetaSignature(Buffer.from(reencoded), signature, 'secret')).toBe(false);
  });

  it('refuses a missing, SHA-1, malformed or wrong signature', () => {
    const body = Buffer.from('{}');
    const sha1 = `sha1=${createHmac('sha1', 'secret').update(body).digest('hex')}`;
    for (const header of [undefined, '', sha1, 'sha256=zz', `sha256=${'0'.repeat(64)}`]) expect(validMetaSignature(body, header, 'secret')).toBe(false);
  });

  it('computes appsecret_proof as Meta documents it', () => {
    expect(appSecretProof('token', 'secret')).toBe(createHmac('sha256', 'secret').update('token').digest('hex'));
  });
});

describe('parseMessengerWebhook', () => {
  const wrap = (...messaging: unknown[]) => ({ object: 'page', entry: [{ id: 'P', time: 1, messaging }] });

  it('reads texts, quick replies, postbacks and attachments, drops echoes, and gives deliveries and reads as statuses', () => {
    const { events, statuses, dropped } = parseMessengerWebhook(
      wrap(
        { sender: { id: 'u1' }, timestamp: 1, message: { mid: 'm1', text: 'salam' } },
        { sender: { id: 'u1' }, timestamp: 2, message: { mid: 'm2', text: 'Commander', quick_reply: { payload: 'ORDER' } } },
        { sender: { id: 'u1' }, timestamp: 3, postback: { mid: 'm3', title: 'Menu', payload: 'MENU' } },
        { sender: { id: 'u1' }, timestamp: 4, message: { mid: 'm4', attachments: [{ type: 'image', payload: { url: 'https://x/y.jpg' } }] } },
        { sender: { id: 'PAGE' }, timestamp: 5, message: { mid: 'm5', text: 'echo', is_echo: true } },
        { sender: { id: 'u1' }, timestamp: 6, delivery: { mids: ['m1'] } },
        { sender: { id: 'u1' }, timestamp: 7, read: { watermark: 1 } },
      ),
    );
    expect(events).toEqual([
      { id: 'm1', sender: 'u1', text: 'salam', timestamp: 1 },
      { id: 'm2', sender: 'u1', text: 'Commander', payload: 'ORDER', timestamp: 2 },
      { id: 'm3', sender: 'u1', text: 'Menu', payload: 'MENU', timestamp: 3 },
      { id: 'm4', sender: 'u1', text: '', attachments: [{ type: 'image', url: 'https://x/y.jpg' }], timestamp: 4 },
    ]);
    expect(statuses).toEqual([
      { sender: 'u1', status: 'delivered', mids: ['m1'], watermark: 0 },
      { sender: 'u1', status: 'read', mids: [], watermark: 1 },
    ]);
    expect(dropped).toEqual([{ reason: "an echo of the Page's own message", event: 'm5' }]);
  });

  it('cleans Unicode oddities out of the text', () => {
    const { events } = parseMessengerWebhook(wrap({ sender: { id: 'u' }, timestamp: 1, message: { mid: 'm', text: 'sa\u200blam\u0000 e\u0301' } }));
    expect(events[0]!.text).toBe('salam é');
  });

  it.each([
    [null, 'the body must be a JSON object'],
    [{ object: 'instagram', entry: [] }, 'unknown object "instagram"; this endpoint takes "page" webhooks'],
    [{ object: 'page' }, '"entry" must be a list'],
  ])('refuses %j', (body, message) => {
    expect(() => parseMessengerWebhook(body)).toThrow(message);
  });

  it('skips entries and items it cannot read without failing the rest', () => {
    const { events, ignored, dropped } = parseMessengerWebhook({ object: 'page', entry: [{ id: 'P' }, { messaging: [{ message: { mid: 'x', text: 'no sender' } }, { sender: { id: 'u' }, message: { mid: 'ok', text: 'hi' } }] }] });
    expect(events.map((e) => e.id)).toEqual(['ok']);
    expect(ignored).toBe(1);
    expect(dropped).toEqual([{ reason: 'an event without a sender' }]);
  });
});

describe('toSendApiMessages', () => {
  const text = (t: string, quick_replies?: { title: string; payload: string }[]) => ({ type: 'message', text: t, ...(quick_replies ? { channelData: { quick_replies } } : {}) });

  it('combines the texts of one turn, with the quick replies on the last', () => {
    const out = toSendApiMessages([text('Bonjour !'), text('Que puis-je faire ?', [{ title: 'Commander', payload: 'ORDER' }])]);
    expect(out).toEqual([{ message: { text: 'Bonjour !\n\nQue puis-je faire ?', quick_replies: [{ content_type: 'text', title: 'Commander', payload: 'ORDER' }] } }]);
  });

  it('turns choices Messenger cannot show as buttons into a numbered list', () => {
    const many = Array.from({ length: 14 }, (_, i) => ({ title: `P${i + 1}`, payload: `p${i + 1}` }));
    const long = [{ title: 'Huile d’argan cosmétique pure', payload: 'argan' }];
    const [a] = toSendApiMessages([text('Lequel ?', many)]);
    expect(a!.message.quick_replies).toBeUndefined();
    expect(a!.message.text).toMatch(/^Lequel \?\n1\. P1\n2\. P2\n[\s\S]*14\. P14$/);
    expect(a!.numbered).toEqual(many);
    expect(toSendApiMessages([text('Lequel ?', long)])[0]!.message.text).toBe('Lequel ?\n1. Huile d’argan cosmétique pure');
  });

  it('splits a text over 2,000 characters at a space', () => {
    const out = toSendApiMessages([text('mot '.repeat(700))]);
    expect(out.length).toBe(2);
    for (const m of out) expect([...m.message.text].length).toBeLessThanOrEqual(2000);
  });

  it('sends nothing for typing indicators alone', () => {
    expect(toSendApiMessages([{ type: 'typing' }])).toEqual([]);
  });
});
