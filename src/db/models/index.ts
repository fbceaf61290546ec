import type { Connection } from 'mongoose';
import { customerModel } from './customer';
import { dialogStateModel } from './dialog-state';
import { messageModel } from './message';
import { settingModel } from './setting';

/** Registers every model on the connection, so their indexes can be built before the first request. */
export function registerModels(connection: Connection): void {
  customerModel(connection);
  messageModel(connection);
  dialogStateModel(connection);
  settingModel(connection);
}
