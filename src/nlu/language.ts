import type { Language } from '../config';
import { normalizeText } from './normalize';

/**
 * Which language a message is in. Arabic letters are Darija when Darija words appear, else
 * Modern Standard Arabic. Latin letters are Darija when Arabizi (letters and 3/7/9 in one
 * word) or Darija words appear, else French or English by their common words. Words are
 * the normalised ones (see normalize.ts), so the lists below are written normalised too.
 */
const DARIJA_ARABIC = words(`
  ديال ديالي ديالك ديالكم ديالنا ديالو ديالها ديال بغيت بغيتي بغينا نبغي كنبغي باغي باغيه واش شنو اشنو اش شحال بشحال
  كاين كاينه كاينين ماكاينش ماكاينش فين منين امتى ايمتى علاش كيفاش كيداير كيدايره لاباس بزاف مزيان مزيانه دابا
  غادي غاديه غا صافي واخا عافاك يخليك سير جيب صيفط صيفطو صيفطي صيفطلي ليا ليك لينا هادا هادي هاد هادو
  راه راني راك ماشي والو شي ديما بلا نتا نتي نتوما حنا كنقلب كتبيعو كتبيعوا كتصيفطو كنخلص نخلص
  بغيتو تانا زعما ياك خويا اختي الحاج خاي زوين خايب شوية شويه فلوس الفلوس دراهم درهم الخدمه دغيا تيليفون
  التيليفون نكوموندي الكوموند كوموند نقدر تقدر كيصلاح كتصلاح مخلط حر جاية جايه بلدي البلدي دبا ولا
  تهلا فراسك بسلامة بالسلامة يعاونك يعطيك سمحلي مشكل مشا جا جات عطيني عطيوني خصني خاصني
  كيوصل وصلات ديالي لي اللي هادشي داكشي بحال كيفما مازال باقي عاد ياك حيت حيث هاني فاش منين كاع
  بزاف شحال كتخدمو تحلو كتحلو كتسدو غدا البارح اليوم لبارح كيدير كندير درتو زيدو نقترح كون ماعجبنيش عجبني
`);

const MSA_ARABIC = words(`
  هل أريد اريد أود اود لديكم لديك لدي ما هو هي كم متى أين اين لماذا كيف التي الذي الذين هذا هذه ذلك تلك
  يمكن يمكنني يمكنكم نريد تريد الرجاء من فضلك شكرا جزيلا ليس لست إلى الى على عن في مع سوف قد لقد أيضا ايضا
  المنتجات منتجات متوفر متوفره السعر ثمن التوصيل الدفع العنوان
`);

const DARIJA_LATIN = words(`
  wach ach chno achno chnou shno bghit bghyt bghina nbghi kanbghi baghi dyal dial dyali dyalkom dyalek dyalo diali dialkom
  chhal bchhal kayn kayen kaynin makaynch mkaynch fin fen mnin imta emta imta3 ala alach kifach kidayr kidayra labas bzaf bzf
  mzyan mzian mzyana daba dba ghadi gha safi wakha afak alah ykhlik sir jib sifet sifto sifetli siftli lia lik lina hada hadi had
  hado rah rani rak machi walo chi hta ma diman bla nta nti ntoma hna kanqleb katbio katbi3o katsifto nkhles kankhles
  ana khoya khti lhaj khay zwin khayb chwia chwiya flos drahem dirham lkhedma dghya tilifoun nkomandi lkomand komand
  nqder tqder kaysla fih fiha ola wla ghir hna mnin jaya lbeldi beldi bach bghit3 yak zaama 3afak salamo alaykom alikom
  salam ikhlik baraka lahy bslama mra bhal kima lyoum lyom ghda gheda tani aslan ndir ndiro kandir sme3t smeat kaydawi kaytiho
  hadchi wahed jouj tlata bezaf mezyan lmghrib
  tahla frask bslama mosamaha smhli smh lia mochkil mcha ja jat atini atiwni khasni khsni kaywsel twsel wsalni wslat
  li dak bhal kifma mazal baqi ad hit hani fach kaa katkhdmo kathlo ghadin kaydir kandir dertu zidou nqtar3 kon
  maajbnich ajbni wlad bnat sahbi drari kifach chkoun chkon achno ach3ndkom andkom andek andi 3ndi kanbi3 katbi3
  sokar sokkar lhlib lma nta3 nti3 ta3 mashi
`);

