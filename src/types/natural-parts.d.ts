// natural's index loads every module it has (about 0.6 s); Taawun loads only the parts it
// uses, which natural ships as separate files without their own type declarations.
declare module 'natural/lib/natural/classifiers/bayes_classifier' {
  interface Stemmer {
    tokenizeAndStem(text: string, keepStops?: boolean): string[];
  }
  class BayesClassifier {
    constructor(stemmer?: Stemmer, smoothing?: number);
    docs: { label: string; text: string[] }[];
    features: Record<string, number>;
    addDocument(text: string | string[], classification: string): void;
    train(): void;
    textToFeatures(observation: string | string[]): unknown;
    getClassifications(observation: string | string[]): { label: string; value: number }[];
    classify(observation: string | string[]): string;
  }
  export = BayesClassifier;
}

declare module 'natural/lib/natural/stemmers/porter_stemmer' {
  const stemmer: { stem(token: string): string };
  export = stemmer;
}

declare module 'natural/lib/natural/stemmers/porter_stemmer_fr' {
  const stemmer: { stem(token: string): string };
  export = stemmer;
}
