import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier';
import PorterStemmerEn from 'natural/lib/natural/stemmers/porter_stemmer';
import PorterStemmerFr from 'natural/lib/natural/stemmers/porter_stemmer_fr';
import { bareToken } from './product-matcher';

/** The token that stands for "a product" in training examples ({product}) and in messages. */
export const PRODUCT_TOKEN = 'xproductx';

/**
 * The features of a normalised message: its words, the Arabic words without article and
 * clinging prepositions, French and English stems, and neighbouring word pairs (so that
 * "wach kayn" and "kayn livraison" count as such).
 */
export function featuresOf(normalized: string): string[] {
  const tokens = normalized.split(' ').filter(Boolean);
  const out = new Set<string>();
  tokens.forEach((token, i) => {
    out.add(token);
    if (/[\u0600-\u06FF]/.test(token)) {
      const bare = bareToken(token);
      out.add(`~${bare}`);
      // The Darija present prefixes (ka-, ta-, ki-) and Arabic plural/feminine endings.
      if (bare.length > 4) out.add(`~${bare.replace(/^(كي|كن|كت|تي|تن)/, '').replace(/(ين|ون|ات|ه|ي)$/, '')}`);
    } else if (/[a-z]/.test(token) && token.length > 3) {
      out.add(`fr:${PorterStemmerFr.stem(token)}`);
      out.add(`en:${PorterStemmerEn.stem(token)}`);
    }
    if (i > 0) out.add(`${tokens[i - 1]}_${token}`);
    // Letter groups inside long words catch spellings the examples do not have ("m7errss", "mhrs").
    if (token.length >= 5 && token !== PRODUCT_TOKEN) for (let k = 0; k + 4 <= token.length; k += 1) out.add(`#${token.slice(k, k + 4)}`);
  });
  return [...out];
}

/**
 * natural's naive Bayes classifier on our features. natural turns each message into a
 * vector as long as the vocabulary; with thousands of words that is the slow part, so this
 * passes the sparse form (the indices of present features), which its Bayes model accepts.
 */
class SparseBayesClassifier extends BayesClassifier {
  private index: Map<string, number> | undefined;

  override addDocument(text: string | string[], classification: string): void {
    super.addDocument(text, classification);
    this.index = undefined;
  }

  override textToFeatures(observation: string | string[]): unknown {
    const tokens = typeof observation === 'string' ? featuresOf(observation) : observation;
    this.index ??= new Map(Object.keys(this.features).map((f, i) => [f, i]));
    const sparse: Record<number, number> = {};
    let n = 0;
    for (const token of tokens) {
      const i = this.index.get(token);
      if (i !== undefined) sparse[n++] = i;
    }
    return sparse;
  }
}

/** An intent with how much the classifier prefers it over the others (0-1). */
export interface IntentGuess {
  intent: string;
  confidence: number;
  ranking: { intent: string; score: number }[];
}

/** Intents learnt from examples. */
export class IntentClassifier {
  private readonly bayes = new SparseBayesClassifier({ tokenizeAndStem: (text: string) => featuresOf(text) });
  private trained = false;

  /** Adds one normalised example of an intent. */
  add(normalized: string, intent: string): void {
    this.bayes.addDocument(featuresOf(normalized), intent);
    this.trained = false;
  }

  /** Learns from the examples added so far. */
  train(): void {
    this.bayes.train();
    this.trained = true;
  }

  /** The most likely intent of a normalised message, with the ranking. */
  classify(normalized: string): IntentGuess {
    if (!this.trained) this.train();
    // How many examples an intent has says nothing about how often customers mean it, so
    // the example-count prior of the model is divided out: every intent starts equal.
    const model = (this.bayes as unknown as { classifier: { classTotals: Record<string, number>; totalExamples: number } }).classifier;
    const raw = this.bayes
      .getClassifications(featuresOf(normalized))
      .map((r) => ({ label: r.label, value: r.value / (model.classTotals[r.label]! / model.totalExamples) }))
      .sort((a, b) => b.value - a.value);
    const total = raw.reduce((sum, r) => sum + r.value, 0) || 1;
    const ranking = raw.map((r) => ({ intent: r.label, score: r.value / total }));
    // Confidence is how far the best stands above the runner-up: 0.5 a tie, 1 alone. A
    // share of the whole would punish short messages, whose words every intent has seen.
    const [best, second] = ranking;
    const confidence = best ? best.score / (best.score + (second?.score ?? 0) || 1) : 0;
    return { intent: best?.intent ?? 'unknown', confidence, ranking };
  }
}
