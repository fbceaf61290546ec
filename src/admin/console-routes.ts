import express, { Router, type Request, type Response } from 'express';
import type { Connection } from 'mongoose';
import { customerModel } from '../db/models/customer';
import { messageModel } from '../db/models/message';
import { orderModel, ORDER_STATUSES, type OrderDoc, type OrderStatus } from '../db/models/order';
import { ratingModel } from '../db/models/rating';
import { HttpError } from '../errors';
import type { StaffConversation } from '../handoff/staff-conversation';
import type { Logger } from '../logger';
import type { OrderBook } from '../orders/order-book';
import { TRANSITIONS } from '../orders/order-status';
import { adminAuth, adminOf } from './admin-auth';
import type { Locales } from '../i18n/locales';
import { CONSOLE_LANGUAGES, ConsoleText, type ConsoleLanguage } from './console-text';
import { csrfField, escapeHtml as h, page } from './html';
import type { LoginLimiter } from './login-limiter';
import { verifyPassword } from './password';
import type { AdminSessions } from './sessions';
import { customerIdParam } from './params';
import type { VoiceStore } from '../voice/voice-store';

const SEARCH_LIMIT = 50;

/** The console's language: ?lang=, else the browser's, else French. */
function languageOf(req: Request): ConsoleLanguage {
  const asked = typeof req.query.lang === 'string' ? req.query.lang : (req.get('accept-language') ?? '').slice(0, 2);
  return (CONSOLE_LANGUAGES as readonly string[]).includes(asked) ? (asked as ConsoleLanguage) : 'fr';
}

const when = (d: Date | null | undefined) => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 16) : '');


/**
 * The staff console under /admin, for a phone first: sign-in, customers and search, one
 * customer's conversation with a reply box and "give back to the bot", the orders board,
 * and the state of the flows. Every page but the sign-in needs a session; every form
 * carries the session's CSRF token.
 */
