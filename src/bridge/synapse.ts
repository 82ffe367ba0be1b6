// The Bittensor dendrite/axon wire format, byte-compatible with the Python SDK (bittensor v10.2
// core/{synapse,dendrite,axon}.py): body hash, dendrite headers and signature, the axon's checks in its order, and
// the axon's answer. Pure: headers and bodies in, outcome values out; no I/O, no clock (callers pass `nowNs`).
import { sha3_256 } from "@noble/hashes/sha3.js";
import { base64ToBytes, bytesToBase64, bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from "../contract/codec.ts";
import { signMessage, ss58Decode, verifySignature, type Sr25519Keypair } from "./keys.ts";

/** `bittensor.core.settings.version_as_int` of the SDK release this module mirrors (10.2.0). */
export const BT_VERSION = 10_002_000;
/** Below this dendrite version the axon skips the freshness window (axon.py `V_7_2_0`). */
export const V_7_2_0 = 7_002_000;
/** axon_utils.ALLOWED_DELTA: a first nonce may be this much older than now, plus the request's timeout. */
export const ALLOWED_DELTA_NS = 4_000_000_000n;
const NS_PER_S = 1_000_000_000n;

/** A synapse class as Python declares it: its route name, its required str fields and `required_hash_fields`. */
export interface SynapseSpec {
  readonly name: string;
  /** Fields without a default: each gets a `bt_header_input_obj_{field}` header (an empty str, `IiI=`). */
  readonly requiredFields: readonly string[];
  readonly hashFields: readonly string[];
}

/**
 * ```python
 * class NashSettlement(bt.Synapse):
 *     settlement: str                      # JSON text of a SettlementMessage (src/bridge/outbox.ts)
 *     receipt: Optional[str] = None        # the miner node's answer
 *     required_hash_fields: ClassVar[tuple[str, ...]] = ("settlement",)
 * ```
 */
export const NASH_SETTLEMENT: SynapseSpec = { name: "NashSettlement", requiredFields: ["settlement"], hashFields: ["settlement"] };

/**
 * ```python
 * class NashChallenge(bt.Synapse):
 *     challenge: str                       # JSON text: {"market", "intents" | "commitments", "latency"?}
 *     settlement: Optional[str] = None     # JSON text of the market's settlement for it
 *     required_hash_fields: ClassVar[tuple[str, ...]] = ("challenge",)
 * ```
 */
export const NASH_CHALLENGE: SynapseSpec = { name: "NashChallenge", requiredFields: ["challenge"], hashFields: ["challenge"] };

/** `bittensor.utils.get_hash`: hex sha3-256 of the UTF-8 of a string. */
export function sha3Hex(s: string): string {
  return bytesToHex(sha3_256(utf8ToBytes(s)));
}

/** A lone surrogate cannot be encoded by Python's `str.encode("utf-8")` (the axon fails), while TextEncoder would
 * silently replace it: such strings are refused rather than hashed differently. */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/**
 * `Synapse.body_hash`: H(concat(H(str(value)) for each hash field)) with H = SHA3-256 (request signing's body hash
 * is SHA-256, hence the name). Only str fields are supported (str() of a str is itself), which is why NASH's
 * synapses carry JSON *text*. Undefined when a field is missing, not a string,
 * or not encodable as UTF-8 — cases where the Python axon fails too.
 */
export function sha3BodyHash(fields: Readonly<Record<string, unknown>>, hashFields: readonly string[]): string | undefined {
  let concat = "";
  for (const f of hashFields) {
    const v = fields[f];
    if (typeof v !== "string" || !isWellFormed(v)) return undefined;
    concat += sha3Hex(v);
  }
  return sha3Hex(concat);
}

/** Python `repr(float)` / `str(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const decpt = exp + 1; // value = 0.DIGITS × 10^decpt
  let out: string;
  if (decpt > 16 || decpt < -3) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else if (decpt <= 0) {
    out = `0.${"0".repeat(-decpt)}${digits}`;
  } else if (decpt >= digits.length) {
    out = `${digits}${"0".repeat(decpt - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  return neg ? `-${out}` : out;
}

/** Python `int(text)` for header values: surrounding whitespace, a sign and `_` between digits are allowed. */
export function pyInt(text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return undefined;
  return BigInt(t.replace(/_/g, ""));
}

/** Python `float(text)` for finite values (a NaN or infinite timeout would disable the nonce window: refused). */
export function pyFloat(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/.test(t)) return undefined;
  const v = Number(t.replace(/_/g, ""));
  return Number.isFinite(v) ? v : undefined;
}

