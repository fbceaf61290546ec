import { Router } from 'express';
import { isValidObjectId, Types, type Connection } from 'mongoose';
import { customerModel } from '../db/models/customer';
import { HttpError } from '../errors';
import { listMessages } from '../history/messages';
import { pageBody, parsePage } from './pagination';

/** GET /customers (newest first) and GET /customers/:id/messages (oldest first), both paginated. */
export function customersApi(connection: Connection): Router {
  const router = Router();
  const Customer = customerModel(connection);

  router.get('/customers', async (req, res) => {
    const page = parsePage(req);
    const [items, total] = await Promise.all([
      Customer.find().sort({ firstSeenAt: -1, _id: -1 }).skip(page.offset).limit(page.limit).lean(),
      Customer.countDocuments(),
    ]);
    res.json(pageBody(items, total, page));
  });

  router.get('/customers/:id/messages', async (req, res) => {
    const id = req.params.id;
    if (!isValidObjectId(id) || !/^[0-9a-f]{24}$/i.test(id)) throw new HttpError(404, 'unknown_customer', `no customer has the id ${JSON.stringify(id)}`);
    const page = parsePage(req);
    const customerId = new Types.ObjectId(id);
    if (!(await Customer.exists({ _id: customerId }))) throw new HttpError(404, 'unknown_customer', `no customer has the id "${id}"`);
    const { items, total } = await listMessages(connection, customerId, page);
    res.json(pageBody(items, total, page));
  });

  return router;
}
