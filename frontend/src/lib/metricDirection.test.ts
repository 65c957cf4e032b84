import { describe, expect, it } from 'vitest';
import { bestFirstDescending, guessMetricDirection, metricDirection, rememberMetricDirection } from './metricDirection';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('metric direction', () => {
  it('lower is better for losses and errors', () => {
    for (const k of ['loss', 'val_loss', 'train/loss', 'error', 'mse', 'rmse', 'val.mae', 'perplexity', 'eval_rmse', 'test-error-rate']) {
      expect(guessMetricDirection(k), k).toBe('lower');
    }
  });
  it('higher is better otherwise', () => {
    for (const k of ['acc', 'accuracy', 'f1', 'auc', 'val/precision', 'recall', 'reward', 'mAP']) {
      expect(guessMetricDirection(k), k).toBe('higher');
    }
  });
  it('remembers a flip per key and forgets it when flipped back', () => {
    const s = memoryStorage();
    expect(metricDirection('acc', s)).toBe('higher');
    rememberMetricDirection('acc', 'lower', s);
    expect(metricDirection('acc', s)).toBe('lower');
    expect(metricDirection('f1', s)).toBe('higher');
    expect(bestFirstDescending('acc', s)).toBe(false);
    rememberMetricDirection('acc', 'higher', s);
    expect(s.getItem('mltrail.metricDirection')).toBe('{}');
    expect(bestFirstDescending('acc', s)).toBe(true);
  });
  it('survives corrupt storage', () => {
    const s = { getItem: () => '{not json' };
    expect(metricDirection('loss', s)).toBe('lower');
  });
});
