/**
 * The conditions a `branch` may test: `vars.qty > 10`, `vars.confirmed == yes`,
 * `customer.name`, `not vars.phone`, `vars.product.id == "amlou"`. One comparison, no
 * arithmetic: what a non-programmer can read at a glance.
 */

export type Operand = { path: string[] } | { value: string | number | boolean };
export interface Condition {
  negate: boolean;
  left: Operand;
  op?: '==' | '!=' | '>' | '>=' | '<' | '<=';
  right?: Operand;
}

const TOKEN = /\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|==|!=|>=|<=|>|<|[^\s=!<>]+|[=!])/y;

/** Parses a condition, or returns what is wrong with it. */
export function parseCondition(text: string): Condition | { error: string } {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < text.length && (match = TOKEN.exec(text))) tokens.push(match[1]!);
  if (text.slice(TOKEN.lastIndex).trim()) return { error: `cannot read "${text}"` };
  let negate = false;
  if (tokens[0] === 'not') {
    negate = true;
    tokens.shift();
  }
  const [left, op, right, ...rest] = tokens;
  if (!left) return { error: 'the condition is empty' };
  if (rest.length > 0) return { error: `"${text}" has more than one comparison; use one, such as "vars.qty > 10"` };
  if (op === undefined) return { negate, left: operand(left) };
  if (!['==', '!=', '>', '>=', '<', '<='].includes(op)) return { error: `"${op}" is not a comparison; use == != > >= < <=` };
  if (right === undefined) return { error: `nothing to compare with after "${op}"` };
  return { negate, left: operand(left), op: op as Condition['op'], right: operand(right) };
}

function operand(token: string): Operand {
  if (/^["']/.test(token)) return { value: token.slice(1, -1).replace(/\\(.)/g, '$1') };
  if (/^-?\d+(\.\d+)?$/.test(token)) return { value: Number(token) };
  if (token === 'true' || token === 'yes') return { value: true };
  if (token === 'false' || token === 'no') return { value: false };
  if (/^(vars|customer)\.[\w.]+$/.test(token)) return { path: token.split('.') };
  return { value: token };
}

/** The paths a condition reads, for the validator. */
export function conditionPaths(condition: Condition): string[][] {
  return [condition.left, condition.right].flatMap((o) => (o && 'path' in o ? [o.path] : []));
}

/** Evaluates a parsed condition against the flow's view ({ vars, customer }). */
export function evaluateCondition(condition: Condition, view: Record<string, unknown>): boolean {
  const left = resolve(condition.left, view);
  let result: boolean;
  if (!condition.op || !condition.right) result = truthy(left);
  else {
    const right = resolve(condition.right, view);
    const [l, r] = typeof left === 'number' || typeof right === 'number' ? [Number(left), Number(right)] : [left, right];
    switch (condition.op) {
      case '==':
        result = equal(l, r);
        break;
      case '!=':
        result = !equal(l, r);
        break;
      case '>':
        result = (l as number) > (r as number);
        break;
      case '>=':
        result = (l as number) >= (r as number);
        break;
      case '<':
        result = (l as number) < (r as number);
        break;
      default:
        result = (l as number) <= (r as number);
    }
  }
  return condition.negate ? !result : result;
}

function resolve(o: Operand, view: Record<string, unknown>): unknown {
  if ('value' in o) return o.value;
  let node: unknown = view;
  for (const key of o.path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  // A product or choice answer compares by its id.
  if (node && typeof node === 'object' && 'id' in node) return (node as { id: unknown }).id;
  return node;
}

function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false && v !== '' && !(typeof v === 'number' && Number.isNaN(v));
}
