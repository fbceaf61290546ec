import { parseWebChat, shownChat } from '../../../src/channels/whatsapp-web/web-ids';

describe('WhatsApp Web chat ids', () => {
  it('reads phone, hidden, group and broadcast ids, a device part dropped', () => {
    expect(parseWebChat('212612345678@c.us')).toEqual({ kind: 'phone', phone: '212612345678', chat: '212612345678@c.us' });
    expect(parseWebChat('212612345678:12@s.whatsapp.net')).toEqual({ kind: 'phone', phone: '212612345678', chat: '212612345678@c.us' });
    expect(parseWebChat('179950657237125@lid')).toEqual({ kind: 'lid', lid: '179950657237125', chat: '179950657237125@lid' });
    expect(parseWebChat('179950657237125:3@lid')).toEqual({ kind: 'lid', lid: '179950657237125', chat: '179950657237125@lid' });
    expect(parseWebChat('120363025555555555@g.us')).toEqual({ kind: 'group', chat: '120363025555555555@g.us' });
    expect(parseWebChat('212612345678-1596543210@g.us')).toMatchObject({ kind: 'group' });
    expect(parseWebChat('status@broadcast')).toEqual({ kind: 'broadcast', chat: 'status@broadcast' });
    expect(parseWebChat('120363111111111111@newsletter')).toMatchObject({ kind: 'newsletter' });
  });

  it('refuses what is no id', () => {
    for (const bad of ['', 'not-an-id', '12@c.us', '2126123456789012345@c.us', 'abc@lid', '123@lid', '212612345678@example.com', '@c.us', 'x'.repeat(200), 42, null, undefined, { _serialized: '212612345678@c.us' }]) {
      expect(parseWebChat(bad)).toBeUndefined();
    }
  });

  it('shows only the end of an id in the log', () => {
    expect(shownChat('212612345678@c.us')).toBe('…5678@c.us');
    expect(shownChat('179950657237125@lid')).toBe('…7125@lid');
    expect(shownChat('garbage')).toBe('…bage');
  });
});
