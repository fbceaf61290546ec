import { evaluateCondition, parseCondition, type Condition } from '../../src/flows/conditions';

const view = { vars: { qty: 12, ok: true, no: false, city: 'Agadir', product: { id: 'amlou', stock: 0 } }, customer: { name: 'Sara' } };
const test = (text: string) => {
  const c = parseCondition(text);
  if ('error' in c) throw new Error(c.error);
  return evaluateCondition(c as Condition, view);
};

describe('branch conditions', () => {
  it.each([
    ['vars.qty > 10', true],
    ['vars.qty <= 10', false],
    ['vars.ok', true],
    ['vars.ok == yes', true],
    ['not vars.no', true],
    ['vars.missing', false],
    ['customer.name', true],
    ['vars.city == "agadir"', true],
    ["vars.city != 'Rabat'", true],
    ['vars.product == amlou', true],
    ['vars.product.stock > 0', false],
  ])('%s is %s', (text, expected) => {
    expect(test(text)).toBe(expected);
  });

  it.each([
    ['', 'the condition is empty'],
    ['vars.a = 1', '"=" is not a comparison; use == != > >= < <='],
    ['vars.a >', 'nothing to compare with after ">"'],
    ['vars.a > 1 and vars.b', '"vars.a > 1 and vars.b" has more than one comparison; use one, such as "vars.qty > 10"'],
  ])('refuses %j: %s', (text, error) => {
    expect(parseCondition(text)).toEqual({ error });
  });
});