export function consoleRoutes(options: {
  connection: Connection;
  sessions: AdminSessions;
  passwordHash: () => string;
  limiter: LoginLimiter;
  token: string | undefined;
  staff: StaffConversation;
  orders: OrderBook;
  flowsStatus: () => { liveSince: Date; lastReloadAt: Date; ok: boolean; problems: string[] };
  /** The live locales, whose `console.*` texts the pages use. */
  locales: () => Locales;
  /** The pages of other capabilities (the digest, WhatsApp Web), behind the same sign-in. */
  pages: Router[];
  /** Where voice notes' audio is kept, for the player. */
  voice?: VoiceStore;
  log: Logger;
}): Router {
  const router = Router();
  const forms = express.urlencoded({ extended: false, limit: '100kb' });
  const { connection, sessions } = options;
  const textOf = (req: Request) => new ConsoleText(options.locales(), languageOf(req));
  const t = (req: Request, key: string, n?: number) => textOf(req).t(key, n);
  const csrfOf = (req: Request) => {
    const who = adminOf(req);
    return who.via === 'session' ? who.session.csrf : '';
  };
  const send = (req: Request, res: Response, title: string, body: string) => res.type('html').send(page({ text: textOf(req), title, body, csrf: csrfOf(req) || 'token' }));

  router.get('/login', (req, res) => {
    const error = req.query.error === 'password' ? `<p class="error">${t(req, 'wrongPassword')}</p>` : typeof req.query.wait === 'string' ? `<p class="error">${t(req, 'tooMany', Number(req.query.wait))}</p>` : '';
    const next = typeof req.query.next === 'string' && req.query.next.startsWith('/admin') ? req.query.next : '/admin/customers';
    res.type('html').send(
      page({
        text: textOf(req),
        title: t(req, 'login'),
        body: `${error}<form method="post" action="/admin/login?lang=${languageOf(req)}" class="card"><input type="hidden" name="next" value="${h(next)}"><label>${t(req, 'password')}<br><input type="password" name="password" autocomplete="current-password" required autofocus></label> <button>${t(req, 'signIn')}</button></form>`,
      }),
    );
  });

  router.post('/login', forms, async (req, res) => {
    const address = req.ip ?? 'unknown';
    const lang = languageOf(req);
    // Only a console address, so that the sign-in cannot send anyone elsewhere.
    const next = typeof req.body?.next === 'string' && /^\/admin(\/[\w\-/?=&%.]*)?$/.test(req.body.next) ? req.body.next : '/admin/customers';
    const again = (problem: string) => `/admin/login?lang=${lang}&${problem}&next=${encodeURIComponent(next)}`;
    const wait = options.limiter.waitFor(address);
    if (wait > 0) {
      res.set('Retry-After', String(Math.ceil(wait / 1000)));
      return res.redirect(303, again(`wait=${Math.ceil(wait / 60_000)}`));
    }
    const password = typeof req.body?.password === 'string' ? req.body.password : '';
    if (!password || password.length > 200 || !(await verifyPassword(password, options.passwordHash()))) {
      options.limiter.failed(address);
      options.log.warn({ address }, 'console: wrong password');
      return res.redirect(303, again('error=password'));
    }
    options.limiter.succeeded(address);
    await sessions.open(res);
    res.redirect(303, next);
  });

  // Everything below needs a session (or, for programs, the admin token); forms are read
  // first, so that their CSRF field can be checked.
  router.use(forms, adminAuth({ token: options.token, sessions }));
  for (const pages of options.pages) router.use(pages);

  router.post('/logout', forms, async (req, res) => {
    await sessions.close(req, res);
    res.redirect(303, '/admin/login');
  });

  router.get('/', (req, res) => res.redirect(303, `/admin/customers?lang=${languageOf(req)}`));

  router.get('/customers', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const Customer = customerModel(connection);
    let customers;
    if (!q) customers = await Customer.find().sort({ lastSeenAt: -1 }).limit(SEARCH_LIMIT).lean();
    else {
      const pattern = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      const digits = q.replace(/\D/g, '');
      const byNumber = digits.length >= 4 ? [{ phone: new RegExp(digits.slice(-9)) }, { 'whatsapp.phone': new RegExp(digits.slice(-9)) }, { 'whatsapp.lid': new RegExp(digits) }] : [];
      const byProfile = await Customer.find({ $or: [{ name: pattern }, { 'whatsapp.profileName': pattern }, ...byNumber] }).limit(SEARCH_LIMIT).lean();
      const byText = await messageModel(connection).find({ text: pattern, direction: 'in' }, { customer: 1 }).limit(200).lean();
      const more = [...new Set(byText.map((m) => String(m.customer)))].filter((id) => !byProfile.some((c) => String(c._id) === id)).slice(0, SEARCH_LIMIT);
      customers = [...byProfile, ...(await Promise.all(more.map((id) => Customer.findById(id).lean()))).filter((c) => c !== null)];
    }
    const waitingFirst = [...customers].sort((a, b) => Number(Boolean(b.handoff)) - Number(Boolean(a.handoff)));
    const rows = waitingFirst
      .map(
        (c) =>
          `<tr><td><a href="/admin/customers/${c._id}?lang=${languageOf(req)}">${h(displayName(c))}</a>${c.handoff && (c.handoff.until ?? 0) > new Date() ? ` <span class="waiting">${t(req, 'waiting')}</span>` : ''}</td><td><span dir="ltr">${h(c.phone ?? '')}</span></td><td>${h(c.channel)}</td><td class="muted">${when(c.lastSeenAt)}</td></tr>`,
      )
      .join('');
    send(
      req,
      res,
      t(req, 'customers'),
      `<form class="row" method="get"><input type="hidden" name="lang" value="${languageOf(req)}"><input name="q" value="${h(q)}" placeholder="${t(req, 'search')}" maxlength="100"> <button>${t(req, 'find')}</button></form>` +
        (rows ? `<div class="scroll"><table><tr><th></th><th>${t(req, 'phone')}</th><th>${t(req, 'channel')}</th><th>${t(req, 'lastSeen')}</th></tr>${rows}</table></div>` : `<p class="muted">${t(req, 'noResults')}</p>`),
    );
  });

  router.get('/customers/:id', async (req, res) => {
    const id = customerIdParam(req);
    const customer = await customerModel(connection).findById(id).lean();
    if (!customer) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(id)}"`);
    // The same person on other channels (the same phone): one conversation, one list of orders.
    const sameOnOther = customer.phone ? await customerModel(connection).find({ phone: customer.phone, _id: { $ne: id } }).lean() : [];
    const everyone = [id, ...sameOnOther.map((c) => c._id)];
    const [messages, orders, ratings] = await Promise.all([
      messageModel(connection).find({ customer: { $in: everyone } }).sort({ at: -1, _id: -1 }).limit(200).lean(),
      orderModel(connection).find({ customer: { $in: everyone } }).sort({ createdAt: -1 }).lean<OrderDoc[]>(),
      ratingModel(connection).find({ customer: { $in: everyone } }).sort({ answeredAt: -1 }).lean(),
    ]);
    const lang = languageOf(req);
    const csrf = csrfOf(req);
    const notice = req.query.sent ? `<p class="notice">${t(req, 'sent')}</p>` : req.query.back ? `<p class="notice">${t(req, 'backToBot')}</p>` : req.query.failed ? `<p class="error">${t(req, 'failedSend')}</p>` : '';
    const waiting = Boolean(customer.handoff && (customer.handoff.until ?? 0) > new Date());
    const bubbles = [...messages]
      .reverse()
      .map((m) => {
        const who = m.direction === 'in' ? 'in' : m.flow === 'staff' || m.staff ? 'staff' : 'out';
        // What became of it after: the customer's reaction, their edits (the first wording shown), a deletion.
        const after = [
          m.reaction?.emoji ? `<span class="reaction" title="${t(req, 'reaction')}">${h(m.reaction.emoji)}</span>` : '',
          m.edits?.length ? `<small class="muted">${t(req, 'edited')} « <span dir="auto">${h(m.edits[0]!.text ?? '')}</span> »</small>` : '',
          m.deletedAt ? `<small class="muted">${t(req, 'deleted')} ${when(m.deletedAt)}</small>` : '',
        ].filter(Boolean);
        // A voice note: its player, what was heard, and whether it waits for someone to listen.
        const v = m.voice;
        const voice = v
          ? `<br>🎤 ${v.file ? `<audio controls preload="none" src="/admin/voice/${m._id}/audio"></audio>` : ''} <small class="muted">${v.seconds ? `${v.seconds} s · ` : ''}${h(textOf(req).word(`voice_${v.status}`))}</small>` +
            (v.waiting ? ` <form method="post" action="/admin/voice/${m._id}/listened?lang=${lang}" style="display:inline">${csrfField(csrf)}<button>${t(req, 'voiceListened')}</button></form>` : '') +
            (v.transcript && v.status !== 'heard' ? `<br><small>${t(req, 'voiceHeard')} « <span dir="auto">${h(v.transcript)}</span> »</small>` : '')
          : '';
        return `<div class="msg ${who}${m.deletedAt ? ' deleted' : ''}${v?.waiting ? ' waiting' : ''}"><small class="muted">${t(req, who === 'in' ? 'customer' : who === 'staff' ? 'staff' : 'bot')} · ${h(m.channel)} · ${when(m.at)}</small><br><span dir="auto">${h(m.text)}</span>${voice}${after.length ? `<br>${after.join(' ')}` : ''}</div>`;
      })
      .join('');
    send(
      req,
      res,
      displayName(customer),
      notice +
        `<div class="card"><div>${t(req, 'channel')}: ${h(customer.channel)} · ${t(req, 'phone')}: <span dir="ltr">${h(customer.phone ?? '—')}</span></div>` +
        whatsappIds((key) => t(req, key), customer.whatsapp) +
        referralLine((key) => t(req, key), customer.origin as Referral | undefined, customer.lastReferral as Referral | undefined) +
        (waiting ? `<p class="waiting">${t(req, 'waiting')} ${t(req, 'since')} ${when(customer.handoff!.since)} (${h(textOf(req).word(customer.handoff!.reason ?? ''))})</p>` : '') +
        (sameOnOther.length ? `<p>${t(req, 'otherChannels')}: ${sameOnOther.map((c) => `<a href="/admin/customers/${c._id}?lang=${lang}">${h(c.channel)}</a>`).join(', ')}</p>` : '') +
        `<a href="/api/customers/${id}/export">${t(req, 'exportData')}</a></div>` +
        `<h2>${t(req, 'history')}</h2><div class="card" id="history">${bubbles}</div>` +
        `<form method="post" action="/admin/customers/${id}/reply?lang=${lang}" class="card">${csrfField(csrf)}<label>${t(req, 'reply')}<br><textarea name="text" rows="3" maxlength="2000" required style="width:100%"></textarea></label><br><button>${t(req, 'send')}</button></form>` +
        (waiting ? `<form method="post" action="/admin/customers/${id}/handback?lang=${lang}">${csrfField(csrf)}<button>${t(req, 'giveBack')}</button></form>` : '') +
        `<h2>${t(req, 'orders')}</h2>${orders.length ? orders.map((o) => `<div class="card"><b>${h(o._id)}</b> · ${h(textOf(req).word(o.status))} · ${o.total} ${h(o.currency)} · ${when(o.createdAt)}</div>`).join('') : `<p class="muted">${t(req, 'none')}</p>`}` +
        `<h2>${t(req, 'ratings')}</h2>${ratings.length ? ratings.map((r) => `<div class="card">${r.score}/5 ${r.comment ? `« ${h(r.comment)} »` : ''} <span class="muted">${when(r.answeredAt)}</span></div>`).join('') : `<p class="muted">${t(req, 'none')}</p>`}`,
    );
  });

  router.post('/customers/:id/reply', forms, async (req, res) => {
    const id = customerIdParam(req);
    const text = typeof req.body?.text === 'string' ? req.body.text.trim() : '';
    if (!text || text.length > 2000) throw new HttpError(400, 'bad_text', 'the reply must be 1 to 2000 characters');
    const sent = await options.staff.reply(id, text, 'console');
    res.redirect(303, `/admin/customers/${id}?lang=${languageOf(req)}&${sent ? 'sent' : 'failed'}=1`);
  });

  router.post('/customers/:id/handback', forms, async (req, res) => {
    const id = customerIdParam(req);
    if (!(await options.staff.giveBack(id))) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(id)}"`);
    res.redirect(303, `/admin/customers/${id}?lang=${languageOf(req)}&back=1`);
  });

  // Voice notes the bot could not hear, newest first, until someone of the cooperative listened.
  router.get('/voice', async (req, res) => {
    const lang = languageOf(req);
    const waiting = await messageModel(connection).find({ 'voice.waiting': true }).sort({ at: -1 }).limit(200).lean();
    const names = new Map((await customerModel(connection).find({ _id: { $in: [...new Set(waiting.map((m) => String(m.customer)))] } }).lean()).map((c) => [String(c._id), displayName(c)]));
    const rows = waiting.map(
      (m) =>
        `<div class="card"><a href="/admin/customers/${m.customer}?lang=${lang}">${h(names.get(String(m.customer)) ?? String(m.customer))}</a> · ${h(m.channel)} · ${when(m.at)}<br>🎤 ${m.voice?.file ? `<audio controls preload="none" src="/admin/voice/${m._id}/audio"></audio>` : ''} <small class="muted">${h(textOf(req).word(`voice_${m.voice?.status ?? ''}`))}</small>` +
        ` <form method="post" action="/admin/voice/${m._id}/listened?lang=${lang}&list=1" style="display:inline">${csrfField(csrfOf(req))}<button>${t(req, 'voiceListened')}</button></form></div>`,
    );
    send(req, res, t(req, 'voiceNotes'), rows.length ? rows.join('') : `<p class="muted">${t(req, 'none')}</p>`);
  });

  router.get('/voice/:id/audio', async (req, res) => {
    const id = customerIdParam(req);
    const m = await messageModel(connection).findById(id, { voice: 1 }).lean();
    if (!m?.voice?.file || !options.voice) throw new HttpError(404, 'unknown_voice_note', `no voice note is kept for message ${String(id)}`);
    res.type(m.voice.mime?.split(';')[0] ?? 'audio/ogg').sendFile(options.voice.absolute(m.voice.file), (err) => {
      if (err && !res.headersSent) res.status(404).json({ error: 'voice_file_gone', message: 'the audio file is gone (erased or past the retention)' });
    });
  });

  router.post('/voice/:id/listened', forms, async (req, res) => {
    const id = customerIdParam(req);
    const m = await messageModel(connection).findOneAndUpdate({ _id: id, 'voice.waiting': true }, { $set: { 'voice.waiting': false, 'voice.heardBy': 'staff' } }, { projection: { customer: 1 } }).lean();
    const back = req.query.list ? '/admin/voice' : m ? `/admin/customers/${m.customer}` : '/admin/voice';
    res.redirect(303, `${back}?lang=${languageOf(req)}`);
  });

  router.get('/orders', async (req, res) => {
    const status = typeof req.query.status === 'string' && (ORDER_STATUSES as readonly string[]).includes(req.query.status) ? (req.query.status as OrderStatus) : undefined;
    const orders = await orderModel(connection).find(status ? { status } : {}).sort({ createdAt: -1 }).limit(100).lean<OrderDoc[]>();
    const lang = languageOf(req);
    const csrf = csrfOf(req);
    const filters = [
      `<a href="/admin/orders?lang=${lang}">${t(req, 'all')}</a>`,
      ...ORDER_STATUSES.map((s) => `<a href="/admin/orders?lang=${lang}&status=${s}">${s === status ? `<b>${textOf(req).word(s)}</b>` : textOf(req).word(s)}</a>`),
    ].join(' · ');
    const cards = orders
      .map((o) => {
        const next = TRANSITIONS[o.status];
        const change = next.length
          ? `<form method="post" action="/admin/orders/${h(o._id)}/status?lang=${lang}" class="row">${csrfField(csrf)}<select name="status">${next.map((s) => `<option value="${s}">${textOf(req).word(s)}</option>`).join('')}</select><input name="note" placeholder="${t(req, 'note')}" maxlength="500"><button>${t(req, 'change')}</button></form>`
          : '';
        const where = o.delivery.mode === 'pickup' ? textOf(req).word('pickup') : `${o.delivery.address}, ${o.delivery.city}`;
        // A shared location: where the courier goes, on a map.
        const spot = o.delivery.location;
        const map = spot ? ` <a href="https://maps.google.com/?q=${Number(spot.latitude)},${Number(spot.longitude)}" target="_blank" rel="noopener">${t(req, 'map')}</a>` : '';
        return `<div class="card" id="order-${h(o._id)}"><b>${h(o._id)}</b> · <span class="status" data-status="${o.status}">${h(textOf(req).word(o.status))}</span> · ${o.total} ${h(o.currency)} (${h(textOf(req).word(o.payment))})<br><span class="muted">${h(o.name ?? '')} <span dir="ltr">${h(o.phone)}</span> · ${h(o.channel)} · ${when(o.createdAt)}</span><br>${h(where)}${map}<br>${o.lines.map((l) => `${l.quantity} × ${h(l.name)}`).join(', ')}${change}</div>`;
      })
      .join('');
    send(req, res, t(req, 'orders'), `${req.query.changed ? `<p class="notice">${t(req, 'statusChanged')}</p>` : ''}<p>${filters}</p>${cards || `<p class="muted">${t(req, 'none')}</p>`}`);
  });

  router.post('/orders/:number/status', forms, async (req, res) => {
    const number = String(req.params.number);
    const status = String(req.body?.status ?? '');
    if (!(ORDER_STATUSES as readonly string[]).includes(status)) throw new HttpError(400, 'bad_status', `status must be one of ${ORDER_STATUSES.join(', ')}`);
    const note = typeof req.body?.note === 'string' && req.body.note.trim() ? req.body.note.trim().slice(0, 500) : null;
    const result = await options.orders.changeStatus(number, status as OrderStatus, note, 'console');
    if (!result.ok && result.reason === 'not_found') throw new HttpError(404, 'unknown_order', `no order has the number "${number}"`);
    if (!result.ok) throw new HttpError(409, 'invalid_transition', `order ${number} is ${result.status}: it can go to ${result.allowed.join(' or ') || 'nothing else'}`, { allowed: result.allowed });
    res.redirect(303, `/admin/orders?lang=${languageOf(req)}&changed=1#order-${encodeURIComponent(number)}`);
  });

  router.get('/flows', (req, res) => {
    const s = options.flowsStatus();
    send(
      req,
      res,
      t(req, 'flows'),
      `<div class="card">${t(req, 'liveSince')}: ${when(s.liveSince)}<br>${t(req, 'lastReload')}: ${when(s.lastReloadAt)} — ${s.ok ? t(req, 'reloadOk') : `<span class="waiting">${t(req, 'reloadFailed')}</span>`}</div>` +
        `<h2>${t(req, 'problems')}</h2>${s.problems.length ? `<ul>${s.problems.map((p) => `<li><code>${h(p)}</code></li>`).join('')}</ul>` : `<p class="muted">${t(req, 'none')}</p>`}`,
    );
  });

  return router;
}

