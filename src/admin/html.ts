import type { ConsoleText } from './console-text';

/** Text made safe inside HTML. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A hidden CSRF field for a form of the console. */
export const csrfField = (csrf: string) => `<input type="hidden" name="_csrf" value="${escapeHtml(csrf)}">`;

const STYLE = `*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Tahoma,sans-serif;margin:0;background:#fafaf7;color:#1f2a1f;line-height:1.4}
header{background:#2e7d32;color:#fff;padding:.6rem 1rem}header a{color:#fff;margin-inline-end:.8rem;text-decoration:none;font-weight:600}header form{display:inline}
header button{background:none;border:1px solid #fff8;color:#fff;border-radius:6px;padding:.2rem .5rem}main{max-width:720px;margin:0 auto;padding:1rem}
input,select,textarea,button{font:inherit;padding:.45rem;border-radius:6px;border:1px solid #bbb}button{background:#2e7d32;color:#fff;border:0;cursor:pointer}
.card{background:#fff;border-radius:10px;padding:.8rem;margin:.6rem 0;box-shadow:0 1px 2px #0001}.muted{color:#667}.waiting{color:#c62828;font-weight:600}
.msg{padding:.4rem .6rem;border-radius:8px;margin:.3rem 0;max-width:85%;white-space:pre-wrap}.in{background:#eee}.out{background:#e3f2e4;margin-inline-start:auto}.staff{background:#fff3c4;margin-inline-start:auto}
.scroll{overflow-x:auto}td{word-break:break-word}.row{display:flex;gap:.4rem;flex-wrap:wrap;align-items:center}table{width:100%;border-collapse:collapse}td,th{padding:.3rem;border-bottom:1px solid #eee;text-align:start}.notice{background:#e3f2e4;padding:.5rem;border-radius:6px}.error{background:#fde8e8;padding:.5rem;border-radius:6px}`;

/** A console page: the menu (when signed in), the language's direction, the body. */
export function page(options: { text: ConsoleText; title: string; body: string; csrf?: string }): string {
  const t = (k: string) => options.text.t(k);
  const lang = options.text.lang;
  const nav = options.csrf
    ? `<header><a href="/admin/customers?lang=${lang}">${t('customers')}</a><a href="/admin/orders?lang=${lang}">${t('orders')}</a><a href="/admin/voice?lang=${lang}">${t('voiceNotes')}</a><a href="/admin/digest?lang=${lang}">${t('digest')}</a><a href="/admin/flows?lang=${lang}">${t('flows')}</a>` +
      `<form method="post" action="/admin/logout">${csrfField(options.csrf)}<button>${t('signOut')}</button></form></header>`
    : `<header>${t('console')}</header>`;
  return `<!doctype html><html lang="${lang}" dir="${lang === 'ar' ? 'rtl' : 'ltr'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)} — Taawun</title><style>${STYLE}</style></head><body>${nav}<main><h1>${escapeHtml(options.title)}</h1>${options.body}</main></body></html>`;
}