/** Base64 of the UTF-8 JSON of `value`, as `bt_header_input_obj_*` carries it (Python json.dumps, ASCII only). */
function b64Json(value: unknown): string {
  const json = JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return bytesToBase64(utf8ToBytes(json));
}

// ---------------------------------------------------------------- dendrite side

export interface DendriteRequestInput {
  readonly synapse: SynapseSpec;
  /** The synapse's own fields (at least its required and hash fields), all str for NASH's synapses. */
  readonly fields: Readonly<Record<string, string>>;
  readonly keypair: Sr25519Keypair;
  /** SS58 of the receiving axon's hotkey: it is inside the signed message. */
  readonly axonHotkey: string;
  readonly axonIp?: string;
  readonly axonPort?: number;
  readonly dendriteIp?: string;
  /** Seconds; sent as Python float text. Default 12. */
  readonly timeoutSec?: number;
  /** `time.time_ns()` of the caller, strictly increasing per (hotkey, uuid): see {@link nextNonce}. */
  readonly nonce: bigint;
  readonly uuid: string;
  /** Fixed signing randomness, for reproducible tests only. */
  readonly signingRandom?: Uint8Array;
}

export interface DendriteRequest {
  /** `/{SynapseName}`: append to the axon's base URL. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly bodyHash: string;
  /** `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}`, as signed. */
  readonly signedMessage: string;
}

/** A nonce for the next request of one (hotkey, uuid) sender: the clock, or one more than the last if the clock
 * has not moved past it (two requests in the same nanosecond, or a clock step backwards). */
export function nextNonce(nowNs: bigint, lastNonce: bigint | undefined): bigint {
  return lastNonce !== undefined && nowNs <= lastNonce ? lastNonce + 1n : nowNs;
}

