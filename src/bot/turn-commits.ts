import type { TurnContext } from 'botbuilder';
import type { Botkit } from 'botkit';
import type { TurnStore } from '../db/mongo-storage';

/** Botkit keeps its conversation state private; a turn's commit needs its key and the state the turn left. */
interface ConversationStateInternals {
  conversationState: {
    getStorageKey(context: TurnContext): string | undefined;
    get(context: TurnContext): Record<string, unknown> | undefined;
  };
}

/**
 * How a turn of a channel that redelivers (the inbox's) is applied exactly once. The turn
 * writes no conversation state while it runs; at its end its state, its event and its
 * journal (the replies and message records, built by the adapter) are committed in one
 * insert, as the version after the one the turn read. That version remembers the event, so
 * a replay of it (a retry, a redelivery, a restart after a crash) is known before anything
 * runs, and only finishes what the journal says is left: sending and storing.
 */
export class TurnCommits {
  constructor(
    private readonly controller: Botkit,
    private readonly store: TurnStore,
  ) {}

  private keyOf(context: TurnContext): string {
    const key = (this.controller as unknown as ConversationStateInternals).conversationState.getStorageKey(context);
    if (!key) throw new Error('a turn without a conversation key cannot be committed');
    return key;
  }

  /** The version that applied `event` already, known once the turn read its state; undefined for a first application. */
  appliedVersion(context: TurnContext, event: string): number | undefined {
    return this.store.appliedAt(this.keyOf(context), event);
  }

  /**
   * Commits the turn's state with its event and journal; TurnConflictError when another
   * writer advanced the conversation meanwhile. After an erasure (`forgotten`) the turn's
   * dialogs were deleted with the customer: the first version is written again, empty.
   */
  async commit(context: TurnContext, event: string, journal: string, forgotten: boolean): Promise<number> {
    const key = this.keyOf(context);
    const { eTag: _eTag, ...state } = (this.controller as unknown as ConversationStateInternals).conversationState.get(context) ?? {};
    return this.store.commit(key, forgotten ? null : state, forgotten ? 0 : this.store.versionOf(key), event, journal);
  }

  /** The journal a version's turn left, with how many of its messages went out. */
  turnAt(context: TurnContext, v: number): Promise<{ journal: string; sent: number } | null> {
    return this.store.turnAt(this.keyOf(context), v);
  }

  /** Records that `sent` of the messages of the turn at version `v` went out. */
  markSent(context: TurnContext, v: number, sent: number): Promise<void> {
    return this.store.markSent(this.keyOf(context), v, sent);
  }
}
