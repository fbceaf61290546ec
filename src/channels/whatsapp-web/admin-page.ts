import { Router } from 'express';
import type { WhatsAppWebChannel } from './whatsapp-web-channel';

const PAGE = `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Taawun — WhatsApp Web</title>
<style>body{font-family:system-ui,sans-serif;max-width:420px;margin:2rem auto;padding:0 1rem;text-align:center}#qr svg{width:100%;max-width:320px}input{width:100%;padding:.5rem;font:inherit}</style>
</head><body>
<h1>WhatsApp Web</h1>
<p id="state">…</p>
<div id="qr"></div>
<form id="login" hidden><p>Admin token (ADMIN_TOKEN):</p><input id="token" type="password" autocomplete="off"><button>OK</button></form>
<script>
const state = document.getElementById('state'), qr = document.getElementById('qr'), login = document.getElementById('login');
const labels = { starting: 'Démarrage…', qr: 'Scannez ce code avec le téléphone : WhatsApp > Appareils connectés.', authenticated: 'Session reconnue, connexion…', ready: 'Connecté.', disconnected: 'Déconnecté, reconnexion…', auth_failure: 'Session refusée : un nouveau code va s’afficher.' };
login.onsubmit = (e) => { e.preventDefault(); sessionStorage.setItem('taawun.admin', document.getElementById('token').value); login.hidden = true; poll(); };
async function poll() {
  // Signed in to the console, the session cookie is enough; a token typed here also works.
  const token = sessionStorage.getItem('taawun.admin');
  const res = await fetch('/api/whatsapp-web', { headers: token ? { authorization: 'Bearer ' + token } : {} }).catch(() => null);
  if (res && res.status === 401) { sessionStorage.removeItem('taawun.admin'); login.hidden = false; return; }
  if (res && res.ok) { const s = await res.json(); state.textContent = labels[s.state] || s.state; qr.innerHTML = s.qrSvg || ''; }
  setTimeout(poll, 3000);
}
poll();
</script></body></html>`;

/** The page (GET /whatsapp-web, mounted under the console's /admin) and its data (GET /whatsapp-web under /api). */
export function whatsappWebAdminRoutes(channel: WhatsAppWebChannel): { page: Router; api: Router } {
  const page = Router();
  page.get('/whatsapp-web', (_req, res) => res.type('html').send(PAGE));
  const api = Router();
  api.get('/whatsapp-web', async (_req, res) => {
    res.json({ state: channel.state, qrSvg: (await channel.qrSvg()) ?? null });
  });
  return { page, api };
}
