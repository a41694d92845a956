// "Did you mean": the closest known name to a misspelt one, by case-insensitive Levenshtein distance.

/** Names longer than this are not compared: distance is O(n·m) and such names are not typos. */
const MAX_COMPARED_LENGTH = 64;

export function closestName(misspelt: string, candidates: Iterable<string>): string | undefined {
  if (misspelt.length > MAX_COMPARED_LENGTH) return undefined;
  const target = misspelt.toLowerCase();
  // Beyond a third of the name, the "suggestion" is usually a different word and only confuses.
  const limit = Math.max(2, Math.floor(target.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(target, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
