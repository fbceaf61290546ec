import path from 'node:path';
import { Catalog } from '../../../src/catalog/catalog';
import { parseAnswer } from '../../../src/flows/answers/parse-answer';
import { normalizeMoroccanPhone } from '../../../src/flows/answers/phone';
import { Locales } from '../../../src/i18n/locales';
import { projectRoot } from '../../../src/paths';

const locales = Locales.load(path.join(projectRoot, 'locales'));
const catalog = Catalog.load(path.join(projectRoot, 'flows', 'catalog.yml'));
const ask = (step: Parameters<typeof parseAnswer>[0], text: string, payload?: string, lang: 'fr' | 'ar' | 'ary' | 'en' = 'fr') =>
  parseAnswer(step, { text, payload }, { lang, locales, catalog });

describe('yes/no answers, understood in every language', () => {
  it.each(['oui', 'Oui !', 'ouais', 'yes', 'ok', 'ih', 'iyeh', 'wakha', 'Wakha safi', 'نعم', 'واخا', 'إيه', 'oui, pour la livraison'])('"%s" is yes', (text) => {
    expect(ask({ ask: 'yesno' }, text)).toEqual({ ok: true, value: true });
  });
  it.each(['non', 'no', 'la', 'lla', 'لا', 'non merci', 'walo'])('"%s" is no', (text) => {
    expect(ask({ ask: 'yesno' }, text)).toEqual({ ok: true, value: false });
  });
  it('takes a button payload, and refuses what is neither', () => {
    expect(ask({ ask: 'yesno' }, 'Oui', 'yes')).toEqual({ ok: true, value: true });
    expect(ask({ ask: 'yesno' }, 'peut-être')).toEqual({ ok: false });
  });
});

describe('Moroccan phone numbers', () => {
  it.each([
    ['0612345678', '+212612345678'],
    ['06 12 34 56 78', '+212612345678'],
    ['06.12.34.56.78', '+212612345678'],
    ['0712-345-678', '+212712345678'],
    ['+212 6 12 34 56 78', '+212612345678'],
    ['00212612345678', '+212612345678'],
    ['212612345678', '+212612345678'],
    ['0528 12 34 56', '+212528123456'],
    ['٠٦١٢٣٤٥٦٧٨', '+212612345678'],
  ])('%s is %s', (text, phone) => {
    expect(normalizeMoroccanPhone(text)).toBe(phone);
  });
  it.each(['0612', '0812345678', '+33612345678', 'mon numéro', '06123456789'])('refuses %s', (text) => {
    expect(normalizeMoroccanPhone(text)).toBeUndefined();
  });
});

describe('numbers', () => {
  const qty = { ask: 'number' as const, min: 1, max: 50 };
  it.each([
    ['3', 3],
    ['je veux 2 pots', 2],
    ['trois', 3],
    ['jouj', 2],
    ['ثلاثة', 3],
    ['٤', 4],
    ['two please', 2],
  ])('"%s" is %d', (text, n) => {
    expect(ask(qty, text)).toEqual({ ok: true, value: n });
  });
  it('keeps to min and max', () => {
    expect(ask(qty, '0')).toEqual({ ok: false });
    expect(ask(qty, '51')).toEqual({ ok: false });
    expect(ask(qty, 'beaucoup')).toEqual({ ok: false });
  });
});

describe('ratings', () => {
  it.each([
    ['5', 5],
    ['⭐⭐⭐⭐', 4],
    ['je donne 3', 3],
    ['khamsa', 5],
  ])('"%s" is %d', (text, n) => {
    expect(ask({ ask: 'rating' }, text)).toEqual({ ok: true, value: n });
  });
  it.each([
    ['mzyan bzaf', 5],
    ['mzyan', 4],
    ['très bien', 5],
    ['tres bien merci', 5],
    ['pas bien', 2],
    ['bien', 4],
    ['ممتاز', 5],
    ['مزيان بزاف', 5],
    ['خايب', 2],
    ['👍', 5],
    ['👎', 1],
    ['⭐⭐⭐⭐', 4],
    ['very bad', 1],
  ])('"%s" in words is %d', (text, n) => {
    expect(ask({ ask: 'rating' }, text)).toEqual({ ok: true, value: n });
  });
  it('refuses what is not 1 to 5', () => {
    expect(ask({ ask: 'rating' }, '7')).toEqual({ ok: false });
    expect(ask({ ask: 'rating' }, '0')).toEqual({ ok: false });
    expect(ask({ ask: 'rating' }, '⭐⭐⭐⭐⭐⭐')).toEqual({ ok: false });
    expect(ask({ ask: 'rating' }, 'peut-être demain')).toEqual({ ok: false });
  });
});

