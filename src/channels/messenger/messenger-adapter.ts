import type { ChannelEvent } from '../inbox';
import { fetchMedia } from '../../voice/fetch-media';
import type { VoiceSource } from '../../voice/voice-notes';
import type { Activity, TurnContext } from 'botbuilder';
import type { Connection } from 'mongoose';
import type { Logger } from '../../logger';
import type { GraphClient } from '../meta/graph-api';
import { customerIdOf } from '../../history/customers';
import { messagesByExternalId } from '../../history/message-refs';
import { messageModel } from '../../db/models/message';
import { laterThan, OutboxAdapter, type Delivered, type Resume } from '../outbox-adapter';
import type { MessengerStatus } from './messenger-events';
import { toSendApiMessages } from './send-api-messages';

/** The channel id of Messenger activities and customers. */
export const MESSENGER_CHANNEL = 'messenger';

/**
 * Messenger as a botbuilder adapter of ours (botkit's Facebook adapter checks only SHA-1,
 * swallows Send API errors and has a fixed Graph URL): replies through the Send API,
 * combined where Messenger allows, and no proactive message outside the 24-hour window.
 */
export class MessengerAdapter extends OutboxAdapter {
  constructor(
    private readonly graph: GraphClient,
    connection: Connection,
    log: Logger,
    logic: (context: TurnContext) => Promise<boolean>,
  ) {
    super(MESSENGER_CHANNEL, connection, log, logic);
  }

  /** A voice note's audio: Messenger gives its address on its CDN, fetched without the token. */
  override voiceSource(event: ChannelEvent): VoiceSource | undefined {
    const url = event.attachments?.find((a) => a.type === 'audio' && /^https?:\/\//.test(a.url ?? ''))?.url;
    return url ? (maxBytes) => fetchMedia(url, { maxBytes }) : undefined;
  }

  /** Keeps Messenger's delivery and read reports on the sent messages: those it names, or all sent to that customer up to its watermark. */
  async recordStatuses(statuses: MessengerStatus[]): Promise<void> {
    const Message = messageModel(this.connection);
    for (const s of statuses) {
      const delivery = { status: s.status, at: new Date(s.watermark || Date.now()) };
      const unchanged = { 'delivery.status': { $nin: laterThan(s.status) } };
      for (const mid of s.mids) {
        const ref = await messagesByExternalId(this.connection, MESSENGER_CHANNEL, mid);
        for (const id of ref?.messages ?? []) await Message.updateOne({ _id: id, ...unchanged }, { $set: { delivery } });
      }
      // A report that names its messages needs no watermark (which FerretDB answers with a scan of the messages).
      if (!s.watermark || s.mids.length > 0) continue;
      const customer = await customerIdOf(this.connection, MESSENGER_CHANNEL, s.sender);
      if (!customer) continue;
      await Message.updateMany({ customer, channel: MESSENGER_CHANNEL, direction: 'out', externalId: { $ne: null }, at: { $lte: new Date(s.watermark) }, ...unchanged }, { $set: { delivery } });
    }
  }

  protected async deliver(recipient: string, activities: Partial<Activity>[], proactive: boolean, inWindow: boolean, resume: Resume): Promise<Delivered[]> {
    if (proactive && !inWindow) {
      await this.recordError(recipient, 10, 'outside the 24-hour window: Messenger accepts no message until the customer writes again');
      return [];
    }
    const ids = activities.flatMap((a) => OutboxAdapter.messageIdOf(a));
    return this.sendEach(toSendApiMessages(activities), resume, async ({ message, numbered }, last) => {
      const res = (await this.graph.post('me/messages', { recipient: { id: recipient }, messaging_type: proactive ? 'UPDATE' : 'RESPONSE', message })) as { message_id?: string };
      // Combined texts share one platform message: the last one sent carries the stored ids.
      return { externalId: res.message_id, messageIds: last ? ids : [], ...(numbered ? { numbered } : {}) };
    });
  }
}
