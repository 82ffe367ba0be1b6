// Field errors from zod: the one mapping every answer that names offending fields uses (HTTP problem details, the
// CLI, the SDK's local checks, reveals).
import type { z } from "zod";
import type { FieldError } from "./schema.ts";

/** Turns zod issues into field errors that name each offending field; `prefix` is the path of the parsed value. */
export function fieldErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    let message = issue.message;
    if (issue.code === "unrecognized_keys") message = `unknown field(s): ${issue.keys.join(", ")}`;
    return { field: path === "" ? "(body)" : path, message };
  });
}