/** Python's json.dumps of the body (ASCII escapes; bigints, i.e. 19-digit nonces, written as exact integers). */
function pyJson(value: unknown): string {
  return bigintJson(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Builds a signed dendrite request as `Dendrite.call` sends it: headers from `Synapse.to_headers()` and the body
 * from `model_dump()`. `header_size`/`total_size` are Python `sys.getsizeof` figures no axon checks; plausible
 * values are sent.
 */
export function signDendriteRequest(input: DendriteRequestInput): DendriteRequest {
  const { synapse, fields } = input;
  const hash = sha3BodyHash(fields, synapse.hashFields);
  if (hash === undefined) throw new TypeError(`hash fields of ${synapse.name} must be well-formed strings`);
  const timeout = input.timeoutSec ?? 12;
  const dendriteHotkey = input.keypair.ss58;
  const signedMessage = `${input.nonce}.${dendriteHotkey}.${input.axonHotkey}.${input.uuid}.${hash}`;
  const signature = `0x${bytesToHex(signMessage(input.keypair, signedMessage, input.signingRandom))}`;
  const dendrite = {
    status_code: null,
    status_message: null,
    process_time: null,
    ip: input.dendriteIp ?? "0.0.0.0",
    port: null,
    version: BT_VERSION,
    nonce: input.nonce,
    uuid: input.uuid,
    hotkey: dendriteHotkey,
    signature,
  };
  const axon = {
    status_code: null,
    status_message: null,
    process_time: null,
    ip: input.axonIp ?? "0.0.0.0",
    port: input.axonPort ?? 0,
    version: null,
    nonce: null,
    uuid: null,
    hotkey: input.axonHotkey,
    signature: null,
  };
  const headers: Record<string, string> = {
    name: synapse.name,
    timeout: pyFloatStr(timeout),
    bt_header_axon_ip: axon.ip,
    bt_header_axon_port: String(axon.port),
    bt_header_axon_hotkey: axon.hotkey,
    bt_header_dendrite_ip: dendrite.ip,
    bt_header_dendrite_version: String(BT_VERSION),
    bt_header_dendrite_nonce: input.nonce.toString(),
    bt_header_dendrite_uuid: input.uuid,
    bt_header_dendrite_hotkey: dendriteHotkey,
    bt_header_dendrite_signature: signature,
  };
  for (const f of synapse.requiredFields) headers[`bt_header_input_obj_${f}`] = b64Json("");
  const body = {
    name: synapse.name,
    timeout,
    total_size: 0,
    header_size: 0,
    dendrite,
    axon,
    computed_body_hash: "",
    ...fields,
  };
  const bodyBytes = utf8ToBytes(pyJson(body)).length;
  headers.header_size = "640";
  headers.total_size = String(bodyBytes);
  headers.computed_body_hash = hash;
  body.total_size = bodyBytes;
  body.header_size = 640;
  return { path: `/${synapse.name}`, headers, body: pyJson(body), bodyHash: hash, signedMessage };
}

// ---------------------------------------------------------------- axon side

/** Per `{hotkey}:{uuid}` last accepted nonce (`Axon.nonces`). A Map satisfies it. */
export interface NonceStore {
  get(key: string): bigint | undefined;
  set(key: string, nonce: bigint): unknown;
}

export interface AxonVerifyOptions {
  readonly synapse: SynapseSpec;
  /** This axon's own SS58 hotkey: the signed message names it, whatever `bt_header_axon_hotkey` says. */
  readonly axonHotkey: string;
  /** Dendrite hotkeys (SS58, compared as sent) allowed in; everything else is blacklisted (403). A Set fits. */
  readonly allowlist: { has(hotkey: string): boolean };
  readonly nonces: NonceStore;
  /** Current time in ns since the epoch (`time.time_ns()`). */
  readonly nowNs: bigint;
}

export interface VerifiedDendrite {
  readonly hotkey: string;
  readonly nonce: bigint;
  readonly uuid: string;
  readonly signature: string;
  readonly version?: bigint;
  readonly ip?: string;
  readonly port?: bigint;
}

export interface VerifiedRequest {
  readonly synapse: SynapseSpec;
  /** The body's fields as parsed (JSON.parse: the body's own `dendrite.nonce` loses precision; use `dendrite`). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly dendrite: VerifiedDendrite;
  readonly axonHeaders: { readonly ip?: string; readonly port?: bigint };
  readonly timeoutSec: number | undefined;
  readonly computedBodyHash: string;
}

/** Why the axon refused, with the status code the Python axon answers. */
export type AxonRejection =
  | { ok: false; status: 404; reason: "unknown_synapse"; message: string }
  | { ok: false; status: 400; reason: "bad_headers"; message: string }
  | { ok: false; status: 403; reason: "blacklisted"; message: string }
  | {
      ok: false;
      status: 401;
      reason: "missing_nonce" | "stale_nonce" | "replayed_nonce" | "missing_signature" | "bad_hotkey" | "bad_signature";
      message: string;
    }
  | { ok: false; status: 500; reason: "bad_body" | "body_hash_mismatch"; message: string };

export type AxonOutcome = { ok: true; request: VerifiedRequest } | AxonRejection;

export type HeaderSource = Headers | Readonly<Record<string, string | undefined>>;

function headerGetter(h: HeaderSource): (name: string) => string | undefined {
  if (typeof (h as Headers).get === "function") return (n) => (h as Headers).get(n) ?? undefined;
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(h as Record<string, string | undefined>)) {
    if (v !== undefined) lower.set(k.toLowerCase(), v);
  }
  return (n) => lower.get(n);
}

function decodeInputObj(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    // Python's b64decode (validate=False) drops characters outside the alphabet.
    const bytes = base64ToBytes(value.replace(/[^A-Za-z0-9+/=]/g, ""));
    if (bytes === undefined) return undefined;
    const text = bytesToUtf8(bytes);
    // Python's bytes.decode("utf-8") fails on invalid UTF-8 where TextDecoder substitutes U+FFFD.
    if (utf8ToBytes(text).length !== bytes.length || text.includes("\uFFFD")) return undefined;
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Verifies a dendrite request as an `Axon` with `default_verify`, a blacklist and `verify_body_integrity` would,
 * in the axon's order: 404 unknown synapse → 400 headers → 403 blacklist (allowlist) → 401 verify (nonce rules,
 * signature) → 500 body hash. `path` is the request path (`/NashChallenge`).
 *
 * Stricter than the SDK, on purpose: a missing signature is 401 (v9.3+ axons let it through), the freshness
 * window applies to every version (the SDK skips it for versions below 7.2.0, which a sender chooses), and a
 * non-finite timeout is a bad header. As in the SDK, the nonce is recorded once verify passes, before the body
 * hash is checked.
 */
export function verifyAxonRequest(path: string, headers: HeaderSource, body: string, opts: AxonVerifyOptions): AxonOutcome {
  const name = path.split("?")[0].split("/")[1] ?? "";
  if (name !== opts.synapse.name) {
    return { ok: false, status: 404, reason: "unknown_synapse", message: `Synapse name '${name}' not found. Available synapses ['${opts.synapse.name}']` };
  }
  const get = headerGetter(headers);
  const bad = (message: string): AxonRejection => ({ ok: false, status: 400, reason: "bad_headers", message });

  // Synapse.from_headers: pydantic casts, and every required field must arrive as an input_obj header.
  const timeoutText = get("timeout");
  const timeoutSec = timeoutText === undefined ? undefined : pyFloat(timeoutText);
  if (timeoutText !== undefined && timeoutSec === undefined) return bad("timeout is not a finite float");
  const intHeader = (h: string): bigint | undefined | "bad" => {
    const t = get(h);
    if (t === undefined) return undefined;
    return pyInt(t) ?? "bad";
  };
  const nonce = intHeader("bt_header_dendrite_nonce");
  const version = intHeader("bt_header_dendrite_version");
  const dPort = intHeader("bt_header_dendrite_port");
  const aPort = intHeader("bt_header_axon_port");
  for (const [h, v] of [["nonce", nonce], ["version", version], ["dendrite port", dPort], ["axon port", aPort]] as const) {
    if (v === "bad") return bad(`${h} is not an integer`);
  }
  for (const f of opts.synapse.requiredFields) {
    if (typeof decodeInputObj(get(`bt_header_input_obj_${f}`)) !== "string") {
      return bad(`Improperly formatted request: required field '${f}' missing from bt_header_input_obj headers`);
    }
  }

  // blacklist
  const hotkey = get("bt_header_dendrite_hotkey");
  if (hotkey === undefined || !opts.allowlist.has(hotkey)) {
    return { ok: false, status: 403, reason: "blacklisted", message: `Forbidden. Key is blacklisted: ${hotkey ?? "None"} is not an allowed validator.` };
  }

  // default_verify
  const uuid = get("bt_header_dendrite_uuid");
  const computedBodyHash = get("computed_body_hash");
  const signature = get("bt_header_dendrite_signature");
  const unverified = (reason: Extract<AxonRejection, { status: 401 }>["reason"], why: string): AxonRejection => ({
    ok: false,
    status: 401,
    reason,
    message: `Not Verified with error: ${why}`,
  });
  const key = ss58Decode(hotkey);
  if (!key.ok) return unverified("bad_hotkey", `invalid hotkey: ${key.error}`);
  if (typeof nonce !== "bigint") return unverified("missing_nonce", "Missing Nonce");
  const endpointKey = `${hotkey}:${uuid ?? "None"}`;
  const last = opts.nonces.get(endpointKey);
  const windowNs = BigInt(Math.round((timeoutSec ?? 0) * 1e9));
  if (last === undefined && nonce <= opts.nowNs - ALLOWED_DELTA_NS - windowNs) {
    const age = Number(opts.nowNs - nonce) / 1e9;
    const allowed = Number(ALLOWED_DELTA_NS + windowNs) / 1e9;
    return unverified("stale_nonce", `Nonce is too old: acceptable delta is ${allowed.toFixed(2)} seconds but request was ${age.toFixed(2)} seconds old`);
  }
  if (last !== undefined && nonce <= last) return unverified("replayed_nonce", "Nonce is too old, a newer one was last processed");
  if (!signature) return unverified("missing_signature", "Missing signature");
  const message = `${nonce}.${hotkey}.${opts.axonHotkey}.${uuid ?? "None"}.${computedBodyHash ?? "None"}`;
  // btwallet's Keypair.verify takes a str signature only as "0x"-prefixed hex (it strips every leading "0x").
  const sig = signature.startsWith("0x") ? hexToBytes(signature.replace(/^(?:0x)+/, "")) : undefined;
  if (!sig || !verifySignature(message, sig, key.publicKey)) {
    return unverified("bad_signature", `Signature mismatch with ${message} and ${signature}`);
  }
  opts.nonces.set(endpointKey, nonce);

  // verify_body_integrity (a route dependency: its ValueError surfaces as 500)
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, status: 500, reason: "bad_body", message: "body is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, status: 500, reason: "bad_body", message: "body is not a JSON object" };
  }
  const fields = parsed as Record<string, unknown>;
  for (const f of opts.synapse.requiredFields) {
    if (typeof fields[f] !== "string") return { ok: false, status: 500, reason: "bad_body", message: `field '${f}' must be a string` };
  }
  const recomputed = sha3BodyHash(fields, opts.synapse.hashFields);
  if (recomputed === undefined || recomputed !== (computedBodyHash ?? "")) {
    return {
      ok: false,
      status: 500,
      reason: "body_hash_mismatch",
      message: `Hash mismatch between header body hash ${computedBodyHash ?? ""} and parsed body hash ${recomputed ?? "(unhashable)"}`,
    };
  }
  const ip = get("bt_header_dendrite_ip");
  return {
    ok: true,
    request: {
      synapse: opts.synapse,
      body: fields,
      dendrite: { hotkey, nonce, uuid: uuid ?? "None", signature, version: version as bigint | undefined, ip, port: dPort as bigint | undefined },
      axonHeaders: { ip: get("bt_header_axon_ip"), port: aPort as bigint | undefined },
      timeoutSec,
      computedBodyHash: computedBodyHash ?? "",
    },
  };
}

/** The axon's own identity for its answers (`synapse.axon` filled in `preprocess`). */
export interface AxonIdentity {
  readonly hotkey: string;
  /** Signs `{axon_nonce}.{dendrite_hotkey}.{axon_hotkey}.{axon_uuid}` when given; no SDK dendrite checks it. */
  readonly keypair?: Sr25519Keypair;
  readonly uuid: string;
  readonly nowNs: bigint;
}

export interface AxonResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function terminalHeaders(prefix: string, t: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) {
    if (v === null || v === undefined) continue;
    out[`${prefix}${k}`] = typeof v === "number" && k === "process_time" ? pyFloatStr(v) : String(v);
  }
  return out;
}

