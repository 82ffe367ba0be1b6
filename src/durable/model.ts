// The scoring model of one market object: the bundled ONNX model or the one an operator loaded, created on first
// need (onnxruntime-web's start-up is paid then, never by plain trading), and what the market view shows of it.
import { base64 } from "@scure/base";
import defaultModel from "../../models/nash-scorer-v7.onnx";
import { FEATURES_VERSION } from "../model/features.ts";
import { readModelMetadata, type Scorer } from "../model/scorer.ts";
import { failure, success, type Outcome } from "../market/outcome.ts";
import type { ModelView } from "../contract/schema.ts";

/** Where the replaced model and its version are kept (the market's settings). */
export interface ModelSettings {
  meta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

/** Version of the bundled model, read once per isolate from its ONNX metadata. */
let defaultModelVersion: string | undefined;

export class ModelSlot {
  private scorer: Promise<Scorer> | undefined;
  private ready = false;
  private readonly settings: () => ModelSettings | undefined;
  private readonly waitUntil: (p: Promise<unknown>) => void;

  constructor(settings: () => ModelSettings | undefined, waitUntil: (p: Promise<unknown>) => void) {
    this.settings = settings;
    this.waitUntil = waitUntil;
  }

  /** Whether the scorer has loaded. */
  get loaded(): boolean {
    return this.ready;
  }

  /** The scorer, created once per object on first need; a failed load is retried by the next caller. */
  load(): Promise<Scorer> {
    if (!this.scorer) {
      const stored = this.settings()?.meta("model");
      const bytes = stored ? base64.decode(stored) : new Uint8Array(defaultModel);
      const loading = import("../model/scorer-workerd.ts").then((m) => m.createScorer(bytes));
      this.scorer = loading;
      loading.then(
        () => (this.ready = true),
        () => (this.scorer = undefined),
      );
    }
    return this.scorer;
  }

  /** Starts loading without waiting for it (the object stays alive until it is done). */
  warm(): void {
    if (!this.ready) this.waitUntil(this.load().then(() => undefined, () => undefined));
  }

  /** Replaces the model; refused unless it computes this market's features and onnxruntime can run it. */
  async replace(bytes: Uint8Array): Promise<Outcome<{ model: ModelView }>> {
    let meta: Record<string, string>;
    try {
      meta = readModelMetadata(bytes);
    } catch (err) {
      return failure(422, "invalid-model", "Invalid model", `not an ONNX model: ${(err as Error).message}`);
    }
    if (meta["nash.features"] !== FEATURES_VERSION) {
      return failure(422, "invalid-model", "Invalid model", `the model expects features ${meta["nash.features"] ?? "(none)"}; this market computes ${FEATURES_VERSION}`);
    }
    try {
      await (await this.load()).swap(bytes);
    } catch (err) {
      return failure(422, "invalid-model", "Invalid model", `onnxruntime refused the model: ${(err as Error).message}`);
    }
    this.settings()?.setMeta("model", base64.encode(bytes));
    this.settings()?.setMeta("model_version", meta["nash.version"] ?? "unversioned");
    return success({ model: this.view() });
  }

  view(): ModelView {
    const stored = this.settings()?.meta("model_version");
    defaultModelVersion ??= readModelMetadata(new Uint8Array(defaultModel))["nash.version"] ?? "unversioned";
    return { version: stored ?? defaultModelVersion, features: FEATURES_VERSION, loaded: this.ready, replaced: stored !== undefined };
  }
}
