import { Router } from 'express';
import type { Connection } from 'mongoose';
import { customerModel } from '../db/models/customer';
import { HttpError } from '../errors';
import { listMessages } from '../history/messages';
import { pageBody, parsePage } from './pagination';
import { customerIdParam } from './params';

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
    const customerId = customerIdParam(req);
    const page = parsePage(req);
    if (!(await Customer.exists({ _id: customerId }))) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(customerId)}"`);
    const { items, total } = await listMessages(connection, customerId, page);
    res.json(pageBody(items, total, page));
  });

  return router;
}
