// The human-readable API reference, rendered on the server from the OpenAPI document (src/api/openapi.ts):
// one self-contained HTML page, no scripts and nothing fetched from elsewhere, so it works offline.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

type Json = Record<string, any>;

/** A short type label for a JSON Schema: `string`, `number[]`, `IntentView`, `"buy" | "sell"`, … */
function typeLabel(schema: Json | undefined): string {
  if (!schema) return "any";
  if (typeof schema.$ref === "string") return schema.$ref.split("/").pop()!;
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(typeLabel).join(" | ");
  if (Array.isArray(schema.oneOf)) return schema.oneOf.map(typeLabel).join(" | ");
  if (schema.type === "array") return `${typeLabel(schema.items)}[]`;
  if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object" && !schema.properties) {
    return `map of ${typeLabel(schema.additionalProperties)}`;
  }
  return typeof schema.type === "string" ? schema.type : "any";
}

function constraints(schema: Json): string {
  const parts: string[] = [];
  if (schema.format) parts.push(`format ${schema.format}`);
  if (schema.pattern && !schema.format) parts.push(`pattern <code>${escapeHtml(schema.pattern)}</code>`);
  for (const k of ["minimum", "maximum", "minLength", "maxLength"]) if (schema[k] !== undefined) parts.push(`${k} ${schema[k]}`);
  if (schema.description) parts.push(escapeHtml(schema.description));
  return parts.join("; ");
}

/** A field table for an object schema; nested objects are listed with dotted names. */
function fieldRows(schema: Json, prefix = "", depth = 0): string {
  if (schema.type !== "object" || !schema.properties || depth > 2) return "";
  const required = new Set<string>(schema.required ?? []);
  let rows = "";
  for (const [name, sub] of Object.entries<Json>(schema.properties)) {
    const full = prefix + name;
    rows += `<tr><td><code>${escapeHtml(full)}</code></td><td>${escapeHtml(typeLabel(sub))}</td><td>${required.has(name) ? "yes" : ""}</td><td>${constraints(sub)}</td></tr>`;
    const inner = sub.type === "array" ? sub.items : sub;
    if (inner && inner.type === "object" && inner.properties) rows += fieldRows(inner, `${full}${sub.type === "array" ? "[]" : ""}.`, depth + 1);
  }
  return rows;
}

function schemaBlock(name: string, schema: Json): string {
  const rows = fieldRows(schema);
  let body = "";
  if (rows) {
    body = `<table><thead><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr></thead><tbody>${rows}</tbody></table>`;
  } else if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) {
    const variants: Json[] = schema.oneOf ?? schema.anyOf;
    body = variants
      .map((v) => `<h4>${escapeHtml(typeLabel(v.properties?.type ?? v))}</h4><table><thead><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr></thead><tbody>${fieldRows(v)}</tbody></table>`)
      .join("");
  }
  const raw = `<details><summary>JSON Schema</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
  return `<section class="schema" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3><p>${escapeHtml(schema.description ?? "")}</p>${body}${raw}</section>`;
}

function contentLabel(content: Json | undefined): string {
  if (!content) return "";
  return Object.entries<Json>(content)
    .map(([type, media]) => {
      const label = typeLabel(media.schema);
      const link = media.schema?.$ref ? `<a href="#schema-${escapeHtml(label)}">${escapeHtml(label)}</a>` : escapeHtml(label);
      return `${link} <span class="muted">(${escapeHtml(type)})</span>`;
    })
    .join(", ");
}

function operationBlock(path: string, method: string, op: Json): string {
  const params = (op.parameters ?? [])
    .map((p: Json) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? "yes" : ""}</td><td>${escapeHtml(p.description ?? "")} ${constraints(p.schema ?? {})}</td></tr>`)
    .join("");
  const responses = Object.entries<Json>(op.responses ?? {})
    .map(([status, r]) => `<tr><td>${escapeHtml(status)}</td><td>${escapeHtml(r.description ?? "")}</td><td>${contentLabel(r.content)}</td></tr>`)
    .join("");
  const auth = op.security ? `<p class="signed">Signed: headers <code>x-nash-agent</code>, <code>x-nash-timestamp</code>, <code>x-nash-signature</code>.</p>` : "";
  return `<section class="op" id="op-${escapeHtml(op.operationId ?? "")}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p><strong>${escapeHtml(op.summary ?? "")}</strong> <span class="muted">operationId <code>${escapeHtml(op.operationId ?? "")}</code></span></p>
${op.description ? `<p>${escapeHtml(op.description)}</p>` : ""}${auth}
${params ? `<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>notes</th></tr></thead><tbody>${params}</tbody></table>` : ""}
${op.requestBody ? `<p>Request body: ${contentLabel(op.requestBody.content)}</p>` : ""}
<table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>${responses}</tbody></table>
</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1b1f24}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f5f7;padding:.8em;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border-bottom:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;font-size:13px;padding:0 .3em}
.get{background:#2f6fdd}.post{background:#1a8f4a}.delete{background:#c0392b}.put{background:#b7791f}
.muted{color:#667}.signed{color:#7a4b00}section.op,section.schema{border-top:1px solid #ccd;padding-top:.5em;margin-top:1.5em}`;

/** The reference page for an OpenAPI document: operations, then schemas; links to the raw `/openapi.json`. */
export function renderReference(doc: Json): string {
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    for (const method of ["get", "post", "put", "delete"]) {
      const op = item[method];
      if (!op) continue;
      ops.push(operationBlock(path, method, op));
      toc.push(`<li><a href="#op-${escapeHtml(op.operationId ?? "")}">${method.toUpperCase()} ${escapeHtml(path)}</a> — ${escapeHtml(op.summary ?? "")}</li>`);
    }
  }
  const schemas = Object.entries<Json>(doc.components?.schemas ?? {}).map(([name, s]) => schemaBlock(name, s));
  const info = doc.info ?? {};
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(info.title ?? "API")} reference</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(info.title ?? "API")} <span class="muted">v${escapeHtml(info.version ?? "")}</span></h1>
<p>${escapeHtml(info.summary ?? "")}</p><p>${escapeHtml(info.description ?? "")}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi ?? "")}). Live markets: <code>/markets/{market}</code>.</p>
<h2>Operations</h2><ul>${toc.join("")}</ul>${ops.join("\n")}
<h2>Schemas</h2>${schemas.join("\n")}
</body></html>`;
}
