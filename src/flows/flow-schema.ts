import { z } from 'zod';
import { LANGUAGES } from '../config';

const identifier = z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be lower-case letters, digits and _ , starting with a letter');

/** A locale key ("order.ask_qty") or the text inline per language ({ fr: "…", ar: "…" }). */
const textRef = z.union([
  z.string().min(1),
  z
    .object(Object.fromEntries(LANGUAGES.map((l) => [l, z.string().min(1).optional()])) as Record<(typeof LANGUAGES)[number], z.ZodOptional<z.ZodString>>)
    .strict(),
]);

const perLanguageWords = z
  .object(Object.fromEntries(LANGUAGES.map((l) => [l, z.array(z.string().min(1)).optional()])) as Record<(typeof LANGUAGES)[number], z.ZodOptional<z.ZodArray<z.ZodString>>>)
  .strict();

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const ASK_TYPES = ['text', 'name', 'number', 'quantity', 'choice', 'yesno', 'phone', 'rating', 'product'] as const;

const common = { id: identifier.optional() };

const sayStep = z
  .object({
    ...common,
    say: textRef,
    buttons: z.array(z.object({ title: textRef, payload: z.string().min(1).max(256) }).strict()).max(13).optional(),
    // The catalog products the message is about ("all", ids, or "{{vars.product.id}}"): WhatsApp shows them from its catalog.
    products: z.union([z.literal('all'), z.array(z.string().min(1)).min(1).max(30)]).optional(),
  })
  .strict();

const askStep = z
  .object({
    ...common,
    ask: z.enum(ASK_TYPES),
    prompt: textRef,
    var: identifier,
    retry: textRef.optional(),
    max_retries: z.number().int().min(0).max(10).optional(),
    on_fail: z.string().min(1).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    max_length: z.number().int().min(1).max(4096).optional(),
    choices: z.array(z.object({ value: z.string().min(1), label: textRef, words: perLanguageWords.optional() }).strict()).min(2).max(13).optional(),
    // A product ask limited to the products of the order being taken (to remove one).
    in_cart: z.boolean().optional(),
    // A text ask that a shared location answers too: WhatsApp shows a "Send your location" button.
    location: z.boolean().optional(),
  })
  .strict();

const setStep = z.object({ ...common, set: z.record(z.string(), scalar) }).strict();

const branchStep = z
  .object({
    ...common,
    branch: z.array(z.union([z.object({ if: z.string().min(1), goto: z.string().min(1) }).strict(), z.object({ else: z.string().min(1) }).strict()])).min(1),
  })
  .strict();

const gotoStep = z.object({ ...common, goto: z.string().min(1) }).strict();
const doStep = z.object({ ...common, do: z.string().min(1), with: z.record(z.string(), scalar).optional(), var: identifier.optional() }).strict();
const endStep = z.union([z.literal('end'), z.object({ ...common, end: z.union([z.literal(true), z.null()]) }).strict()]);

export const STEP_KINDS = ['say', 'ask', 'set', 'branch', 'goto', 'do', 'end'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const stepSchemas = { say: sayStep, ask: askStep, set: setStep, branch: branchStep, goto: gotoStep, do: doStep, end: endStep } as const;

/** The schema of one step, chosen by which kind key it has; `undefined` when it has none or several. */
export function stepSchemaFor(raw: unknown): { kind: StepKind; schema: z.ZodType } | { error: string } {
  if (raw === 'end') return { kind: 'end', schema: endStep };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { error: `a step is a mapping with one of ${STEP_KINDS.join(', ')}` };
  const kinds = STEP_KINDS.filter((k) => k in raw);
  if (kinds.length === 0) return { error: `the step has none of ${STEP_KINDS.join(', ')}` };
  if (kinds.length > 1) return { error: `the step has ${kinds.join(' and ')}; a step does one thing` };
  const kind = kinds[0]!;
  return { kind, schema: stepSchemas[kind] };
}

export const flowSchema = z
  .object({
    id: identifier,
    description: z.string().optional(),
    // Its triggers act even in the middle of another flow, or while a person has the conversation.
    interrupt: z.boolean().optional(),
    triggers: z
      .object({
        intents: z.array(z.string().min(1)).optional(),
        keywords: perLanguageWords.optional(),
        payloads: z.array(z.string().min(1)).optional(),
      })
      .strict()
      .optional(),
    steps: z.array(z.unknown()).min(1),
  })
  .strict();

export type TextRef = z.infer<typeof textRef>;
export type SayStep = z.infer<typeof sayStep>;
export type AskStep = z.infer<typeof askStep>;
export type SetStep = z.infer<typeof setStep>;
export type BranchStep = z.infer<typeof branchStep>;
export type GotoStep = z.infer<typeof gotoStep>;
export type DoStep = z.infer<typeof doStep>;
export type AskType = (typeof ASK_TYPES)[number];

/** A step after validation: its kind, its id (given or `step<n>`), and its fields. */
export type Step =
  | ({ kind: 'say'; id: string } & Omit<SayStep, 'id'>)
  | ({ kind: 'ask'; id: string } & Omit<AskStep, 'id'>)
  | ({ kind: 'set'; id: string } & Omit<SetStep, 'id'>)
  | ({ kind: 'branch'; id: string } & Omit<BranchStep, 'id'>)
  | ({ kind: 'goto'; id: string } & Omit<GotoStep, 'id'>)
  | ({ kind: 'do'; id: string } & Omit<DoStep, 'id'>)
  | { kind: 'end'; id: string };

/** A flow after validation. */
export interface Flow {
  id: string;
  description?: string;
  file: string;
  triggers: { intents: string[]; keywords: Partial<Record<(typeof LANGUAGES)[number], string[]>>; payloads: string[] };
  /** Whether its triggers act in the middle of another flow (like a command). */
  interrupt?: boolean;
  steps: Step[];
  /** A hash of the flow's content: the compiled dialog's version. */
  version: string;
}
