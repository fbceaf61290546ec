import { WebChatIdentities } from '../../../src/channels/web-chat/identity';

const secret = 'x'.repeat(40);

describe('WebChatIdentities', () => {
  it('verifies the tokens it issued', () => {
    const ids = new WebChatIdentities(secret);
    const { user, token } = ids.issue();
    expect(user).toMatch(/^w_[\w-]{16}$/);
    expect(ids.verify(token)).toBe(user);
  });

  it('issues a different identity each time', () => {
    const ids = new WebChatIdentities(secret);
    expect(ids.issue().user).not.toBe(ids.issue().user);
  });

  it('refuses a token for another user, a forged signature, or another secret', () => {
    const ids = new WebChatIdentities(secret);
    const a = ids.issue();
    const b = ids.issue();
    const signatureOfA = a.token.split('.')[1];
    expect(ids.verify(`${b.user}.${signatureOfA}`)).toBeUndefined();
    expect(ids.verify(`${a.user}.AAAA`)).toBeUndefined();
    expect(new WebChatIdentities('y'.repeat(40)).verify(a.token)).toBeUndefined();
  });

  it('refuses what is not a token', () => {
    const ids = new WebChatIdentities(secret);
    for (const bad of [undefined, null, '', 'no-dot', '.sig', 42, 'a.'.repeat(200)]) expect(ids.verify(bad)).toBeUndefined();
  });

  it('refuses a short secret', () => {
    expect(() => new WebChatIdentities('short')).toThrow(/at least 32/);
  });
});
