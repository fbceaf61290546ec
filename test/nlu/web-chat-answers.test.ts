import { messageModel } from '../../src/db/models/message';
import { customerModel } from '../../src/db/models/customer';
import type { RunningServer } from '../../src/server';
import { ChatClient } from '../support/chat-client';
import { startTestServer, stopAndDrop } from '../support/server';

// A customer asks a price, then about delivery, through the web chat, in each language.
describe('questions answered from the catalog, through the web chat (real database)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ label: 'answers' });
  });
  afterAll(async () => {
    await stopAndDrop(server);
  });

  it.each([
    ['fr', 'Bonjour, c combien le miel de thym ?', 'miel de thym : 200 MAD (pot 500 g).', 'vous livrez a Fes ?', /^Livraison partout au Maroc/],
    ['ary', 'salam, bch7al zit argan dyal lmakla?', 'زيت لرݣان ديال الماكلة: 180 MAD (قارورة 250 مل).', 'wach katwslo l fes?', /^التوصيل إلى جميع مدن المغرب/],
    ['ar', 'كم ثمن ماء الورد؟', 'ماء الورد: 40 MAD (قارورة 250 مل).', 'هل يمكن الدفع عند الاستلام؟', /^الدفع عند الاستلام نقدا/],
    ['en', 'how much are the dried figs?', 'dried figs: 70 MAD (500 g bag).', 'what are your opening hours?', /^Monday to Saturday/],
  ])('in %s', async (lang, question, answer, second, secondAnswer) => {
    const c = await ChatClient.connect(server.url);
    await c.next('history');
    await c.say(question);
    await c.expectReply(answer);
    await c.expectReply(/./);
    await c.say(second);
    await c.expectReply(secondAnswer);
    const customer = await customerModel(server.connection).findOne({ externalId: c.user }).lean();
    expect(customer?.language).toBe(lang);
    const inbound = await messageModel(server.connection).find({ customer: customer!._id, direction: 'in' }).sort({ at: 1 }).lean();
    expect(inbound[0]).toMatchObject({ language: lang, intent: 'price', product: expect.any(String), confidence: expect.any(Number) });
    await c.close();
  });
});
