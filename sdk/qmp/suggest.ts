/**
 * "Did you mean ...?" for command names: the nearest names by edit distance. Pure.
 * @module
 */

/**
 * Up to `max` names from `candidates` closest to `name` (Levenshtein distance, `-` and `_`
 * treated alike), nearest first; only names within a third of the length count.
 *
 * @example
 * ```ts
 * nearestNames("query-stauts", ["query-status", "query-name", "stop"]); // ["query-status"]
 * ```
 */
export function nearestNames(name: string, candidates: Iterable<string>, max = 3): string[] {
  const norm = (s: string) => s.toLowerCase().replaceAll("_", "-");
  const target = norm(name);
  const limit = Math.max(2, Math.ceil(target.length / 3));
  const scored: [number, string][] = [];
  for (const c of candidates) {
    const n = norm(c);
    // A name that contains the typed one (or the reverse) is a strong hint: "status" -> "query-status".
    const d = n.includes(target) || target.includes(n) ? Math.min(1, distance(target, n)) : distance(target, n);
    if (d <= limit) scored.push([d, c]);
  }
  const byLength = (c: string) => Math.abs(c.length - name.length);
  return scored
    .sort((a, b) => a[0] - b[0] || byLength(a[1]) - byLength(b[1]) || a[1].localeCompare(b[1]))
    .slice(0, max)
    .map(([, c]) => c);
}

/** Edit distance where swapping two neighbours counts as one edit ("stauts" -> "status"). */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      cur[j] = d;
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length]!;
}
