// `nash score FILE` (CONTRACT.md section 4): the learned model's optimality estimate of a proposal, from the
// intents' commitments and the proposal's fills only, exactly as a validator computes it (src/model).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ProposalFill, type FieldError } from "../contract/schema.ts";
import { fieldErrors } from "../contract/errors.ts";
import { commit } from "../model/commitment.ts";
import { batchContext, proposalFeatures } from "../model/features.ts";
import { parseFlags } from "./args.ts";
import { CliError, EXIT, onlyFile, readSolveFile, type Io } from "./input.ts";

/** The committed model; `--model FILE` scores with another (e.g. a fine-tuned version). */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL("../../models/nash-scorer-v7.onnx", import.meta.url));
/** Features never depend on the salt: any valid one gives the validator's numbers. */
const SALT = "00".repeat(16);

export type ScoreOutput = { estimate: number; spread?: number; model: string } | { estimates: number[]; spreads?: number[]; model: string };

/** Field errors of `proposal` / `proposals` (one of the two, each `{ fills: [...] }` naming known intents; prices optional). */
export function proposalFieldErrors(raw: unknown): FieldError[] {
  const file = raw as Record<string, unknown>;
  const errors: FieldError[] = [];
  const intents = Array.isArray(file.intents) ? (file.intents as unknown[]) : [];
  const sides = new Map<string, unknown>();
  intents.forEach((it, k) => {
    const i = (it ?? {}) as Record<string, unknown>;
    sides.set(typeof i.id === "string" ? i.id : `intent-${k + 1}`, i.swapFor !== undefined ? "swap" : i.side);
  });
  const checkOne = (p: unknown, where: string) => {
    if (p === null || typeof p !== "object" || Array.isArray(p)) return errors.push({ field: where, message: 'must be an object { "fills": [...] }' });
    const { fills, ...extra } = p as Record<string, unknown>;
    for (const key of Object.keys(extra)) errors.push({ field: `${where}.${key}`, message: "unknown field" });
    if (!Array.isArray(fills)) return errors.push({ field: `${where}.fills`, message: "must be an array of fills" });
    fills.forEach((f, k) => {
      const at = `${where}.fills.${k}`;
      const parsed = ProposalFill.safeParse(f);
      if (!parsed.success) {
        errors.push(...fieldErrors(parsed.error, at));
        return;
      }
      const { buy, sell, quantity } = parsed.data;
      if (!sides.has(buy)) errors.push({ field: `${at}.buy`, message: `unknown intent "${buy}"` });
      else if (sides.get(buy) !== "buy" && sides.get(buy) !== "swap") errors.push({ field: `${at}.buy`, message: `"${buy}" is not a buy intent` });
      if (!sides.has(sell)) errors.push({ field: `${at}.sell`, message: `unknown intent "${sell}"` });
      else if (sides.get(sell) !== "sell" && sides.get(sell) !== "swap") errors.push({ field: `${at}.sell`, message: `"${sell}" is not a sell intent` });
      if (!(quantity > 0) || !Number.isFinite(quantity)) errors.push({ field: `${at}.quantity`, message: "must be greater than 0" });
    });
    return 0;
  };
  const hasOne = file.proposal !== undefined;
  const hasMany = file.proposals !== undefined;
  if (hasOne === hasMany) {
    errors.push({ field: hasOne ? "proposals" : "proposal", message: hasOne ? "give either proposal or proposals, not both" : 'is required ("proposal": { "fills": [...] }, or "proposals": [...])' });
    return errors;
  }
  if (hasOne) checkOne(file.proposal, "proposal");
  else if (!Array.isArray(file.proposals)) errors.push({ field: "proposals", message: "must be an array of proposals" });
  else file.proposals.forEach((p, k) => checkOne(p, `proposals.${k}`));
  return errors;
}

/** `nash score FILE [--model MODEL.onnx]`. */
export async function scoreCommand(args: readonly string[], io: Io): Promise<ScoreOutput> {
  const { values: flags, positionals } = parseFlags({ args: [...args], options: { model: { type: "string" } }, allowPositionals: true });
  const file = onlyFile(positionals);
  const modelPath = flags.model ?? DEFAULT_MODEL_PATH;
  const { raw, intents, latency } = await readSolveFile(file, io, proposalFieldErrors);
  const r = raw as { proposal?: { fills: ProposalFill[] }; proposals?: { fills: ProposalFill[] }[] };
  const proposals = r.proposal !== undefined ? [r.proposal] : r.proposals!;
  let modelBytes: Uint8Array;
  try {
    modelBytes = new Uint8Array(await readFile(modelPath));
  } catch (error) {
    throw new CliError(`cannot read model ${modelPath}: ${(error as Error).message}`, EXIT.badInput);
  }
  const ctx = batchContext(intents.map((i) => commit(i, SALT)), latency);
  const features = proposals.map((p) => proposalFeatures(ctx, p.fills));
  // Loaded only here: `nash solve` never pays for onnxruntime.
  const { createScorer } = await import("../model/scorer-node.ts");
  let scorer;
  try {
    scorer = await createScorer(modelBytes);
  } catch (error) {
    throw new CliError(`cannot load model ${modelPath}: ${(error as Error).message}`, EXIT.badInput);
  }
  const { estimates, spreads, model } = await scorer.score(features);
  const values = Array.from(estimates, (e) => Math.min(1, Math.max(0, e)));
  // The spread (how far the model's members disagree) only when the model has several members.
  if (r.proposal !== undefined) return { estimate: values[0], ...(spreads ? { spread: spreads[0] } : {}), model };
  return { estimates: values, ...(spreads ? { spreads: Array.from(spreads) } : {}), model };
}
