import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ActivityTypes, TurnContext, type Activity, type ConversationReference, type ResourceResponse } from 'botbuilder';
import { WebAdapter } from 'botbuilder-adapter-web';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../logger';
import type { Request, Response } from 'express';
import { activityToFrame, MAX_TEXT_LENGTH, parseInboundFrame, validateInbound, type InboundFrame, type OutboundFrame } from './frames';
import type { WebChatIdentities } from './identity';

/** The channel id of every web chat activity, websocket or HTTP: one id, so both reach the same dialog state. */
export const WEB_CHANNEL_ID = 'web';
// Where an HTTP turn collects its replies; a websocket turn has none.
const HTTP_REPLIES = Symbol('taawun.webchat.httpReplies');
const HEARTBEAT_MS = 30_000;

type TurnLogic = (context: TurnContext) => Promise<unknown>;

/**
 * botbuilder-adapter-web, with the identity taken from a server-signed token instead of
 * the `user` field the browser claims, several tabs per visitor, bounded frames, and quick
 * replies from botbuilder's suggested actions. Activities are shaped as the stock adapter's.
 */
export class WebChatAdapter extends WebAdapter {
  private readonly sockets = new Map<string, Set<WebSocket>>();
  private server: WebSocketServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private logic: TurnLogic | undefined;

  constructor(
    private readonly identities: WebChatIdentities,
    private readonly log: Logger,
    private readonly onConnect: (user: string, send: (frame: OutboundFrame) => void) => Promise<void>,
  ) {
    super();
  }

  /** Botkit calls this to start the stock socket server; ours is attached by the HTTP server instead. */
  override init(): void {}

  /** Accepts websocket connections on the HTTP server's upgrade requests to `path`. */
  override createSocketServer(_server: unknown, _options: unknown, logic: TurnLogic): void {
    this.logic = logic;
    this.server = new WebSocketServer({ noServer: true, maxPayload: MAX_TEXT_LENGTH * 4 + 1024 });
    this.server.on('connection', (ws: WebSocket, _req: IncomingMessage, user: string) => this.attach(ws, user, logic));
    this.heartbeat = setInterval(() => this.pingAll(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Handles an HTTP upgrade: a valid token opens the socket, anything else gets 401. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const server = this.server;
    const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
    const user = this.identities.verify(token);
    if (!server || !user) {
      this.log.info({ channel: 'web', reason: token ? 'bad token' : 'no token' }, 'web chat connection refused');
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nPOST /webchat/session for a token, then connect to /ws?token=…\n');
      return;
    }
    server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req, user));
  }

  /** Whether a visitor has an open socket. */
  override isConnected(user: string): boolean {
    return (this.sockets.get(user)?.size ?? 0) > 0;
  }

