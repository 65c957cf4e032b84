/**
 * One colour per compared run, the same in every chart, the legend, the parallel coordinates
 * and the scatter: Tableau's ten first, then hues spaced by the golden angle (distinct enough
 * for up to a hundred lines).
 */
const TABLEAU = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function runColour(index: number): string {
  if (index < TABLEAU.length) return TABLEAU[index] as string;
  const hue = Math.round((index * 137.508) % 360);
  return `hsl(${hue}, 62%, ${index % 2 ? 42 : 55}%)`;
}

/** The colour with transparency, for bands. Works for #rrggbb and hsl(). */
export function translucent(colour: string, alpha: number): string {
  if (colour.startsWith('#') && colour.length === 7) {
    const a = Math.round(alpha * 255).toString(16).padStart(2, '0');
    return `${colour}${a}`;
  }
  return colour.replace(/^hsl\((.*)\)$/, `hsla($1, ${alpha})`);
}
