import type { Request } from 'express';
import { isValidObjectId, Types } from 'mongoose';
import { HttpError } from '../errors';

/** The customer id of a route's `:id`, or a 404 that says what was wrong. */
export function customerIdParam(req: Request): Types.ObjectId {
  const id = String(req.params.id ?? '');
  if (!isValidObjectId(id) || !/^[0-9a-f]{24}$/i.test(id)) throw new HttpError(404, 'unknown_customer', `no customer has the id ${JSON.stringify(id)}`);
  return new Types.ObjectId(id);
}
