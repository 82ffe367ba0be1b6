// Per-agent request guards kept by the market object, as pure functions: a token bucket for 429s, the
// idempotency decision for POST retries, and how long a seen signature must be remembered to refuse replays.
// Also the per-market limits: a bucket over all agents' writes, and caps on open intents per agent and market.
import { failure, success, type Outcome } from "./outcome.ts";

/** The guards' settings as the environment gives them (plain text, all optional; bad values keep the defaults). */
export interface GuardVars {
  RATE_LIMIT_BURST?: string;
  RATE_LIMIT_PER_SECOND?: string;
  /** One market's write budget over all agents. */
  RATE_LIMIT_MARKET_BURST?: string;
  RATE_LIMIT_MARKET_PER_SECOND?: string;
  /** Caps on live intents per agent and per market. */
  MAX_OPEN_INTENTS_PER_AGENT?: string;
  /** The cap of a key none of whose intents has traded in the market (grows by 10 per traded intent). */
  MAX_OPEN_INTENTS_PER_NEW_AGENT?: string;
  MAX_OPEN_INTENTS_PER_MARKET?: string;
}

/** Token bucket settings: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimits {
  burst: number;
  perSecond: number;
}

/** Generous defaults: an agent may burst 200 writes and sustain 100 per second per market. */
export const DEFAULT_RATE_LIMITS: RateLimits = { burst: 200, perSecond: 100 };

/** Reads RATE_LIMIT_BURST / RATE_LIMIT_PER_SECOND (strings from the environment); bad values keep the default. */
export function rateLimitsFrom(vars: { RATE_LIMIT_BURST?: unknown; RATE_LIMIT_PER_SECOND?: unknown }): RateLimits {
  return {
    burst: num(vars.RATE_LIMIT_BURST, DEFAULT_RATE_LIMITS.burst),
    perSecond: num(vars.RATE_LIMIT_PER_SECOND, DEFAULT_RATE_LIMITS.perSecond),
  };
}

