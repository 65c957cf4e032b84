/**
 * Which way is "better" for a metric, guessed from its name: lower for losses and errors
 * (loss, error, mse, rmse, mae, perplexity, …), higher for everything else (accuracy, f1, auc).
 * The runs table sorts best-first on the first click of a metric header, and the user's flip of
 * that guess is remembered per key (localStorage), because names lie (e.g. `margin_error_gain`).
 */

// Anywhere in the name (`val_loss`, `eval_rmse`, `errors`)…
const LOWER_SUBSTRINGS = /loss|error|mse|mae|mape|perplexity/i;
// …and short ones only as whole words, so `cerebro_acc` or `wert` do not flip.
const LOWER_WORDS = /(^|[^a-z])(err|ppl|wer|cer|nll|latency|regret|cost)([^a-z]|$)/i;

export type MetricDirection = 'lower' | 'higher';

export function guessMetricDirection(key: string): MetricDirection {
  return LOWER_SUBSTRINGS.test(key) || LOWER_WORDS.test(key) ? 'lower' : 'higher';
}

const STORAGE_KEY = 'mltrail.metricDirection';

function readOverrides(storage: Pick<Storage, 'getItem'> | null): Record<string, MetricDirection> {
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, MetricDirection>) : {};
  } catch {
    return {};
  }
}

function defaultStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null; // storage disabled (private mode): fall back to the guess
  }
}

/** The user's remembered choice for `key`, else the guess from its name. */
export function metricDirection(key: string, storage: Pick<Storage, 'getItem'> | null = defaultStorage()): MetricDirection {
  return readOverrides(storage)[key] ?? guessMetricDirection(key);
}

/** Remembers the user's direction for `key`; storing the guess itself forgets the override. */
export function rememberMetricDirection(
  key: string,
  direction: MetricDirection,
  storage: Pick<Storage, 'getItem' | 'setItem'> | null = defaultStorage(),
): void {
  if (!storage) return;
  const overrides = readOverrides(storage);
  if (direction === guessMetricDirection(key)) delete overrides[key];
  else overrides[key] = direction;
  try {
    storage.setItem(STORAGE_KEY, JSON.stringify(overrides));
  } catch {
    // quota or disabled storage: the choice lasts for this page only
  }
}

/** Best-first means descending when higher is better. */
export function bestFirstDescending(key: string, storage?: Pick<Storage, 'getItem'> | null): boolean {
  return metricDirection(key, storage === undefined ? defaultStorage() : storage) === 'higher';
}
