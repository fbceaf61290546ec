import { Router } from 'express';
import type { Language } from '../config';
import type { Locales } from '../i18n/locales';

/**
 * /admin/digest: the digest on a phone, in French, Arabic (right to left) or English, with
 * bar charts drawn as SVG. The page holds no data: it reads GET /api/digest with the
 * console's session (or an admin token typed in, kept for the browser session).
 */
const PAGE = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Taawun — digest</title>
<style>
:root{--ink:#1f2a1f;--muted:#667;--accent:#2e7d32;--low:#c62828;--bg:#fafaf7}
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Tahoma,sans-serif;color:var(--ink);background:var(--bg);max-width:560px;margin:0 auto;padding:1rem;line-height:1.4}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.kpis{display:grid;grid-template-columns:repeat(2,1fr);gap:.6rem}.kpi{background:#fff;border-radius:10px;padding:.7rem;box-shadow:0 1px 2px #0001}
.kpi b{display:block;font-size:1.5rem}.kpi small{color:var(--muted)}.up{color:var(--accent)}.down{color:var(--low)}
ul{padding-inline-start:1.1rem;margin:.3rem 0}li{margin:.25rem 0}.muted{color:var(--muted)}
form.period{display:flex;gap:.4rem;flex-wrap:wrap;align-items:end;margin:.6rem 0}form.period label{font-size:.85rem}input,button,select{font:inherit;padding:.4rem}
svg{width:100%;height:auto;display:block}.bar{fill:var(--accent)}.bar.low{fill:var(--low)}svg text{font-size:12px;fill:var(--ink)}
</style></head><body>
<nav><a href="/admin/customers">← Taawun</a></nav>
<header><h1 id="title">…</h1><p id="subtitle" class="muted"></p>
<form class="period" id="period"><label><span data-t="from"></span><br><input type="date" id="from"></label><label><span data-t="to"></span><br><input type="date" id="to"></label>
<select id="lang"><option value="fr">Français</option><option value="ar">العربية</option><option value="en">English</option></select><button data-t="show"></button></form></header>
<form id="login" hidden><p data-t="token"></p><input id="token" type="password" autocomplete="off"> <button>OK</button></form>
<main id="main"></main>
<script>
const T = __TEXTS__;
const params = new URLSearchParams(location.search);
let lang = params.get('lang') || (navigator.language || 'fr').slice(0, 2);
if (!T[lang]) lang = 'fr';
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const pct = (x) => (x === null || x === undefined ? '—' : Math.round(x * 100) + ' %');
function applyLang() {
  document.documentElement.lang = lang; document.documentElement.dir = lang === 'ar' ? 'rtl' : 'ltr'; $('lang').value = lang;
  document.querySelectorAll('[data-t]').forEach((el) => (el.textContent = T[lang][el.dataset.t]));
}
/** Horizontal bars: [label, value, note, low?] rows, scaled to the largest value. */
function bars(rows, max) {
  if (!rows.length) return '<p class="muted">' + T[lang].none + '</p>';
  // Charts read left to right in every language (an Arabic page flips text, not axes).
  const top = max || Math.max(...rows.map((r) => r[1]), 1), h = 26;
  const body = rows.map((r, i) => {
    const w = Math.max(2, Math.round((r[1] / top) * 190)), y = i * h;
    return '<text x="5" y="' + (y + 17) + '">' + esc(r[0]) + '</text>' +
      '<rect class="bar' + (r[3] ? ' low' : '') + '" x="120" y="' + (y + 5) + '" width="' + w + '" height="16" rx="3"></rect>' +
      '<text x="' + (120 + w + 5) + '" y="' + (y + 17) + '">' + esc(r[2]) + '</text>';
  }).join('');
  return '<svg viewBox="0 0 400 ' + rows.length * h + '" role="img" direction="ltr" style="direction:ltr">' + body + '</svg>';
}
function render(d) {
  const t = T[lang], c = d.csat, trend = c.trend === null ? '' : '<small class="' + (c.trend >= 0 ? 'up' : 'down') + '">' + (c.trend > 0 ? '▲ +' : c.trend < 0 ? '▼ ' : '') + c.trend + ' ' + t.vsPrev + '</small>';
  $('title').textContent = t.title; $('subtitle').textContent = d.period.from + ' → ' + d.period.to;
  const list = (items, f) => (items.length ? '<ul>' + items.map((x) => '<li>' + f(x) + '</li>').join('') + '</ul>' : '<p class="muted">' + t.none + '</p>');
  $('main').innerHTML =
    '<section class="kpis">' +
    '<div class="kpi" id="kpi-csat"><small>' + t.csat + '</small><b>' + (c.average ?? '—') + '/5</b><small>' + c.count + ' ' + t.ratings + '</small> ' + trend + '</div>' +
    '<div class="kpi"><small>' + t.response + '</small><b>' + pct(c.requests.responseRate) + '</b><small>' + c.requests.answered + ' / ' + c.requests.sent + '</small></div>' +
    '<div class="kpi"><small>' + t.orders + '</small><b>' + d.orders.count + '</b><small>' + d.orders.revenue + ' ' + esc(d.orders.currency) + (d.orders.cancelled ? ' · ' + d.orders.cancelled + ' ' + t.cancelled : '') + '</small></div>' +
    '<div class="kpi"><small>' + t.repeat + '</small><b>' + pct(d.repeatCustomers.share) + '</b><small>' + d.repeatCustomers.repeat + ' / ' + d.repeatCustomers.customers + '</small></div>' +
    '<div class="kpi"><small>' + t.top + '</small><b>' + pct(d.topCustomers.share) + '</b><small>' + t.topShare + '</small></div>' +
    '</section>' +
    '<h2>' + t.dist + '</h2><div id="chart-distribution">' + bars(['5', '4', '3', '2', '1'].map((s) => [s + ' ★', c.distribution[s], String(c.distribution[s]), Number(s) <= 2])) + '</div>' +
    '<h2>' + t.byProduct + '</h2>' + bars(d.byProduct.map((p) => [p.name, p.average, p.average + '/5 (' + p.count + ')', p.average <= 2]), 5) +
    '<h2>' + t.byChannel + '</h2>' + bars(d.byChannel.map((x) => [x.channel, x.average, x.average + '/5 (' + x.count + ')', x.average <= 2]), 5) +
    '<h2>' + t.low + '</h2>' + list(d.lowRatings, (r) => '<b>' + r.score + '/5</b> ' + esc(r.name || '') + ' <span class="muted">(' + esc(r.channel) + (r.order ? ', ' + esc(r.order) : '') + ')</span>' + (r.comment ? ' — « ' + esc(r.comment) + ' »' : '')) +
    '<h2>' + t.suggestions + '</h2>' + list(d.suggestions, (s) => esc(s.text) + (s.product ? ' <span class="muted">(' + esc(s.product) + ')</span>' : '')) +
    '<h2>' + t.unanswered + '</h2>' + list(d.unanswered, (q) => esc(q.text) + ' <span class="muted">× ' + q.count + '</span>') +
    '<h2>' + t.referrals + '</h2>' + list(d.referrals || [], (r) => esc(r.source) + ' <span class="muted">(' + esc(r.channel) + ') × ' + r.count + '</span>');
}
async function load() {
  applyLang();
  // Signed in to the console, the session cookie is enough; a token typed here also works.
  const token = sessionStorage.getItem('taawun.admin');
  const q = new URLSearchParams(); if ($('from').value && $('to').value) { q.set('from', $('from').value); q.set('to', $('to').value); }
  const res = await fetch('/api/digest?' + q, { headers: token ? { authorization: 'Bearer ' + token } : {} }).catch((e) => ({ ok: false, status: 0, json: async () => ({ message: e.message }) }));
  if (res.status === 401) { sessionStorage.removeItem('taawun.admin'); $('login').hidden = false; return; }
  const body = await res.json();
  if (!res.ok) { $('main').innerHTML = '<p class="down">' + T[lang].error + esc(body.message) + '</p>'; return; }
  $('from').value = body.period.from; $('to').value = body.period.to;
  render(body);
}
$('from').value = params.get('from') || ''; $('to').value = params.get('to') || '';
$('login').onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('taawun.admin', $('token').value); $('login').hidden = true; load(); };
$('period').onsubmit = (e) => { e.preventDefault(); load(); };
$('lang').onchange = () => { lang = $('lang').value; load(); };
load();
</script></body></html>`;

const KEYS = ['title', 'from', 'to', 'show', 'token', 'csat', 'ratings', 'response', 'orders', 'revenue', 'repeat', 'top', 'topShare', 'vsPrev', 'dist', 'byProduct', 'byChannel', 'low', 'suggestions', 'unanswered', 'none', 'cancelled', 'error', 'referrals'];

/** GET /digest, mounted under the console's /admin (its data comes from GET /api/digest); its words come from the locales' `digest_page.*`. */
export function digestPage(locales: () => Locales): Router {
  const router = Router();
  router.get('/digest', (_req, res) => {
    const texts = Object.fromEntries(['fr', 'ar', 'en'].map((lang) => [lang, Object.fromEntries(KEYS.map((k) => [k, locales().text(lang as Language, `digest_page.${k}`)]))]));
    // Inside a <script>: "<" is escaped so that no text can close it.
    res.type('html').send(PAGE.replace('__TEXTS__', () => JSON.stringify(texts).replace(/</g, '\\u003c')));
  });
  return router;
}
