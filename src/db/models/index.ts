import type { Connection } from 'mongoose';
import { adminSessionModel } from './admin-session';
import { customerIdModel, customerModel } from './customer';
import { dialogStateModel } from './dialog-state';
import { digestDayModel } from './digest-day';
import { flowVersionModel } from './flow-version';
import { inboundEventModel, pendingEventModel } from './inbound-event';
import { leaseModel } from './lease';
import { messageModel } from './message';
import { messageRefModel } from './message-ref';
import { notificationModel } from './notification';
import { orderModel } from './order';
import { orderClaimModel } from './order-claim';
import { ratingModel } from './rating';
import { ratingQueueModel } from './rating-queue';
import { ratingRequestModel } from './rating-request';
import { settingModel } from './setting';
import { stockAlertModel } from './stock-alert';
import { suggestionModel } from './suggestion';
import { stockHeadModel, stockMovementModel } from './stock-movement';
import { unansweredModel } from './unanswered';

/** Registers every model on the connection, so their indexes can be built before the first request. */
export function registerModels(connection: Connection): void {
  customerModel(connection);
  customerIdModel(connection);
  messageModel(connection);
  messageRefModel(connection);
  dialogStateModel(connection);
  settingModel(connection);
  flowVersionModel(connection);
  unansweredModel(connection);
  ratingModel(connection);
  inboundEventModel(connection);
  pendingEventModel(connection);
  leaseModel(connection);
  orderModel(connection);
  orderClaimModel(connection);
  stockMovementModel(connection);
  stockHeadModel(connection);
  stockAlertModel(connection);
  ratingRequestModel(connection);
  ratingQueueModel(connection);
  suggestionModel(connection);
  notificationModel(connection);
  digestDayModel(connection);
  adminSessionModel(connection);
}