/**
 * The axon's success answer (`synapse_to_response`): status 200, body = the whole synapse JSON with the
 * response fields set, headers = `to_headers()` with `bt_header_axon_status_code` 200, `status_message` "Success"
 * and `process_time`. `fields` are the synapse's fields (request fields and the answer), all strings.
 */
export function buildAxonResponse(
  request: VerifiedRequest,
  fields: Readonly<Record<string, string>>,
  axon: AxonIdentity,
  processTimeSec: number,
): AxonResponse {
  const spec = request.synapse;
  const d = request.dendrite;
  const axonNonce = axon.nowNs;
  const signature = axon.keypair
    ? `0x${bytesToHex(signMessage(axon.keypair, `${axonNonce}.${d.hotkey}.${axon.hotkey}.${axon.uuid}`))}`
    : null;
  const dendrite = {
    status_code: null,
    status_message: null,
    process_time: null,
    ip: d.ip ?? null,
    port: d.port ?? null,
    version: d.version ?? null,
    nonce: d.nonce,
    uuid: d.uuid,
    hotkey: d.hotkey,
    signature: d.signature,
  };
  const axonInfo = {
    status_code: 200,
    status_message: "Success",
    process_time: processTimeSec,
    ip: request.axonHeaders.ip ?? null,
    port: request.axonHeaders.port ?? null,
    version: BT_VERSION,
    nonce: axonNonce,
    uuid: axon.uuid,
    hotkey: axon.hotkey,
    signature,
  };
  const hash = sha3BodyHash(fields, spec.hashFields) ?? request.computedBodyHash;
  const timeout = request.timeoutSec ?? 12;
  const body = { name: spec.name, timeout, total_size: 0, header_size: 0, dendrite, axon: axonInfo, computed_body_hash: request.computedBodyHash, ...fields };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    name: spec.name,
    timeout: pyFloatStr(timeout),
    ...terminalHeaders("bt_header_axon_", axonInfo),
    ...terminalHeaders("bt_header_dendrite_", dendrite),
  };
  for (const f of spec.requiredFields) headers[`bt_header_input_obj_${f}`] = b64Json("");
  headers.header_size = "640";
  headers.total_size = "0";
  headers.computed_body_hash = hash;
  return { status: 200, headers, body: bigintJson(body) };
}

