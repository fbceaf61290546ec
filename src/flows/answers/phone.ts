/**
 * A Moroccan phone number in any way customers write it — "06 12 34 56 78",
 * "0612-345-678", "+212 612345678", "00212612345678", "٠٦١٢٣٤٥٦٧٨" — as +212XXXXXXXXX.
 * Mobile (06, 07) and fixed (05) lines; anything else is undefined.
 */
export function normalizeMoroccanPhone(text: string): string | undefined {
  const digits = text
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[۰-۹]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[\s.\-()/]/g, '');
  const match = /^(?:(?:\+|00)212|212|0)([5-7]\d{8})$/.exec(digits);
  return match ? `+212${match[1]}` : undefined;
}
