import { containsPhrase, normalizeText } from '../../src/nlu/normalize';

describe('normalizeText', () => {
  it.each([
    // Latin script: case, accents, punctuation, repeats, SMS.
    ['Bonjour !', 'bonjour'],
    ["L'huile d'argan cosmétique ?", 'l huile d argan cosmetique'],
    ['Salaaaaam', 'salam'],
    ['slt cv ?', 'salut ca va'],
    ['bjr, prix svp', 'bonjour prix s il vous plait'],
    ['mrc bcp', 'merci beaucoup'],
    ['thx, pls send', 'thanks please send'],
    // Arabizi: digits inside Latin words are letters; alone they stay numbers.
    ['bch7al l9ar3a?', 'b chhal lqara'],
    ['3afak', 'afak'],
    ['chhal / ch7al / chal', 'chhal chhal chhal'],
    ['5obz', 'khobz'],
    ['bghit 3 dyal 3sel', 'bghit 3 dyal asel'],
    // Arabic script: diacritics, tatweel, alef, yaa, taa marbuta, Moroccan gaf, digits.
    ['السَّلَامُ عَلَيْكُمْ', 'السلام عليكم'],
    ['شـــحـــال', 'شحال'],
    ['أملو إيه آه', 'املو ايه اه'],
    ['على مستشفى', 'علي مستشفي'],
    ['زيت الأركان الغذائية', 'زيت الاركان الغذاييه'],
    ['شحاااال', 'شحال'],
    ['لرݣان أرگان', 'لركان اركان'],
    ['٣ علب', '3 علب'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('finds whole words only', () => {
    expect(containsPhrase('wach kayn livraison', 'kayn')).toBe(true);
    expect(containsPhrase('wach kaynin', 'kayn')).toBe(false);
    expect(containsPhrase('salam alikom', 'salam alikom')).toBe(true);
  });
});
