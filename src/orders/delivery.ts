import type { OrderSettings } from '../catalog/catalog';
import { DamerauLevenshteinDistance } from 'natural/lib/natural/distance';
import { normalizeText } from '../nlu/normalize';

/** How an order reaches the customer: delivered to a city address, or picked up at the cooperative. */
export interface DeliveryChoice {
  mode: 'delivery' | 'pickup';
  city: string;
  address: string;
}

/** The zone a city is in ("Agadir" → "local"), forgiving case, accents and one typo; undefined for the other cities. */
export function zoneOf(settings: OrderSettings, city: string): string | undefined {
  const said = normalizeText(city);
  if (!said) return undefined;
  for (const zone of settings.delivery.zones) {
    for (const name of zone.cities.map(normalizeText)) {
      if (said === name || said.split(' ').includes(name)) return zone.name;
      if (name.length >= 5 && DamerauLevenshteinDistance(said, name) <= 1) return zone.name;
    }
  }
  return undefined;
}

/** The delivery fee of an order: by the city's zone, nothing for pick-up, nothing from the free threshold up. */
export function deliveryFee(settings: OrderSettings, delivery: Pick<DeliveryChoice, 'mode' | 'city'>, subtotal: number): { fee: number; zone: string } {
  if (delivery.mode === 'pickup') return { fee: 0, zone: 'pickup' };
  const zoneName = zoneOf(settings, delivery.city);
  const zone = settings.delivery.zones.find((z) => z.name === zoneName);
  const free = settings.delivery.free_from !== undefined && subtotal >= settings.delivery.free_from;
  return { fee: free ? 0 : (zone?.fee ?? settings.delivery.other_cities_fee), zone: zoneName ?? 'other' };
}
