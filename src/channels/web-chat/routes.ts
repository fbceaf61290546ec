import path from 'node:path';
import express, { Router } from 'express';
import { projectRoot } from '../../paths';
import type { WebChatIdentities } from './identity';

const PAGE_DIR = path.join(projectRoot, 'src', 'channels', 'web-chat', 'page');

/** The chat page at `/`, its assets under `/webchat/`, and POST /webchat/session, which issues an identity. */
export function webChatRoutes(identities: WebChatIdentities): Router {
  const router = Router();
  router.get('/', (_req, res) => res.sendFile(path.join(PAGE_DIR, 'index.html')));
  router.use('/webchat', express.static(PAGE_DIR, { index: false, maxAge: '1h' }));
  // Another site (the cooperative's own) may embed the chat: a session carries no cookie, so any origin may ask.
  router.options('/webchat/session', (_req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type' });
    res.sendStatus(204);
  });
  // Resumes the identity of a valid token, else issues a new one: the page asks on every
  // (re)connect, so a visitor keeps their history across server restarts.
  router.post('/webchat/session', (req, res) => {
    res.set('Access-Control-Allow-Origin', '*');
    const token = (req.body as { token?: unknown } | undefined)?.token;
    const user = identities.verify(token);
    if (user) res.status(200).json({ user, token });
    else res.status(201).json(identities.issue());
  });
  return router;
}
