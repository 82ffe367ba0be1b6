// Node-only helpers: agent keys from a file or the environment (NASH_AGENT_KEY holds the JSON itself,
// NASH_AGENT_KEY_FILE a path), and writing a new key file readable by its owner only.
import { readFile, writeFile } from "node:fs/promises";
import { parseKey, keyToJson, type AgentKey } from "./keys.ts";

/**
 * Loads an agent key: from `path` when given, else `env.NASH_AGENT_KEY` (JSON), else the file named by
 * `env.NASH_AGENT_KEY_FILE`. `env` defaults to `process.env`.
 */
export async function loadKey(path?: string, env: Record<string, string | undefined> = process.env): Promise<AgentKey> {
  if (path === undefined && env.NASH_AGENT_KEY) return parseKey(env.NASH_AGENT_KEY);
  const file = path ?? env.NASH_AGENT_KEY_FILE;
  if (!file) throw new Error("no agent key: pass a key file, or set NASH_AGENT_KEY (the JSON) or NASH_AGENT_KEY_FILE (a path)");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read agent key ${file}: ${(error as Error).message}`);
  }
  return parseKey(text);
}

/** Writes a key file with mode 0600; refuses to overwrite an existing file. */
export async function saveKey(path: string, key: AgentKey): Promise<void> {
  await writeFile(path, keyToJson(key), { mode: 0o600, flag: "wx" });
}
