// The inbound axon route's logic, `POST /NashChallenge`, as one function the edge worker calls: verify like an
// axon, parse the challenge, get the market's settlement for it within the request's timeout, answer as an axon.
// The route itself only turns the returned `AxonResponse` into a `Response`.
import { z } from "zod";
import { IntentInput, LatencyTable, MarketName } from "../contract/schema.ts";
import type { Sr25519Keypair } from "./keys.ts";
import {
  NASH_CHALLENGE,
  buildAxonError,
  buildAxonResponse,
  pyFloatStr,
  verifyAxonRequest,
  type AxonResponse,
  type HeaderSource,
  type NonceStore,
} from "./synapse.ts";

/** The `challenge` field's JSON: a batch of intents (or of commitments) in one market. */
export const ChallengeInput = z
  .strictObject({
    market: MarketName,
    intents: z.array(IntentInput).max(10_000).optional(),
    commitments: z.array(z.looseObject({})).max(10_000).optional(),
    latency: LatencyTable.optional(),
  })
  .refine((c) => (c.intents === undefined) !== (c.commitments === undefined), {
    message: "give exactly one of intents or commitments",
  });
export type ChallengeInput = z.infer<typeof ChallengeInput>;

/** What the market answers for a challenge: its settlement (any JSON value), or why it could not. */
export type ChallengeAnswer = { ok: true; settlement: unknown } | { ok: false; status: 400 | 422 | 500 | 503; message: string };

export interface ChallengeDeps {
  /** The axon's own hotkey (AXON_HOTKEY) and, if the edge holds it, its keypair to sign answers. */
  readonly axon: { readonly hotkey: string; readonly validators: { has(hotkey: string): boolean }; readonly keypair?: Sr25519Keypair };
  readonly nonces: NonceStore;
  /** A stable id of this axon instance (`synapse.axon.uuid`). */
  readonly uuid: string;
  readonly nowNs: () => bigint;
  readonly nowMs: () => number;
  /** Solves or looks up the settlement; `deadlineMs` (epoch ms) is when the validator stops waiting, `receivedMs`
   *  when the challenge arrived (its time to answer counts from it). */
  readonly answer: (challenge: ChallengeInput, deadlineMs: number, receivedMs: number) => Promise<ChallengeAnswer>;
  /** Kept back from the validator's timeout for the answer's way back. Default 250 ms. */
  readonly marginMs?: number;
}

function refusal(status: 400 | 408 | 422 | 500 | 503, message: string, started: number, nowMs: () => number): AxonResponse {
  const headers = {
    "content-type": "application/json",
    name: NASH_CHALLENGE.name,
    bt_header_axon_status_code: String(status),
    bt_header_axon_status_message: message.replace(/[^\x20-\x7e]/g, "?").slice(0, 1024),
    bt_header_axon_process_time: pyFloatStr((nowMs() - started) / 1000),
  };
  return { status, headers, body: JSON.stringify({ message }) };
}

/**
 * Handles one `POST /NashChallenge`. Rejections come back with the axon's status codes (404/400/403/401/500);
 * a challenge that does not parse is 400; an answer later than the request's timeout (default 12 s) less
 * `marginMs` is 408, as the SDK's priority timeout answers. Never throws for a caller's mistake.
 */
export async function handleNashChallenge(path: string, headers: HeaderSource, body: string, deps: ChallengeDeps): Promise<AxonResponse> {
  const started = deps.nowMs();
  const seconds = () => (deps.nowMs() - started) / 1000;
  const verified = verifyAxonRequest(path, headers, body, {
    synapse: NASH_CHALLENGE,
    axonHotkey: deps.axon.hotkey,
    allowlist: deps.axon.validators,
    nonces: deps.nonces,
    nowNs: deps.nowNs(),
  });
  if (!verified.ok) return buildAxonError(verified, NASH_CHALLENGE, seconds());
  const text = verified.request.body.challenge as string;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refusal(400, "challenge is not JSON text", started, deps.nowMs);
  }
  const parsed = ChallengeInput.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return refusal(400, `challenge: ${first.path.join(".") || "(root)"}: ${first.message}`, started, deps.nowMs);
  }
  const deadline = started + (verified.request.timeoutSec ?? 12) * 1000 - (deps.marginMs ?? 250);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, deadline - deps.nowMs()));
  });
  let outcome: ChallengeAnswer | "late";
  try {
    outcome = await Promise.race([deps.answer(parsed.data, deadline, started), late]);
  } catch (e) {
    outcome = { ok: false, status: 500, message: `answer failed: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
  if (outcome === "late") return refusal(408, `Response timeout after: ${verified.request.timeoutSec ?? 12}s`, started, deps.nowMs);
  if (!outcome.ok) return refusal(outcome.status, outcome.message, started, deps.nowMs);
  return buildAxonResponse(
    verified.request,
    { challenge: text, settlement: JSON.stringify(outcome.settlement) },
    { hotkey: deps.axon.hotkey, keypair: deps.axon.keypair, uuid: deps.uuid, nowNs: deps.nowNs() },
    seconds(),
  );
}
