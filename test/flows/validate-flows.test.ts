import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { builtinActions } from '../../src/bot/builtin-actions';
import { formatDiagnostic } from '../../src/flows/diagnostics';
import { loadFlowLibrary } from '../../src/flows/flow-library';
import { projectRoot } from '../../src/paths';

/** A copy of the shipped flows and locales in a temporary folder, with some files replaced. */
function flowsWith(files: Record<string, string>): { dir: string; run(): string[] } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'taawun-validate-'));
  fs.cpSync(path.join(projectRoot, 'flows'), path.join(root, 'flows'), { recursive: true });
  fs.cpSync(path.join(projectRoot, 'locales'), path.join(root, 'locales'), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, name), text);
  return {
    dir: root,
    run: () =>
      loadFlowLibrary(
        { flowsDir: path.join(root, 'flows'), localesDir: path.join(root, 'locales'), catalogFile: path.join(root, 'flows', 'catalog.yml') },
        builtinActions(),
        root,
      ).diagnostics.map(formatDiagnostic),
  };
}

const flow = (body: string) => `id: extra\ntriggers:\n  payloads: [EXTRA]\nsteps:\n${body}`;

describe('flows validate', () => {
  it('accepts the shipped flows without a warning', () => {
    expect(flowsWith({}).run()).toEqual([]);
  });

  it.each([
    [
      'an unknown step in goto, with a suggestion',
      flow('  - id: confirm\n    say: menu.text\n  - goto: confrim\n'),
      'flows/extra.yml:7:11 unknown step "confrim" (did you mean "confirm"?)',
    ],
    [
      'an unknown step in a branch',
      flow('  - branch:\n      - if: vars.lang == fr\n        goto: nowhere\n      - else: end\n'),
      'flows/extra.yml:7:15 unknown step "nowhere"',
    ],
    [
      'an unknown action, with a suggestion',
      flow('  - do: handof\n'),
      'flows/extra.yml:5:9 unknown action "handof" (did you mean "handoff"?); known: handoff, save_rating, save_suggestion, erase_my_data, answer_price, answer_availability, answer_description, list_products, answer_delivery, answer_payment, answer_hours, start_order, keep_previous_cart, check_stock, add_to_cart, remove_from_cart, notify_when_back, bank_details, quote_order, place_order, order_status, find_cancellable, choose_order, cancel_order',
    ],
    [
      'an unknown action parameter',
      flow('  - do: handoff\n    with:\n      raison: x\n'),
      'flows/extra.yml:7:7 action "handoff" has no parameter "raison" (did you mean "reason"?)',
    ],
    [
      'a missing required action parameter',
      flow('  - do: save_rating\n'),
      'flows/extra.yml:5:9 action "save_rating" needs the parameter "score" (the score 1-5, usually "{{vars.score}}")',
    ],
    [
      'an unknown locale key, with a suggestion',
      flow('  - say: menu.txt\n'),
      'flows/extra.yml:5:10 unknown locale key "menu.txt" (did you mean "menu.text"?); add it to locales/fr.yml, or write the text inline: { fr: "…", ar: "…" }',
    ],
    [
      'an unknown variable in a template',
      flow('  - say: { fr: "Bonjour {{vars.nom}}", ar: "x", ary: "x", en: "x" }\n'),
      'flows/extra.yml:5:10 unknown variable "vars.nom": no ask, set or do of this flow sets it',
    ],
    [
      'an unknown customer field',
      flow('  - say: { fr: "{{customer.email}}", ar: "x", ary: "x", en: "x" }\n'),
      'flows/extra.yml:5:10 unknown customer field "customer.email"; use customer.name, customer.phone, customer.city, customer.address, customer.language',
    ],
    [
      'an unreachable step',
      flow('  - say: menu.text\n  - end\n  - id: orphan\n    say: menu.text\n'),
      'flows/extra.yml:7:5 step "orphan" is never reached: no step leads to it',
    ],
    [
      'a duplicate step id',
      flow('  - id: a\n    say: menu.text\n  - id: a\n    say: menu.text\n'),
      'flows/extra.yml:7:9 duplicate step id "a" (also step 1)',
    ],
    [
      'an ask with no way out',
      flow('  - ask: number\n    prompt: order.quantity\n    var: qty\n'),
      'flows/extra.yml:5:10 ask "step1" has no way out: add on_fail: <step id or end>, where the customer goes after 2 answers it cannot use',
    ],
    [
      'an unknown field, with a suggestion',
      flow('  - ask: number\n    promt: order.quantity\n    prompt: order.quantity\n    var: qty\n    on_fail: end\n'),
      'flows/extra.yml:6:5 unknown field "promt" (did you mean "prompt"?)',
    ],
    [
      'a missing field',
      flow('  - ask: number\n    var: qty\n    on_fail: end\n'),
      'flows/extra.yml:5:5 "prompt" is missing',
    ],
    [
      'a step with two kinds',
      flow('  - say: menu.text\n    goto: end\n'),
      'flows/extra.yml:5:5 the step has say and goto; a step does one thing',
    ],
    [
      'a condition it cannot read',
      flow('  - branch:\n      - if: vars.lang = fr\n        goto: end\n'),
      'flows/extra.yml:6:13 condition: "=" is not a comparison; use == != > >= < <=',
    ],
    [
      'a button that starts no flow',
      flow('  - say: menu.text\n    buttons:\n      - { title: menu.order, payload: ORDR }\n'),
      'flows/extra.yml:7:39 button payload "ORDR" starts no flow (did you mean "ORDER"?); add it to a flow\'s triggers.payloads',
    ],
    [
      'an unknown intent',
      'id: extra\ntriggers:\n  intents: [oder]\nsteps:\n  - say: menu.text\n',
      'flows/extra.yml:3:13 unknown intent "oder" (did you mean "order"?)',
    ],
    [
      'a location button on a question that is no address',
      flow('  - ask: number\n    prompt: order.quantity\n    var: n\n    location: true\n'),
      'flows/extra.yml:8:15 location is for ask: text (an address), not ask: number',
    ],
    [
      'a product that is no product id',
      flow('  - say: menu.text\n    products: [Amlou Bio]\n'),
      'flows/extra.yml:6:16 products: "Amlou Bio" is not a product id (lower-case letters, digits and -, as in catalog.yml) nor a template such as "{{vars.product.id}}"',
    ],
    [
      'products and buttons in one message',
      flow('  - say: menu.text\n    products: all\n    buttons:\n      - { title: menu.order, payload: ORDER }\n'),
      'flows/extra.yml:6:15 a message shows products or buttons, not both (WhatsApp has no message with both): put the buttons in the next say',
    ],
    [
      'a YAML syntax error',
      'id: extra\nsteps:\n  - say: "unclosed\n',
      'flows/extra.yml:4:1 YAML: Missing closing "quote',
    ],
  ])('reports %s at its position', (_what, text, expected) => {
    expect(flowsWith({ 'flows/extra.yml': text }).run()).toContain(expected);
  });

  it('reports a trigger that two flows share, naming the other', () => {
    const found = flowsWith({ 'flows/extra.yml': 'id: extra\ntriggers:\n  payloads: [ORDER]\n  keywords:\n    fr: [Langue]\nsteps:\n  - say: menu.text\n' }).run();
    expect(found).toContain('flows/order.yml:9:14 payload "ORDER" also triggers flow "extra" (flows/extra.yml:3:14); one trigger starts one flow');
    expect(found).toContain('flows/language.yml:6:29 keyword "langue" (fr) also triggers flow "extra" (flows/extra.yml:5:10); one trigger starts one flow');
  });

  it('reports a flow id used twice', () => {
    expect(flowsWith({ 'flows/extra.yml': 'id: menu\nsteps:\n  - say: menu.text\n' }).run()).toContain(
      'flows/menu.yml:2:5 flow id "menu" is also used by flows/extra.yml; flow ids must be unique',
    );
  });

  it('reports a missing menu flow', () => {
    const setup = flowsWith({});
    fs.rmSync(path.join(setup.dir, 'flows', 'menu.yml'));
    fs.writeFileSync(path.join(setup.dir, 'flows', 'welcome.yml'), fs.readFileSync(path.join(projectRoot, 'flows', 'welcome.yml'), 'utf8'));
    expect(setup.run()).toContain('flows/menu.yml:1:1 no flow has id "menu": the menu command and the fallback show it');
  });

  it('warns, without failing, when a translation is missing and French is used', () => {
    const setup = flowsWith({});
    const en = path.join(setup.dir, 'locales', 'en.yml');
    fs.writeFileSync(en, fs.readFileSync(en, 'utf8').replace(/^  connected: .*\n/m, ''));
    expect(setup.run()).toEqual(['flows/human.yml:18:10 warning: locale key "human.connected" has no en text in locales/en.yml; French is used']);
  });
});
