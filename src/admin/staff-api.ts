import { Router } from 'express';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { customerModel } from '../db/models/customer';
import { HttpError } from '../errors';
import type { StaffConversation } from '../handoff/staff-conversation';
import { exportCustomer } from '../privacy/customer-data';
import { customerIdParam } from './params';

const replyBody = z.object({ text: z.string().trim().min(1).max(2000) }).strict();


/**
 * The staff's API: GET /handoffs (customers waiting for a person), POST
 * /customers/:id/reply {text}, POST /customers/:id/handback, GET /customers/:id/export.
 */
export function staffApi(connection: Connection, staff: StaffConversation): Router {
  const router = Router();

  router.get('/handoffs', async (_req, res) => {
    const waiting = await customerModel(connection).find({ 'handoff.until': { $gt: new Date() } }, { name: 1, channel: 1, externalId: 1, phone: 1, handoff: 1 }).sort({ 'handoff.since': 1 }).lean();
    res.json({ items: waiting });
  });

  router.post('/customers/:id/reply', async (req, res) => {
    const id = customerIdParam(req);
    const body = replyBody.safeParse(req.body);
    if (!body.success) throw new HttpError(400, 'bad_body', 'send {"text": "the reply, 1 to 2000 characters"}');
    if (!(await customerModel(connection).exists({ _id: id }))) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(id)}"`);
    if (!(await staff.reply(id, body.data.text, 'api'))) throw new HttpError(502, 'not_delivered', "the customer's channel refused the message; see the server log");
    res.json({ sent: true });
  });

  router.post('/customers/:id/handback', async (req, res) => {
    const id = customerIdParam(req);
    if (!(await staff.giveBack(id))) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(id)}"`);
    res.json({ handedBack: true });
  });

  router.get('/customers/:id/export', async (req, res) => {
    const id = customerIdParam(req);
    const data = await exportCustomer(connection, id);
    if (!data) throw new HttpError(404, 'unknown_customer', `no customer has the id "${String(id)}"`);
    res.set('content-disposition', `attachment; filename="customer-${String(id)}.json"`).json(data);
  });

  return router;
}
