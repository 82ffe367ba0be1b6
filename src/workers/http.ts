// HTTP plumbing of the edge worker: the one typed error (HttpError), and capped body reading. Routes throw
// HttpError; `problemResponse` in the app's onError turns any error into problem details (rendered by
// src/market/outcome.ts, which the market object's stream uses too).
import type { FieldError } from "../contract/schema.ts";
import { problemDetailsResponse, type Problem } from "../market/outcome.ts";

/** The largest request body accepted: intents and configs are small, and a cap keeps the worker's memory bounded. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A caller-facing failure with its HTTP status; thrown by routes, rendered by `problemResponse`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: Problem) {
    super(problem.detail);
    this.name = "HttpError";
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.errors = problem.errors;
    this.retryAfterSeconds = problem.retryAfterSeconds;
  }

  static of(status: number, code: string, title: string, detail: string, errors?: FieldError[]): HttpError {
    return new HttpError({ status, code, title, detail, errors });
  }
}

/** Renders any error as problem details; anything but an HttpError is a 500 without internals. */
export function problemResponse(err: unknown): Response {
  if (err instanceof HttpError) {
    return problemDetailsResponse({ status: err.status, code: err.code, title: err.title, detail: err.message, errors: err.errors, retryAfterSeconds: err.retryAfterSeconds });
  }
  console.error("unhandled error", err);
  return problemDetailsResponse({ status: 500, code: "internal", title: "Internal error", detail: "the server failed to handle this request" });
}

function tooLarge(): HttpError {
  return HttpError.of(413, "body-too-large", "Request body too large", `bodies are limited to ${MAX_BODY_BYTES} bytes`);
}

/**
 * Reads the body, refusing it with 413 as soon as it is known to exceed `cap`: from Content-Length when
 * declared, and by counting the bytes actually received (a client may lie or stream).
 */
export async function readCappedBody(request: Request, cap = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > cap) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  // A declared length frames the body (the HTTP parser reads no more than it), so it is read whole, in one
  // allocation, and checked again; without one (chunked) the chunks are counted as they come.
  if (declared !== null && /^\d+$/.test(declared)) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > cap) throw tooLarge();
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/** Parses a JSON object body; malformed UTF-8 or JSON, or a non-object, is a 400 that names the body. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw HttpError.of(400, "malformed-json", "Malformed JSON", "the request body is not valid UTF-8 JSON", [
      { field: "(body)", message: "not valid JSON" },
    ]);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw HttpError.of(400, "malformed-json", "Body must be a JSON object", "the request body must be a JSON object", [
      { field: "(body)", message: "must be a JSON object" },
    ]);
  }
  return value as Record<string, unknown>;
}