const FRENCH = words(`
  le la les un une des du de je j tu il elle on nous vous ils elles me moi te toi se mon ma mes ton ta tes son sa ses
  notre votre nos vos leur leurs ce cet cette ces qui que quoi quel quelle quels quelles est sont suis es avez avons ai as
  et ou mais donc car ni pas ne plus tres bien merci bonjour bonsoir salut coucou oui non avec pour par sur dans chez
  combien prix livraison commande commander acheter veux voudrais voulez pouvez peux peut faut il y aussi encore deja
  comment pourquoi quand c est s vous plait te plait madame monsieur produit produits huile miel savon eau rose figues
  sechees pot bouteille kilo litre envoyer envoyez livrer livrez paiement payer carte virement magasin boutique adresse heures
  ouvert ferme annuler suivi colis recu toujours rien quelqu un personne parler appeler rappeler svp stp merci beaucoup
  ca va bonne journee soiree au revoir a bientot desole probleme casse abime retard
`);

const ENGLISH = words(`
  the a an i you he she it we they me my your our their this that these those is are am was were be been do does did
  have has had can could would should will shall may might what which who whom when where why how much many some any
  and or but not no yes please thanks thank hello hi hey good morning evening bye goodbye price cost order buy want
  deliver delivery shipping pay payment card cash shop store open close hours address product products oil honey soap
  water figs jar bottle stock available there here with for from to of in on at by about send call talk person someone
  still yet already cancel where's what's it's i'm don't doesn't isn't aren't received package arrived broken damaged
  late wrong great nice love like see you soon tell give know get got make need send sent one two
  just really very too also if then than so as all your yours me us him her them there's that's can't won't
  joke weather football today tomorrow yesterday
`);

function words(list: string): Set<string> {
  return new Set(list.split(/\s+/).filter(Boolean).flatMap((w) => normalizeText(w).split(' ')));
}

const ARABIC_LETTER = /[\u0600-\u06FF]/;
// Evidence enough to change a customer's language: one Darija word, or two French or English ones.
const STRONG = 2;

/**
 * The language of a message (raw and normalised): fr, ar, ary (Darija) or en. `current`,
 * the customer's language so far, is kept unless the message says otherwise clearly: a
 * lone "y" or "ok" does not make a Darija speaker French. Without it, `fallback` is the
 * answer when nothing tells.
 */
export function detectLanguage(raw: string, normalized: string, fallback: Language = 'fr', current?: Language): Language {
  return detectLanguageSurely(raw, normalized, fallback, current).lang;
}

/** detectLanguage, also saying whether any word told the language (else the answer is `current` or `fallback`). */
export function detectLanguageSurely(raw: string, normalized: string, fallback: Language = 'fr', current?: Language): { lang: Language; sure: boolean } {
  const tokens = normalized.split(' ').filter(Boolean);
  let arabicScript = 0;
  let latinScript = 0;
  const score = { fr: 0, en: 0, ary: 0, ar: 0 };
  for (const token of tokens) {
    if (ARABIC_LETTER.test(token)) {
      arabicScript += 1;
      const bare = token.replace(/^(و|ف|ب|ل|ك)?(ال)?/, '');
      if (DARIJA_ARABIC.has(token) || DARIJA_ARABIC.has(bare)) score.ary += 2;
      if (MSA_ARABIC.has(token) || MSA_ARABIC.has(bare)) score.ar += 1;
      // Darija verb forms: present tense ka-/ta- prefixes ("كنبغي", "كيصلاح", "تنقلب").
      if (/^(كن|كت|كي|تن|تي)[\u0600-\u06FF]{3,}/.test(token)) score.ary += 0.5;
    } else if (/[a-z]/.test(token)) {
      latinScript += 1;
      if (DARIJA_LATIN.has(token)) score.ary += 2;
      if (FRENCH.has(token)) score.fr += 1;
      if (ENGLISH.has(token)) score.en += 1;
    }
  }
  if (hasArabizi(raw)) score.ary += 2;
  const clear = (lang: Language) => score[lang] >= STRONG;
  if (arabicScript > latinScript) {
    // One Darija word is telling: Darija borrows MSA words freely, not the other way round.
    const lang = score.ary > 0 && score.ary >= score.ar ? 'ary' : 'ar';
    // The script alone tells Arabic from the rest.
    return { lang: (current === 'ar' || current === 'ary') && lang !== current && !clear(lang) ? current : lang, sure: true };
  }
  if (latinScript === 0) return { lang: current ?? fallback, sure: false };
  const best = (['ary', 'fr', 'en'] as const).reduce((a, b) => (score[b] > score[a] ? b : a));
  if (score[best] === 0) return { lang: current ?? fallback, sure: false };
  if (current && current !== best && !clear(best) && current !== 'ar') return { lang: current, sure: false };
  return { lang: best, sure: true };
}

/** Whether the raw text holds Arabizi: Latin letters and the digits 2, 3, 5, 7, 9 in one word. */
export function hasArabizi(raw: string): boolean {
  return /(?:[a-z][23579]|[23579][a-z])/i.test(raw);
}
