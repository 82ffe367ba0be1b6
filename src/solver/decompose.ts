// Decomposing a circulation's flow into the walks that carry it: source → … → sink paths, and the cycles (rings of
// swaps) a walk closes on its way. multi.ts (timeless swaps) and time-net.ts (schedules) both settle trades this way.

/**
 * Walks from `S` to `T` over arcs with flow left, at most `maxWalks` times. `next(u)` is an arc out of `u` with flow
 * left (or −1); a walk that comes back to a node it passed splits off that cycle through `onCycle` and goes on; a
 * walk that reaches `T` goes to `onPath` as its first `length` entries of `arcs` (an array the next walk reuses:
 * read it during the call). Both callbacks take the arcs' volume off `left` themselves. A dead end is rounding: what
 * enters a node beyond what leaves it sits on the walk's last arc only, so that arc alone is zeroed (zeroing the
 * whole walk would drop real flow upstream of it).
 */
export function walkFlow(
  S: number,
  T: number,
  dst: ArrayLike<number>,
  left: Float64Array,
  next: (u: number) => number,
  maxWalks: number,
  onCycle: (arcs: Int32Array, length: number) => void,
  onPath: (arcs: Int32Array, length: number) => void,
): void {
  let V = Math.max(S, T) + 1;
  for (let a = 0; a < dst.length; a++) if (dst[a] >= V) V = dst[a] + 1;
  // Per node its place on the current walk (the number of arcs before it), −1 off the walk; cleared after each walk.
  const at = new Int32Array(V).fill(-1);
  // The current walk's arcs, path[0 .. n − 1], and a cycle it closes: one array each for every walk (a flow has
  // thousands; a growing list would be reallocated walk by walk). A walk visits a node at most once: < V arcs.
  const path = new Int32Array(V);
  const cycle = new Int32Array(V);
  let n = 0;
  for (let guard = 0; guard < maxWalks && next(S) >= 0; guard++) {
    n = 0;
    at[S] = 0;
    let u = S;
    while (u !== T) {
      const a = next(u);
      if (a < 0) break;
      const v = dst[a];
      const from = at[v];
      if (from >= 0) {
        const length = n - from + 1;
        cycle.set(path.subarray(from, n));
        cycle[length - 1] = a;
        for (let j = from; j < n; j++) at[dst[path[j]]] = -1;
        n = from;
        onCycle(cycle, length);
        u = v;
        at[v] = n;
        continue;
      }
      path[n++] = a;
      at[v] = n;
      u = v;
    }
    at[S] = -1;
    for (let j = 0; j < n; j++) at[dst[path[j]]] = -1;
    if (u !== T) {
      if (n === 0) break;
      left[path[n - 1]] = 0;
      continue;
    }
    onPath(path, n);
  }
}