describe('choices', () => {
  const step = {
    ask: 'choice' as const,
    choices: [
      { value: 'home', label: { fr: 'Livraison à domicile', en: 'Home delivery' }, words: { ary: ['l dar'] } },
      { value: 'pickup', label: { fr: 'Retrait à la coopérative', en: 'Pick up' } },
    ],
  };
  it('takes the payload, the number, the label in any language, or a listed word', () => {
    expect(ask(step, 'x', 'pickup')).toEqual({ ok: true, value: 'pickup' });
    expect(ask(step, '1')).toEqual({ ok: true, value: 'home' });
    expect(ask(step, 'pick up')).toEqual({ ok: true, value: 'pickup' });
    expect(ask(step, 'l dar')).toEqual({ ok: true, value: 'home' });
    expect(ask(step, '3')).toEqual({ ok: false });
  });
});

describe('products from the catalog', () => {
  it.each([
    ['amlou', 'amlou'],
    ["huile d'argan cosmetique", 'argan-oil-cosmetic'],
    ['بكم أملو؟', 'amlou'],
    ['zit argan dyal lmakla', 'argan-oil-culinary'],
  ])('"%s" is %s', (text, id) => {
    const answer = ask({ ask: 'product' }, text);
    expect(answer).toMatchObject({ ok: true, value: { id } });
  });
  it('gives the product in the customer language, from the button payload too', () => {
    expect(ask({ ask: 'product' }, 'x', 'product:amlou', 'ar')).toEqual({
      ok: true,
      value: expect.objectContaining({ id: 'amlou', name: 'أملو', price: 90, currency: 'MAD' }),
    });
  });
  it('refuses an unknown product', () => {
    expect(ask({ ask: 'product' }, 'chocolat')).toEqual({ ok: false });
  });
});

describe('text', () => {
  it('takes any text up to its length', () => {
    expect(ask({ ask: 'text', max_length: 5 }, ' Aicha ')).toEqual({ ok: true, value: 'Aicha' });
    expect(ask({ ask: 'text', max_length: 5 }, 'Abdelkarim')).toEqual({ ok: false });
  });
});

describe('quantities: a whole number of jars within the limit', () => {
  it.each([
    ['3', 3],
    ['jouj', 2],
    ['joj', 2],
    ['trois', 3],
    ['ثلاثة', 3],
    ['20', 20],
  ])('"%s" is %d', (text, n) => {
    expect(ask({ ask: 'quantity' }, text)).toEqual({ ok: true, value: n });
  });
  it.each(['0', '-2', '- 2', '1,5', '2.5', 'bzzaf', 'beaucoup', '10,000', '10 000', '21'])('"%s" gets the retry', (text) => {
    expect(ask({ ask: 'quantity' }, text)).toEqual({ ok: false });
  });
  it('takes the stock left as the limit when the flow gives it', () => {
    expect(parseAnswer({ ask: 'quantity' }, { text: '13' }, { lang: 'fr', locales, catalog, maxQuantity: 12 })).toEqual({ ok: false });
    expect(parseAnswer({ ask: 'quantity' }, { text: '12' }, { lang: 'fr', locales, catalog, maxQuantity: 12 })).toEqual({ ok: true, value: 12 });
  });
});

describe('names: a few words of letters, not a sentence', () => {
  it.each(['Fatima', 'Fatima Zahra', 'Aït Ali', "O'Neil", 'خديجة', 'محمد أمين'])('"%s" is a name', (text) => {
    expect(ask({ ask: 'name' }, text)).toEqual({ ok: true, value: text });
  });
  it.each([
    ["je m'appelle Karim", 'Karim'],
    ['smiti Youssef', 'Youssef'],
    ['اسمي سعاد', 'سعاد'],
    ['My name is Sam Lee', 'Sam Lee'],
    ['Ana Maria', 'Ana Maria'],
  ])('"%s" gives the name %s', (text, name) => {
    expect(ask({ ask: 'name' }, text)).toEqual({ ok: true, value: name });
  });
  it.each(["je voudrais commander 3 pots d'amlou", 'Client 7', 'bghit nkomandi zit argan daba', '😀', ''])('"%s" is not', (text) => {
    expect(ask({ ask: 'name' }, text)).toEqual({ ok: false });
  });
});

describe('products the catalog does not name exactly', () => {
  it('takes the product understanding reads through a typo, and only from the cart when asked to', () => {
    const productIn = (text: string) => (text === '3sel z3tra' ? 'thyme-honey' : undefined);
    expect(parseAnswer({ ask: 'product' }, { text: '3sel z3tra' }, { lang: 'ary', locales, catalog, productIn })).toMatchObject({ ok: true, value: { id: 'thyme-honey' } });
    expect(parseAnswer({ ask: 'product', in_cart: true }, { text: '3sel z3tra' }, { lang: 'ary', locales, catalog, productIn, inCart: ['amlou'] })).toEqual({ ok: false });
  });
  it('suggests the closest names for a word the matcher cannot read', () => {
    expect(catalog.closestProducts('miel de thim').map((p) => p.id)[0]).toBe('thyme-honey');
    expect(catalog.closestProducts('safran de taliouine')).toEqual([]);
  });
});
