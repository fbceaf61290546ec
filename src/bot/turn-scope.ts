import { AsyncLocalStorage } from 'node:async_hooks';

/** Which turn some work belongs to: for a log line written far from it (an unhandled rejection). */
export interface TurnScope {
  channel: string;
  sender: string;
  event?: string;
  customer?: string;
}

const scope = new AsyncLocalStorage<TurnScope>();

/** Runs `work` as part of a turn; everything it starts, however far, knows the turn. */
export function inTurnScope<T>(turn: TurnScope, work: () => Promise<T>): Promise<T> {
  return scope.run(turn, work);
}

/** The turn the running code belongs to, if any. */
export function currentTurn(): TurnScope | undefined {
  return scope.getStore();
}
