import type { OrderStatus } from '../db/models/order';

/** Where an order may go from each status: the cooperative's path, with cancelling allowed until shipping. */
export const TRANSITIONS: Record<OrderStatus, OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  shipped: ['delivered'],
  delivered: [],
  cancelled: [],
};

/** Whether an order in `from` may move to `to`. */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Whether the customer may still cancel an order in this status. */
export function cancellable(status: OrderStatus): boolean {
  return canMove(status, 'cancelled');
}