/** A positive finite number from an environment value; anything else keeps `fallback`. */
function num(v: unknown, fallback: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * One market's write budget over all its agents: many fresh keys must not add up to more than one object can
 * clear. Defaults well above what one market object sustains locally (a few hundred writes/s), so it only bites
 * on floods.
 */
export const DEFAULT_MARKET_RATE_LIMITS: RateLimits = { burst: 2000, perSecond: 1000 };

/** Reads RATE_LIMIT_MARKET_BURST / RATE_LIMIT_MARKET_PER_SECOND; bad values keep the default. */
export function marketRateLimitsFrom(vars: { RATE_LIMIT_MARKET_BURST?: unknown; RATE_LIMIT_MARKET_PER_SECOND?: unknown }): RateLimits {
  return {
    burst: num(vars.RATE_LIMIT_MARKET_BURST, DEFAULT_MARKET_RATE_LIMITS.burst),
    perSecond: num(vars.RATE_LIMIT_MARKET_PER_SECOND, DEFAULT_MARKET_RATE_LIMITS.perSecond),
  };
}

/**
 * Caps on live (open or partly filled) intents: every submit solves over its resource's live book. A key's own cap
 * grows with its trading history in the market (keys cost nothing to make, trades do): `perNewAgent` for a key none
 * of whose intents has traded, `perTradedIntent` more for each of its intents that has, up to `perAgent`. A full
 * market makes room by evicting its least competitive resting intent for a more competitive arrival (the object).
 */
export interface OpenIntentCaps {
  perAgent: number;
  perNewAgent: number;
  perTradedIntent: number;
  perMarket: number;
}

/** 100 for a new key, +10 per traded intent, at most 1,000 per key; 10,000 per market. */
export const DEFAULT_OPEN_INTENT_CAPS: OpenIntentCaps = { perAgent: 1000, perNewAgent: 100, perTradedIntent: 10, perMarket: 10_000 };

/** Reads MAX_OPEN_INTENTS_PER_AGENT / MAX_OPEN_INTENTS_PER_NEW_AGENT / MAX_OPEN_INTENTS_PER_MARKET; bad values keep the default. */
export function openIntentCapsFrom(vars: { MAX_OPEN_INTENTS_PER_AGENT?: unknown; MAX_OPEN_INTENTS_PER_NEW_AGENT?: unknown; MAX_OPEN_INTENTS_PER_MARKET?: unknown }): OpenIntentCaps {
  return {
    perAgent: Math.floor(num(vars.MAX_OPEN_INTENTS_PER_AGENT, DEFAULT_OPEN_INTENT_CAPS.perAgent)),
    perNewAgent: Math.floor(num(vars.MAX_OPEN_INTENTS_PER_NEW_AGENT, DEFAULT_OPEN_INTENT_CAPS.perNewAgent)),
    perTradedIntent: DEFAULT_OPEN_INTENT_CAPS.perTradedIntent,
    perMarket: Math.floor(num(vars.MAX_OPEN_INTENTS_PER_MARKET, DEFAULT_OPEN_INTENT_CAPS.perMarket)),
  };
}

/** The open-intent cap of a key with `traded` intents that have (at least partly) filled in this market. */
export function agentOpenCap(traded: number, caps: OpenIntentCaps): number {
  return Math.min(caps.perAgent, caps.perNewAgent + traded * caps.perTradedIntent);
}

/**
 * Whether one more live intent fits: 409 `open-intents-limit` (the market's current state refuses it; a fill,
 * cancel or expiry frees room) naming which cap was reached. No Retry-After: room depends on trading, not time.
 */
export function openIntentCheck(open: { agent: number; market: number }, caps: { perAgent: number; perMarket: number }): Outcome<true> {
  if (open.agent >= caps.perAgent) {
    return failure(409, "open-intents-limit", "Too many open intents", `this agent already has ${open.agent} open intents in this market (limit ${caps.perAgent}, which grows as its intents trade); cancel some or wait for fills`);
  }
  if (open.market >= caps.perMarket) {
    return failure(409, "open-intents-limit", "Too many open intents", `this market already holds ${open.market} open intents (limit ${caps.perMarket})`);
  }
  return success(true);
}

/**
 * Drops buckets that have refilled completely (forgetting them changes nothing), so a stream of fresh agent
 * keys cannot grow the object's memory without bound. Call now and then, e.g. when the map gets large.
 */
export function pruneBuckets(buckets: Map<string, TokenBucket>, now: number, limits: RateLimits): void {
  for (const [agent, b] of buckets) {
    if (b.tokens + (Math.max(0, now - b.updatedMs) / 1000) * limits.perSecond >= limits.burst) buckets.delete(agent);
  }
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

/** The write budgets of one market: a token bucket per agent, and one over all agents' writes. */
export class WriteBudget {
  rateLimits: RateLimits;
  marketRateLimits: RateLimits;
  private readonly buckets = new Map<string, TokenBucket>();
  private marketBucket: TokenBucket | undefined;

  constructor(rateLimits: RateLimits, marketRateLimits: RateLimits) {
    this.rateLimits = rateLimits;
    this.marketRateLimits = marketRateLimits;
  }

  /** Takes one write of `agent` at `now`: 429 with Retry-After when the agent's or the market's budget is spent. */
  take(agent: string, now: number): Outcome<true> {
    if (this.buckets.size >= 10_000) pruneBuckets(this.buckets, now, this.rateLimits);
    const taken = takeToken(this.buckets.get(agent), now, this.rateLimits);
    this.buckets.set(agent, taken.bucket);
    if (!taken.allowed) return rateLimited("this agent's write budget is spent", taken.retryAfterMs);
    const market = takeToken(this.marketBucket, now, this.marketRateLimits);
    this.marketBucket = market.bucket;
    if (!market.allowed) return rateLimited("this market's write budget (all agents) is spent", market.retryAfterMs);
    return success(true);
  }
}

function rateLimited(what: string, retryAfterMs: number): Outcome<never> {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return failure(429, "rate-limited", "Too many requests", `${what}; retry in ${seconds} s`, { retryAfterSeconds: seconds });
}
