import { customerModel } from '../../src/db/models/customer';
import { messageModel } from '../../src/db/models/message';
import { ratingModel } from '../../src/db/models/rating';
import { ratingRequestModel } from '../../src/db/models/rating-request';
import { suggestionModel } from '../../src/db/models/suggestion';
import type { RunningServer } from '../../src/server';
import { startCoopWebhook } from '../support/coop-webhook';
import { converse, httpChat, type Chat } from '../support/http-chat';
import { ADMIN_TOKEN, startTestServer, stopAndDrop, waitFor } from '../support/server';

const HOUR = 3_600_000;


describe('ratings in the chat (real database)', () => {
  let server: RunningServer;
  let coop: Awaited<ReturnType<typeof startCoopWebhook>>;

  beforeAll(async () => {
    coop = await startCoopWebhook();
    server = await startTestServer({ label: 'ratings', coopNotify: { kind: 'webhook', url: coop.url }, ratings: { afterDeliveryHours: 2, afterAnswerMinutes: 30, cooldownDays: 30 } });
  });
  afterAll(async () => {
    await stopAndDrop(server);
    await coop.close();
  });

  /** A delivered order's rating request, scheduled three hours ago (so due now). */
  const dueRequest = (customer: { _id: unknown }, order: string) =>
    server.ratings.delivered({ _id: order, customer: customer._id, channel: 'web', lines: [] } as never, new Date(Date.now() - 3 * HOUR));

  const customerOf = async (chat: Chat) => (await customerModel(server.connection).findOne({ channel: 'web', externalId: chat.user }).lean())!;
  const lastOut = async (chat: Chat) => (await messageModel(server.connection).findOne({ customer: (await customerOf(chat))._id, direction: 'out' }).sort({ at: -1, _id: -1 }).lean())!;
  const ratingsOf = async (chat: Chat) => ratingModel(server.connection).find({ customer: (await customerOf(chat))._id }).lean();

  it.each([
    ['fr', 'je veux donner mon avis', 'très bien', /^Voulez-vous ajouter un mot \?$/, 'oui', 'Livraison rapide, merci', /^Merci beaucoup pour votre note de 5\/5 !$/, 5],
    ['en', 'I want to give feedback', '👍', /^Would you like to add a word\?$/, 'no', '', /^Thank you very much for your 5\/5!$/, 5],
    ['ar', 'تقييم', 'ممتاز', /^هل تريد إضافة كلمة؟$/, 'لا', '', /^شكرا جزيلا على تقييمك 5\/5!$/, 5],
    ['ary (Latin letters)', 'bghit n9iyem', 'mzyan', /^بغيتي تزيد شي كلمة؟$/, 'la', '', /^شكرا بزاف على 4\/5!$/, 4],
    ['ary (Arabic letters)', 'بغيت نعطي رأيي', '⭐⭐⭐', /^بغيتي تزيد شي كلمة؟$/, 'لا', '', /^شكرا بزاف على 3\/5!$/, 3],
  ])('the rating conversation in %s', async (_lang, start, score, commentQuestion, wants, comment, thanks, stored) => {
    const c = await httpChat(server);
    await converse(c, [[start, /1.*5/]]);
    await converse(c, [[score, commentQuestion]]);
    if (comment) await converse(c, [[wants, /./], [comment, thanks]]);
    else await converse(c, [[wants, thanks]]);
    const [rating] = await ratingsOf(c);
    expect(rating).toMatchObject({ score: stored, comment: comment || null, channel: 'web', request: null });
  });

  it('after a delivered order: asked once the delay is over, answered, low score alerts the cooperative with the comment and a link', async () => {
    const c = await httpChat(server);
    await converse(c, [
      ['je veux commander 1 amlou', /^Votre commande/],
      ["c'est tout", /^À quel nom/],
      ['Hafsa', /^Quel numéro/],
      ['0612000444', /^Livraison à domicile/],
      ['retrait', /^Vous payez/],
      ['especes', /^Récapitulatif/],
    ]);
    const placed = await converse(c, [['oui', /^Merci ! Votre commande TIF-\d{6}/]]);
    const number = /TIF-\d{6}/.exec(placed)![0];
    for (const status of ['confirmed', 'shipped', 'delivered']) {
      const res = await fetch(`${server.url}/api/orders/${number}`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ status }) });
      expect(res.status).toBe(200);
    }
    const customer = await customerOf(c);
    const requestId = `${String(customer._id)}:delivered:${number}`;
    await waitFor(async () => Boolean(await ratingRequestModel(server.connection).exists({ _id: requestId })), 5000, 'the rating request');
    // Not before the delay; then sent, in the customer's language, on their channel.
    const status = async () => (await ratingRequestModel(server.connection).findById(requestId).lean())!.status;
    await server.ratings.runDue(new Date(Date.now() + HOUR));
    expect(await status()).toBe('due');
    await server.ratings.runDue(new Date(Date.now() + 3 * HOUR));
    expect(await status()).toBe('sent');
    expect((await lastOut(c)).text).toBe(`Votre commande ${number} est bien arrivée ? Quelle note donnez-vous à la coopérative, de 1 à 5 ? (Écrivez « stop » pour ne plus être sollicité.)`);
    expect(await ratingRequestModel(server.connection).findById(requestId).lean()).toMatchObject({ status: 'sent', products: ['amlou'] });
    // A second pass sends nothing more.
    const before = await messageModel(server.connection).countDocuments({ customer: customer._id });
    await server.ratings.runDue(new Date(Date.now() + 4 * HOUR));
    expect(await messageModel(server.connection).countDocuments({ customer: customer._id })).toBe(before);

    await converse(c, [
      ['👎', /^Voulez-vous ajouter un mot \?$/],
      ['oui', /^Je vous écoute/],
      ['Le pot était cassé', /^Je suis désolé que vous n'ayez pas été satisfait/],
    ]);
    const [rating] = await ratingsOf(c);
    expect(rating).toMatchObject({ score: 1, comment: 'Le pot était cassé', order: number, request: requestId, products: ['amlou'] });
    expect(await ratingRequestModel(server.connection).findById(requestId).lean()).toMatchObject({ status: 'answered' });
    await waitFor(() => coop.received.some((n) => n.event === 'rating.low'), 5000, 'the low-rating alert');
    const alert = coop.received.find((n) => n.event === 'rating.low')!;
    expect(alert.text).toBe(`Note basse : 1/5 de Hafsa (web), commande ${number}.\nCommentaire : « Le pot était cassé »\nConversation : ${server.url}/admin/customers/${String(customer._id)}`);
  });

  it('after an answered question: asked once the conversation is quiet; "stop" opts out for good', async () => {
    const c = await httpChat(server);
    await converse(c, [['bch7al zit argan dyal lmakla?', /180 MAD/]]);
    const customer = await customerOf(c);
    const day = new Date().toISOString().slice(0, 10);
    const requestId = `${String(customer._id)}:answered:${day}`;
    const request = async () => (await ratingRequestModel(server.connection).findById(requestId).lean())!;
    expect(await request()).toMatchObject({ status: 'due', occasion: 'answered', products: ['argan-oil-culinary'] });
    await server.ratings.runDue(new Date(Date.now() + 10 * 60_000));
    expect((await request()).status).toBe('due');
    await server.ratings.runDue(new Date(Date.now() + 31 * 60_000));
    expect((await request()).status).toBe('sent');
    expect((await lastOut(c)).text).toBe('إن شاء الله جاوبتك مزيان. شحال تعطي لهاد المحادثة من 1 حتى 5؟ (كتب «safi» إلا ما بغيتيش نعاودو نسولوك.)');
    await converse(c, [['safi', /^واخا: ما غاديش نعاود نسولك على رأيك\. شكرا!$/]]);
    expect(await customerModel(server.connection).findById(customer._id).lean()).toMatchObject({ ratingOptOut: true });
    // Another occasion later: never asked again.
    await dueRequest(customer, 'TIF-999998');
    await server.ratings.runDue(new Date(Date.now() + 40 * 24 * HOUR));
    expect(await ratingRequestModel(server.connection).findById(`${String(customer._id)}:delivered:TIF-999998`).lean()).toMatchObject({ status: 'skipped', reason: 'opt_out' });
  });

  it('no second request within the cool-down', async () => {
    const c = await httpChat(server);
    await converse(c, [['combien coûte le savon ?', /35 MAD/]]);
    const customer = await customerOf(c);
    await server.ratings.runDue(new Date(Date.now() + 31 * 60_000));
    expect(await ratingRequestModel(server.connection).findById(`${String(customer._id)}:answered:${new Date().toISOString().slice(0, 10)}`).lean()).toMatchObject({ status: 'sent' });
    await converse(c, [['5', /ajouter un mot/], ['non', /5\/5/]]);
    await dueRequest(customer, 'TIF-999997');
    await server.ratings.runDue(new Date(Date.now() + 10 * 24 * HOUR));
    expect(await ratingRequestModel(server.connection).findById(`${String(customer._id)}:delivered:TIF-999997`).lean()).toMatchObject({ status: 'skipped', reason: 'cooldown' });
  });

  it('a suggestion is thanked and kept, with the product it names', async () => {
    const c = await httpChat(server);
    await converse(c, [['ce serait bien d avoir de l amlou sans miel', /^Merci pour cette idée/]]);
    expect(await suggestionModel(server.connection).findOne({ customer: (await customerOf(c))._id }).lean()).toMatchObject({
      text: 'ce serait bien d avoir de l amlou sans miel',
      product: 'amlou',
      language: 'fr',
    });
  });
});
