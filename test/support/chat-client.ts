import WebSocket from 'ws';
import type { OutboundFrame } from '../../src/channels/web-chat/frames';

const WAIT_MS = 8000;

/**
 * A web chat visitor for tests, reading like botbuilder's TestAdapter:
 * `await chat.say('salam'); await chat.expectReply(/سميتك/)`. Frames are queued as they
 * arrive and awaited by event, never by sleeping.
 */
export class ChatClient {
  private readonly frames: OutboundFrame[] = [];
  private waiter: (() => void) | undefined;

  private constructor(
    readonly token: string,
    readonly user: string,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as OutboundFrame);
      this.waiter?.();
    });
  }

  /** Opens a chat as a new visitor, or as the visitor of `session`. */
  static async connect(baseUrl: string, session?: { token: string; user: string }): Promise<ChatClient> {
    const s = session ?? ((await (await fetch(`${baseUrl}/webchat/session`, { method: 'POST' })).json()) as { token: string; user: string });
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(s.token)}`);
    // Listen before the socket opens: the server sends the history frame at once.
    const client = new ChatClient(s.token, s.user, ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Sends a text message. */
  async say(text: string, payload?: string): Promise<this> {
    this.ws.send(JSON.stringify(payload ? { type: 'message', text, payload } : { type: 'message', text }));
    return this;
  }

  /** Sends a raw frame, well-formed or not. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** The next frame of the given type (others before it are skipped); fails after a few seconds. */
  async next<T extends OutboundFrame['type']>(type: T): Promise<Extract<OutboundFrame, { type: T }>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const index = this.frames.findIndex((f) => f.type === type);
      if (index >= 0) {
        const [frame] = this.frames.splice(0, index + 1).slice(-1);
        return frame as Extract<OutboundFrame, { type: T }>;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no "${type}" frame within ${WAIT_MS} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Waits for the bot's next message and checks its text. */
  async expectReply(pattern: RegExp | string): Promise<Extract<OutboundFrame, { type: 'message' }>> {
    const frame = await this.next('message');
    if (typeof pattern === 'string') expect(frame.text).toBe(pattern);
    else expect(frame.text).toMatch(pattern);
    return frame;
  }

  /** Closes the socket and waits for it to be closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
