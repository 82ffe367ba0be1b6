// Per-agent request guards kept by the market object, as pure functions: a token bucket for 429s, the
// idempotency decision for POST retries, and how long a seen signature must be remembered to refuse replays.

/** Token bucket settings: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimits {
  burst: number;
  perSecond: number;
}

/** Generous defaults: an agent may burst 200 writes and sustain 100 per second per market. */
export const DEFAULT_RATE_LIMITS: RateLimits = { burst: 200, perSecond: 100 };

/** Reads RATE_LIMIT_BURST / RATE_LIMIT_PER_SECOND (strings from the environment); bad values keep the default. */
export function rateLimitsFrom(vars: { RATE_LIMIT_BURST?: unknown; RATE_LIMIT_PER_SECOND?: unknown }): RateLimits {
  const num = (v: unknown, fallback: number) => {
    const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    burst: num(vars.RATE_LIMIT_BURST, DEFAULT_RATE_LIMITS.burst),
    perSecond: num(vars.RATE_LIMIT_PER_SECOND, DEFAULT_RATE_LIMITS.perSecond),
  };
}

export interface TokenBucket {
  tokens: number;
  updatedMs: number;
}

/** Takes one token at `now`. When none is left, says how long until one is (ms, rounded up by the caller). */
export function takeToken(
  bucket: TokenBucket | undefined,
  now: number,
  limits: RateLimits,
): { allowed: true; bucket: TokenBucket } | { allowed: false; bucket: TokenBucket; retryAfterMs: number } {
  const start = bucket ?? { tokens: limits.burst, updatedMs: now };
  const elapsed = Math.max(0, now - start.updatedMs) / 1000;
  const tokens = Math.min(limits.burst, start.tokens + elapsed * limits.perSecond);
  if (tokens >= 1) return { allowed: true, bucket: { tokens: tokens - 1, updatedMs: now } };
  return { allowed: false, bucket: { tokens, updatedMs: now }, retryAfterMs: ((1 - tokens) / limits.perSecond) * 1000 };
}

/** What identifies "the same request" for Idempotency-Key: method, path and the body's SHA-256. */
export function requestFingerprint(method: string, path: string, bodySha256: string): string {
  return `${method.toUpperCase()} ${path} ${bodySha256}`;
}

/**
 * Idempotency-Key semantics (per agent): a new key runs the request; the same key with the same fingerprint gets
 * the first answer again; the same key with a different request is a conflict (422), never silently re-run.
 */
export function idempotencyDecision(
  stored: { fingerprint: string } | undefined,
  fingerprint: string,
): "new" | "repeat" | "conflict" {
  if (stored === undefined) return "new";
  return stored.fingerprint === fingerprint ? "repeat" : "conflict";
}

/** How long an idempotency answer is kept: a day, as common practice for retrying clients. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A signature can only be accepted while its timestamp is inside the window, so remembering it until
 * timestamp + window (+1 s of slack for clock steps) is enough to refuse every replay.
 */
export function signatureForgetAt(timestamp: number, windowMs: number): number {
  return timestamp + windowMs + 1000;
}
