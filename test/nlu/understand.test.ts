import path from 'node:path';
import { Catalog } from '../../src/catalog/catalog';
import { detectLanguage } from '../../src/nlu/language';
import { normalizeText } from '../../src/nlu/normalize';
import { BUILTIN_TRAINING_DIR, readTrainingExamples } from '../../src/nlu/training-data';
import { Understanding } from '../../src/nlu/understand';
import { projectRoot } from '../../src/paths';

// Sentences written for these tests (not from any evaluation set), against the demo catalog.
const understanding = Understanding.build(Catalog.load(path.join(projectRoot, 'flows', 'catalog.yml')), readTrainingExamples([BUILTIN_TRAINING_DIR]));

describe('language', () => {
  it.each([
    ['Bonsoir, vous livrez à Oujda ?', 'fr'],
    ['c combien le savon', 'fr'],
    ['Do you deliver to Oujda?', 'en'],
    ['هل توصلون إلى وجدة؟', 'ar'],
    ['واش كتوصلو لوجدة؟', 'ary'],
    ['wach katwslo l wjda?', 'ary'],
    ['salam khoya, bghit nsowlek', 'ary'],
    ['3afak chhal lprix', 'ary'],
  ])('%s is %s', (text, lang) => {
    expect(detectLanguage(text, normalizeText(text))).toBe(lang);
  });

  it('keeps the customer language when a message hardly tells', () => {
    expect(detectLanguage('ok', normalizeText('ok'), 'fr', 'ary')).toBe('ary');
    expect(detectLanguage('Fatima', normalizeText('Fatima'), 'fr', 'en')).toBe('en');
    expect(detectLanguage('y', normalizeText('y'), 'fr', 'en')).toBe('en');
    expect(detectLanguage('merci beaucoup pour tout', normalizeText('merci beaucoup pour tout'), 'fr', 'en')).toBe('fr');
  });
});

describe('intent and product', () => {
  it.each([
    // French, with typos and no accents.
    ['combien coute le miel de thym ?', 'price', 'thyme-honey', 'fr'],
    ['vous avez encore de l amlou ?', 'availability', 'amlou', 'fr'],
    ['je voudrais commander 2 savons a l argan', 'order', 'argan-soap', 'fr'],
    ['vous livrez a tanger ?', 'delivery', null, 'fr'],
    ['on peut payer par virement ?', 'payment', null, 'fr'],
    // Darija, Latin letters.
    ['bch7al ma lward?', 'price', 'rose-water', 'ary'],
    ['wach kayn chriha daba?', 'availability', 'dried-figs', 'ary'],
    ['bghit ncommandi 3sel daghmous', 'order', 'euphorbia-honey', 'ary'],
    ['fin kaynin nta3 lcooperative?', 'hours_location', null, 'ary'],
    // Darija, Arabic letters.
    ['بشحال أملو؟', 'price', 'amlou', 'ary'],
    ['بغيت نهضر مع شي واحد', 'human', null, 'ary'],
    // Modern Standard Arabic.
    ['كم سعر ماء الورد؟', 'price', 'rose-water', 'ar'],
    ['أريد إلغاء طلبي', 'cancel_order', null, 'ar'],
    // English.
    ['how much is the culinary argan oil?', 'price', 'argan-oil-culinary', 'en'],
    ['where is my order? it has been a week', 'order_status', null, 'en'],
    ['thank you so much!', 'thanks', null, 'en'],
    // The order issue's own examples: starting an order and asking where it is.
    ['bghit 2 dyal amlou', 'order', 'amlou', 'ary'],
    ["je voudrais commander de l'huile d'argan", 'order', expect.any(String), 'fr'],
    ['أريد طلب عسل', 'order', null, 'ar'],
    ['fin wslat la commande dyali', 'order_status', null, 'ary'],
    ['où en est ma commande', 'order_status', null, 'fr'],
    ['وين وصل الطلب', 'order_status', null, 'ar'],
  ])('%s → %s / %s / %s', (text, intent, product, lang) => {
    expect(understanding.understand(text)).toMatchObject({ intent, product, lang });
  });

  it('counts a greeting with a request as the request', () => {
    expect(understanding.understand('salam, bch7al zit argan?')).toMatchObject({ intent: 'price', product: 'argan-oil-cosmetic' });
    expect(understanding.understand('Bonjour, vous livrez à Agadir ?').intent).toBe('delivery');
  });

  it('finds products despite misspellings and the Arabic article', () => {
    expect(understanding.understand('prix du mile de thym').product).toBe('thyme-honey');
    expect(understanding.understand('wach kayn lamlou').product).toBe('amlou');
    expect(understanding.understand('بكم العسل ديال الدغموس').product).toBe('euphorbia-honey');
  });

  it('says unknown for what is not for the cooperative, and for nothing', () => {
    expect(understanding.understand('qui va gagner la coupe du monde ?').intent).toBe('unknown');
    expect(understanding.understand('?!').intent).toBe('unknown');
  });
});