/** A referral as the channels keep it on the customer (src/channels/notices.ts). */
interface Referral {
  source?: string;
  ref?: string;
  adId?: string;
  sourceUrl?: string;
  headline?: string;
  channel?: string;
  at?: Date;
}

/** How WhatsApp names the customer: phone, BSUID, username, profile name (those known). */
function whatsappIds(t: (key: string) => string, w: { phone?: string | null; bsuid?: string | null; lid?: string | null; username?: string | null; profileName?: string | null } | null | undefined): string {
  if (!w) return '';
  const parts = [
    w.phone ? `<span dir="ltr">+${h(w.phone)}</span>` : '',
    w.bsuid ? `${t('userId')} <code>${h(w.bsuid)}</code>` : '',
    w.lid ? `${t('hiddenId')} <code>${h(w.lid)}@lid</code>` : '',
    w.username ? `${t('username')} <b dir="ltr">@${h(w.username)}</b>` : '',
    w.profileName ? `${t('profileName')} « <span dir="auto">${h(w.profileName)}</span> »` : '',
  ].filter(Boolean);
  return parts.length ? `<div>${t('whatsappIds')}: ${parts.join(' · ')}</div>` : '';
}

/** What the staff call a customer: the name they gave, else their WhatsApp profile name, else the id they came with. */
function displayName(c: { name?: string | null; externalId: string; whatsapp?: { profileName?: string | null } | null }): string {
  return c.name ?? c.whatsapp?.profileName ?? c.externalId;
}

/** Where the customer came from (their first referral) and, when another, the latest. */
function referralLine(t: (key: string) => string, origin: Referral | undefined, last: Referral | undefined): string {
  if (!origin) return '';
  const describe = (r: Referral) => [r.source, r.ref, r.adId ? `ad ${r.adId}` : '', r.headline ? `« ${r.headline} »` : '', r.sourceUrl].filter(Boolean).map((x) => h(String(x))).join(' · ');
  const again = last && describe(last) !== describe(origin) ? ` (${t('lastCameFrom')}: ${describe(last)})` : '';
  return `<div>${t('cameFrom')}: ${describe(origin)}${again}</div>`;
}
