// Outcomes of market operations as values (STYLE.md 3): a success, or a problem that the edge worker turns
// into an RFC 9457 answer. The market object never throws for a caller's mistake.
import type { FieldError } from "../contract/schema.ts";

/** A caller-facing failure: `status` is the HTTP status, `code` a stable slug (the problem type's last segment). */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: FieldError[];
  /** For 429: seconds until a retry can succeed (the Retry-After header). */
  retryAfterSeconds?: number;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export function success<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function failure(status: number, code: string, title: string, detail: string, extra?: Partial<Problem>): Outcome<never> {
  return { ok: false, problem: { status, code, title, detail, ...extra } };
}

/** The problem `type` URI for a code: stable identifiers, not links. */
export function problemType(code: string): string {
  return `urn:nash:problem:${code}`;
}

/** A problem as an RFC 9457 answer (application/problem+json, Retry-After for a 429): the one renderer, used by
 *  the edge worker's onError and by the market object's stream upgrade. */
export function problemDetailsResponse(problem: Problem): Response {
  const body: Record<string, unknown> = {
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
  };
  if (problem.errors && problem.errors.length > 0) body.errors = problem.errors;
  const headers = new Headers({ "content-type": "application/problem+json" });
  if (problem.retryAfterSeconds !== undefined) headers.set("retry-after", String(problem.retryAfterSeconds));
  return new Response(JSON.stringify(body), { status: problem.status, headers });
}