  /** Sends activities to every open socket of the recipient (a closed tab reads them from history later), or into the HTTP answer. */
  override async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    for (const activity of activities) {
      const frame = activityToFrame(activity);
      const user = activity.recipient?.id;
      if (!frame || !user) continue;
      const httpReplies = context.turnState.get(HTTP_REPLIES) as OutboundFrame[] | undefined;
      if (httpReplies) httpReplies.push(frame);
      else this.sendTo(user, frame);
    }
    return activities.map(() => ({ id: '' }));
  }

  /**
   * Botkit's webhook (POST /webchat/messages): the same conversation over plain HTTP for
   * front ends without websockets. The body is a message frame plus the session token;
   * the answer holds the bot's replies. Never rejects: Botkit would rethrow it unhandled.
   */
  override async processActivity(req: Request, res: Response): Promise<void> {
    try {
      const body = req.body as Record<string, unknown> | undefined;
      const user = this.identities.verify(body?.token);
      if (!user || !this.logic) {
        res.status(401).json({ error: 'unauthorized', message: 'send the "token" that POST /webchat/session gave' });
        return;
      }
      const frame = validateInbound(body);
      if ('error' in frame) {
        res.status(frame.error === 'too_long' ? 413 : 400).json({ error: frame.error, message: frame.message });
        return;
      }
      const context = new TurnContext(this, this.activityFor(user, frame));
      context.turnState.set(HTTP_REPLIES, []);
      const logic = this.logic;
      await this.runMiddleware(context, async (c) => void (await logic(c)));
      res.status(200).json({ messages: context.turnState.get(HTTP_REPLIES) });
    } catch (err) {
      this.log.error({ channel: 'web', err: (err as Error).message }, 'web chat webhook failed');
      if (!res.headersSent) res.status(500).json({ error: 'internal', message: 'internal error; see the server log' });
    }
  }

  /** Resumes a conversation outside a customer's turn, for example to notify them. */
  override async continueConversation(reference: Partial<ConversationReference>, logic: TurnLogic): Promise<void> {
    const request = TurnContext.applyConversationReference({ type: 'event', name: 'continueConversation' }, reference, true);
    await this.runMiddleware(new TurnContext(this, request), async (c) => void (await logic(c)));
  }

  /** Closes every socket and stops accepting new ones. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const set of this.sockets.values()) for (const ws of set) ws.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private attach(ws: WebSocket, user: string, logic: TurnLogic): void {
    const set = this.sockets.get(user) ?? new Set<WebSocket>();
    set.add(ws);
    this.sockets.set(user, set);
    (ws as WebSocket & { isAlive?: boolean }).isAlive = true;
    ws.on('pong', () => ((ws as WebSocket & { isAlive?: boolean }).isAlive = true));
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0) this.sockets.delete(user);
    });
    ws.on('error', (err) => this.log.warn({ channel: 'web', err: err.message }, 'web chat socket error'));
    ws.on('message', (data, isBinary) => this.receive(ws, user, isBinary ? null : data.toString(), logic));
    this.onConnect(user, (frame) => send(ws, frame)).catch((err: Error) =>
      this.log.error({ channel: 'web', err: err.message }, 'could not send the history on connect'),
    );
  }

  private receive(ws: WebSocket, user: string, raw: string | null, logic: TurnLogic): void {
    const frame = raw === null ? { error: 'bad_frame' as const, message: 'binary frames are not accepted; send JSON text' } : parseInboundFrame(raw);
    if ('error' in frame) {
      this.log.info({ channel: 'web', code: frame.error }, 'web chat frame dropped');
      send(ws, { type: 'error', code: frame.error, message: frame.message });
      return;
    }
    const activity = this.activityFor(user, frame);
    this.runMiddleware(new TurnContext(this, activity), async (c) => void (await logic(c))).catch((err: Error) =>
      this.log.error({ channel: 'web', err: err.message }, 'web chat turn failed'),
    );
  }

  /** An activity shaped as the stock adapter shapes it, but with `from` taken from the verified token. */
  private activityFor(user: string, frame: InboundFrame): Partial<Activity> {
    return {
      timestamp: new Date(),
      channelId: WEB_CHANNEL_ID,
      conversation: { id: user, isGroup: false, conversationType: 'personal', name: '' },
      from: { id: user, name: '' },
      recipient: { id: 'bot', name: 'bot' },
      channelData: frame,
      text: frame.text,
      value: frame.payload,
      type: ActivityTypes.Message,
    };
  }

  private sendTo(user: string, frame: OutboundFrame): void {
    for (const ws of this.sockets.get(user) ?? []) send(ws, frame);
  }

  private pingAll(): void {
    for (const set of this.sockets.values()) {
      for (const ws of set) {
        const live = ws as WebSocket & { isAlive?: boolean };
        if (live.isAlive === false) {
          ws.terminate();
          continue;
        }
        live.isAlive = false;
        ws.ping();
      }
    }
  }
}

function send(ws: WebSocket, frame: OutboundFrame): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
}