/** JSON with bigint values written as integers (19-digit nonces must not pass through a double). The marker is
 * fresh per call, so no field text can imitate it. */
function bigintJson(value: unknown): string {
  const mark = `@@${crypto.randomUUID()}@@`;
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? mark + v.toString() : v)).replace(
    new RegExp(`"${mark}(-?\\d+)"`, "g"),
    "$1",
  );
}

/** The axon's refusal (`create_error_response`): `{"message": ...}` with the status and `bt_header_axon_*`. */
export function buildAxonError(rejection: AxonRejection, spec: SynapseSpec, processTimeSec: number): AxonResponse {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    name: spec.name,
    bt_header_axon_status_code: String(rejection.status),
    bt_header_axon_status_message: asciiHeader(rejection.message),
    bt_header_axon_process_time: pyFloatStr(processTimeSec),
    bt_header_axon_version: String(BT_VERSION),
  };
  return { status: rejection.status, headers, body: JSON.stringify({ message: rejection.message }) };
}

/** Header values must be ByteStrings in fetch; messages may echo client text. */
function asciiHeader(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 1024);
}

/** Reads the axon's answer as the Python dendrite does (`process_server_response`): status from the HTTP status,
 * message from the body or headers, the synapse fields from a 200 body. */
export interface DendriteResult {
  readonly status: number;
  readonly message: string | undefined;
  readonly fields: Readonly<Record<string, unknown>> | undefined;
  readonly processTime: string | undefined;
}

export function readAxonResponse(status: number, headers: HeaderSource, body: string): DendriteResult {
  const get = headerGetter(headers);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const obj = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  if (status === 200) {
    return { status, message: get("bt_header_axon_status_message") ?? "Success", fields: obj, processTime: get("bt_header_axon_process_time") };
  }
  const message = typeof obj?.message === "string" ? obj.message : get("bt_header_axon_status_message");
  return { status, message, fields: undefined, processTime: get("bt_header_axon_process_time") };
}
