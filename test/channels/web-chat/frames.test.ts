import { activityToFrame, MAX_TEXT_LENGTH, parseInboundFrame } from '../../../src/channels/web-chat/frames';

describe('parseInboundFrame', () => {
  it('accepts a message, trimmed, with an optional payload', () => {
    expect(parseInboundFrame('{"type":"message","text":" salam "}')).toEqual({ type: 'message', text: 'salam' });
    expect(parseInboundFrame('{"type":"message","text":"Oui","payload":"yes"}')).toEqual({ type: 'message', text: 'Oui', payload: 'yes' });
  });

  it.each([
    ['not json', 'bad_frame'],
    ['[1,2]', 'bad_frame'],
    ['null', 'bad_frame'],
    ['{"type":"hack","text":"x"}', 'unknown_type'],
    ['{"type":"message"}', 'empty'],
    ['{"type":"message","text":"   "}', 'empty'],
    ['{"type":"message","text":5}', 'empty'],
    ['{"type":"message","text":"x","payload":{}}', 'bad_frame'],
  ])('refuses %s as %s', (raw, code) => {
    expect(parseInboundFrame(raw)).toMatchObject({ error: code });
  });

  it('accepts exactly the length limit and refuses one character more', () => {
    expect(parseInboundFrame(JSON.stringify({ type: 'message', text: 'a'.repeat(MAX_TEXT_LENGTH) }))).toMatchObject({ type: 'message' });
    expect(parseInboundFrame(JSON.stringify({ type: 'message', text: 'a'.repeat(MAX_TEXT_LENGTH + 1) }))).toMatchObject({
      error: 'too_long',
      message: `the message has ${MAX_TEXT_LENGTH + 1} characters; the limit is ${MAX_TEXT_LENGTH}`,
    });
  });

  it('ignores a user field the browser claims', () => {
    expect(parseInboundFrame('{"type":"message","text":"hi","user":"someone-else"}')).toEqual({ type: 'message', text: 'hi' });
  });
});

describe('activityToFrame', () => {
  it('carries quick replies from botbuilder suggested actions', () => {
    const frame = activityToFrame({
      type: 'message',
      text: 'Choose',
      suggestedActions: { to: [], actions: [{ type: 'postBack', title: 'Argan', value: 'argan' }] },
    });
    expect(frame).toEqual({ type: 'message', text: 'Choose', quick_replies: [{ title: 'Argan', payload: 'argan' }] });
  });

  it('carries quick replies from Botkit channel data', () => {
    const frame = activityToFrame({ type: 'message', text: 'Choose', channelData: { quick_replies: [{ title: 'Miel', payload: 'honey' }] } });
    expect(frame).toEqual({ type: 'message', text: 'Choose', quick_replies: [{ title: 'Miel', payload: 'honey' }] });
  });

  it('passes typing and drops kinds the page does not show', () => {
    expect(activityToFrame({ type: 'typing' })).toEqual({ type: 'typing' });
    expect(activityToFrame({ type: 'event' })).toBeUndefined();
  });
});
