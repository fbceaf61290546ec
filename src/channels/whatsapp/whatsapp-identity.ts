/** Who a WhatsApp customer is, as a webhook names them: their phone and/or their business-scoped user id. */
export interface WhatsAppIdentity {
  /** The phone number as WhatsApp gives it (`wa_id`, `from`): digits with the country code. */
  phone?: string;
  /** The business-scoped user id (BSUID), sent since 2026 and the only id of a customer who set a username. */
  bsuid?: string;
  /** WhatsApp Web's hidden id (the digits of `<digits>@lid`), the only id of a privacy-protected sender. */
  lid?: string;
  /** The BSUID of the business portfolio's parent (managed portfolios), kept for display. */
  parentBsuid?: string;
  username?: string;
  /** The WhatsApp profile name. */
  name?: string;
}

// A BSUID is a two-letter country code, a dot and up to 128 letters and digits ("CO.1047385771169864");
// a parent's has a part more ("MA.ENT.17354098145520934"). Meta may lengthen them: only the shape is checked.
const BSUID = /^[A-Z]{2}\.[A-Za-z0-9]+(\.[A-Za-z0-9]+)?$/;
const PHONE = /^\d{6,15}$/;

/** Whether `id` has the shape of a business-scoped user id. */
export function isBsuid(id: string): boolean {
  return id.length <= 140 && BSUID.test(id);
}

/** Whether `id` is a WhatsApp phone id (digits with the country code). */
export function isWhatsAppPhone(id: string): boolean {
  return PHONE.test(id);
}

/** The id the inbox orders a WhatsApp customer's events by: the BSUID, which a number change keeps, else the phone. */
export function senderOf(identity: WhatsAppIdentity): string | undefined {
  return identity.bsuid ?? identity.phone;
}
