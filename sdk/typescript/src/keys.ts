// Agent keys for the SDK: the JSON form `nash keygen` writes ({ publicKey, privateKey }, both base64url; the
// private key is PKCS#8), checked on load so a mismatched pair fails here, not as a 401 later. Runtime-neutral.
import { z } from "zod";
import { agentKeyFromSeed, base64urlToBytes, generateAgentKey, type AgentKey } from "../../../src/contract/index.ts";

export type { AgentKey };

const KeyFile = z.strictObject({ publicKey: z.string().min(1), privateKey: z.string().min(1) });

/** A fresh random Ed25519 agent key. */
export function generateKey(): Promise<AgentKey> {
  return generateAgentKey();
}

/** The key of a 32-byte seed (deterministic; tests and vectors). */
export function keyFromSeed(seed: Uint8Array): Promise<AgentKey> {
  return agentKeyFromSeed(seed);
}

/** Parses `{ "publicKey", "privateKey" }` JSON and checks that the public key belongs to the private key. */
export async function parseKey(text: string): Promise<AgentKey> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error("agent key: not JSON; expected { \"publicKey\": ..., \"privateKey\": ... }");
  }
  const parsed = KeyFile.safeParse(raw);
  if (!parsed.success) throw new Error(`agent key: expected { "publicKey", "privateKey" } strings (${parsed.error.issues[0]?.message})`);
  const pkcs8 = base64urlToBytes(parsed.data.privateKey);
  if (pkcs8 === undefined || pkcs8.length !== 48) throw new Error("agent key: privateKey is not a base64url PKCS#8 Ed25519 key");
  const derived = await agentKeyFromSeed(pkcs8.slice(16));
  if (derived.publicKey !== parsed.data.publicKey.replace(/=+$/, "")) throw new Error("agent key: publicKey does not match privateKey");
  return derived;
}

export function keyToJson(key: AgentKey): string {
  return JSON.stringify({ publicKey: key.publicKey, privateKey: key.privateKey }, null, 2) + "\n";
}
