// The dendrite/axon wire format against Python's own semantics (python3 computes the expected hashes, float
// texts and parses), and every axon rejection path in the axon's order.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { keypairFromUri, verifySignature } from "../../src/bridge/keys.ts";
import { hexToBytes } from "../../src/contract/codec.ts";
import {
  ALLOWED_DELTA_NS,
  NASH_CHALLENGE,
  NASH_SETTLEMENT,
  sha3BodyHash,
  buildAxonError,
  buildAxonResponse,
  nextNonce,
  pyFloat,
  pyFloatStr,
  pyInt,
  readAxonResponse,
  sha3Hex,
  signDendriteRequest,
  verifyAxonRequest,
  type DendriteRequestInput,
} from "../../src/bridge/synapse.ts";

const python = (script: string, input: unknown): any =>
  JSON.parse(execFileSync("python3", ["-c", script], { input: JSON.stringify(input), encoding: "utf8" }));

const kp = (uri: string) => {
  const r = keypairFromUri(uri);
  if (!r.ok) throw new Error(r.error);
  return r.keypair;
};
const validator = kp("//Alice");
const miner = kp("//Bob");
const stranger = kp("//Eve");

// 2026-11-26 in ns: well past 2^53, so any double rounding would show.
const NOW = 1_764_115_200_123_456_789n;

const settlementText = JSON.stringify({ id: "s-1", market: "m", fills: [{ buy: "b1", sell: "s1", resource: "gpu-h100-hr", quantity: 100, price: 1.6 }], welfare: 40, note: "é ü 💡 \u2028 \"quoted\" \\ back" });

function request(over: Partial<DendriteRequestInput> = {}) {
  return signDendriteRequest({
    synapse: NASH_CHALLENGE,
    fields: { challenge: settlementText },
    keypair: validator,
    axonHotkey: miner.ss58,
    axonIp: "10.0.0.7",
    axonPort: 8091,
    timeoutSec: 12,
    nonce: NOW,
    uuid: "5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a",
    ...over,
  });
}

const opts = (nonces = new Map<string, bigint>(), over: Partial<Parameters<typeof verifyAxonRequest>[3]> = {}) => ({
  synapse: NASH_CHALLENGE,
  axonHotkey: miner.ss58,
  allowlist: new Set([validator.ss58]),
  nonces,
  nowNs: NOW + 50_000_000n,
  ...over,
});

const PY_HASH = `
import sys, json, hashlib
H = lambda s: hashlib.sha3_256(s.encode("utf-8")).hexdigest()
cases = json.load(sys.stdin)
print(json.dumps([H("".join(H(str(v)) for v in c)) for c in cases]))
`;

describe("body hash", () => {
  it("matches Python's hashlib over str() of each hashed field", () => {
    const cases: string[][] = [[], [""], ["a"], [settlementText], ["\u0000", "x"], ["😀".repeat(1000)], ["a", "b", "c"]];
    const expected = python(PY_HASH, cases) as string[];
    cases.forEach((c, i) => {
      const fields = Object.fromEntries(c.map((v, j) => [`f${j}`, v]));
      expect(sha3BodyHash(fields, c.map((_, j) => `f${j}`))).toBe(expected[i]);
    });
    expect(expected[0]).toBe("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    expect(sha3Hex("")).toBe("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  });

  it("matches Python on arbitrary well-formed strings (property)", () => {
    const samples = fc.sample(fc.string({ unit: "binary", maxLength: 40 }), 200);
    const expected = python(PY_HASH, samples.map((s) => [s])) as string[];
    samples.forEach((s, i) => expect(sha3BodyHash({ f: s }, ["f"])).toBe(expected[i]));
  });

  it("refuses what Python cannot hash the same way: non-strings, lone surrogates, missing fields", () => {
    expect(sha3BodyHash({ f: 5 }, ["f"])).toBeUndefined();
    expect(sha3BodyHash({ f: "a\uD800b" }, ["f"])).toBeUndefined();
    expect(sha3BodyHash({}, ["f"])).toBeUndefined();
  });
});

describe("Python number texts", () => {
  it("formats floats like Python's str()", () => {
    const xs = [12, 0.0123, 1e16, 1e15, 1e-4, 1e-5, 1.5e-7, 123456789.123, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 100, 2.5e16, -3.25, 1e22, 0.5];
    const more = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), 300);
    const all = [...xs, ...more].filter((x) => !Object.is(x, -0));
    const expected = python("import sys,json; print(json.dumps([str(float(x)) for x in json.load(sys.stdin)]))", all) as string[];
    all.forEach((x, i) => expect(pyFloatStr(x)).toBe(expected[i]));
  });

  it("parses header ints and floats like Python's int() and float()", () => {
    const ints = ["1764115200123456789", " 42 ", "+7", "-3", "1_000", "0x10", "1.0", "", "1__0", "٣"];
    const expected = python(
      "import sys,json\nout=[]\nfor s in json.load(sys.stdin):\n  try: out.append(str(int(s)) if s.isascii() else None)\n  except ValueError: out.append(None)\nprint(json.dumps(out))",
      ints,
    ) as (string | null)[];
    ints.forEach((s, i) => expect(pyInt(s)?.toString() ?? null).toBe(expected[i]));
    expect(pyFloat("12.0")).toBe(12);
    expect(pyFloat(" 12 ")).toBe(12);
    expect(pyFloat("1_2.5")).toBe(12.5);
    expect(pyFloat("nan")).toBeUndefined();
    expect(pyFloat("inf")).toBeUndefined();
    expect(pyFloat("abc")).toBeUndefined();
  });
});

describe("signDendriteRequest", () => {
  it("produces what the Python axon parses and hashes to the same values", () => {
    const r = request();
    const py = python(
      `
import sys, json, hashlib, base64
H = lambda s: hashlib.sha3_256(s.encode("utf-8")).hexdigest()
req = json.load(sys.stdin)
h, body = req["headers"], json.loads(req["body"])
print(json.dumps({
  "body_hash": H("".join(H(str(body[f])) for f in ["challenge"])),
  "message": f"{int(h['bt_header_dendrite_nonce'])}.{h['bt_header_dendrite_hotkey']}.{req['axon']}.{h['bt_header_dendrite_uuid']}.{h['computed_body_hash']}",
  "timeout": float(h["timeout"]),
  "input_obj": json.loads(base64.b64decode(h["bt_header_input_obj_challenge"]).decode("utf-8")),
  "body_nonce_exact": body["dendrite"]["nonce"] == int(h["bt_header_dendrite_nonce"]),
  "version": int(h["bt_header_dendrite_version"]),
  "name": body["name"],
}))`,
      { headers: r.headers, body: r.body, axon: miner.ss58 },
    );
    expect(r.headers.computed_body_hash).toBe(py.body_hash);
    expect(r.bodyHash).toBe(py.body_hash);
    expect(r.signedMessage).toBe(py.message);
    expect(r.signedMessage.startsWith(`${NOW}.`)).toBe(true);
    expect(py.timeout).toBe(12);
    expect(r.headers.timeout).toBe("12.0");
    expect(py.input_obj).toBe("");
    expect(r.headers.bt_header_input_obj_challenge).toBe("IiI=");
    expect(py.body_nonce_exact).toBe(true);
    expect(py.version).toBe(10_002_000);
    expect(py.name).toBe("NashChallenge");
    expect(r.path).toBe("/NashChallenge");
    expect(r.headers.bt_header_dendrite_signature).toMatch(/^0x[0-9a-f]{128}$/);
  });

  it("keeps nonces increasing per sender even when the clock does not move", () => {
    expect(nextNonce(NOW, undefined)).toBe(NOW);
    expect(nextNonce(NOW, NOW)).toBe(NOW + 1n);
    expect(nextNonce(NOW - 5n, NOW)).toBe(NOW + 1n);
    expect(nextNonce(NOW + 9n, NOW)).toBe(NOW + 9n);
  });
});

describe("verifyAxonRequest", () => {
  it("accepts a good request and records its nonce exactly", () => {
    const nonces = new Map<string, bigint>();
    const r = request();
    const out = verifyAxonRequest(r.path, r.headers, r.body, opts(nonces));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.request.body.challenge).toBe(settlementText);
    expect(out.request.dendrite.nonce).toBe(NOW);
    expect(nonces.get(`${validator.ss58}:5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a`)).toBe(NOW);
    // Headers as a fetch Headers object work the same way.
    const nonces2 = new Map<string, bigint>();
    expect(verifyAxonRequest(r.path, new Headers(r.headers), r.body, opts(nonces2)).ok).toBe(true);
  });

  it("404: another synapse's route", () => {
    const r = request();
    const out = verifyAxonRequest("/NashSettlement", r.headers, r.body, opts());
    expect(out).toMatchObject({ ok: false, status: 404, reason: "unknown_synapse" });
  });

  it("400: unparseable headers and a missing input_obj header", () => {
    const r = request();
    const cases: Record<string, string | undefined>[] = [
      { ...r.headers, timeout: "soon" },
      { ...r.headers, timeout: "nan" },
      { ...r.headers, bt_header_dendrite_nonce: "12ab" },
      { ...r.headers, bt_header_dendrite_version: "v10" },
      { ...r.headers, bt_header_axon_port: "http" },
      { ...r.headers, bt_header_input_obj_challenge: undefined },
      { ...r.headers, bt_header_input_obj_challenge: btoa("5") },
      { ...r.headers, bt_header_input_obj_challenge: "!!!" },
    ];
    for (const h of cases) {
      expect(verifyAxonRequest(r.path, h, r.body, opts())).toMatchObject({ ok: false, status: 400, reason: "bad_headers" });
    }
  });

  it("403: a hotkey outside the allowlist, or none, even when well signed", () => {
    const r = request({ keypair: stranger });
    expect(verifyAxonRequest(r.path, r.headers, r.body, opts())).toMatchObject({ status: 403, reason: "blacklisted" });
    const { bt_header_dendrite_hotkey: _, ...noHotkey } = request().headers;
    expect(verifyAxonRequest(r.path, noHotkey, r.body, opts())).toMatchObject({ status: 403 });
    // Blacklist comes before verify: an unsigned stranger is 403, not 401.
    const { bt_header_dendrite_signature: __, ...unsigned } = r.headers;
    expect(verifyAxonRequest(r.path, unsigned, r.body, opts())).toMatchObject({ status: 403 });
  });

  it("401: missing or bad signature, wrong axon, tampered hash header, invalid hotkey", () => {
    const r = request();
    const { bt_header_dendrite_signature: _, ...unsigned } = r.headers;
    expect(verifyAxonRequest(r.path, unsigned, r.body, opts())).toMatchObject({ status: 401, reason: "missing_signature" });
    const sig = r.headers.bt_header_dendrite_signature;
    const flipped = sig.slice(0, 10) + (sig[10] === "0" ? "1" : "0") + sig.slice(11);
    expect(verifyAxonRequest(r.path, { ...r.headers, bt_header_dendrite_signature: flipped }, r.body, opts())).toMatchObject({ status: 401, reason: "bad_signature" });
    expect(verifyAxonRequest(r.path, { ...r.headers, bt_header_dendrite_signature: "0xzz" }, r.body, opts())).toMatchObject({ status: 401, reason: "bad_signature" });
    // Hex without "0x" is refused by btwallet ("Expected hex string"), so here too.
    expect(verifyAxonRequest(r.path, { ...r.headers, bt_header_dendrite_signature: sig.slice(2) }, r.body, opts())).toMatchObject({ status: 401, reason: "bad_signature" });
    // Signed for another axon: the message names the verifying axon's own hotkey, not the header's.
    const other = request({ axonHotkey: stranger.ss58 });
    expect(verifyAxonRequest(other.path, other.headers, other.body, opts())).toMatchObject({ status: 401, reason: "bad_signature" });
    const spoofedHeader = { ...other.headers, bt_header_axon_hotkey: miner.ss58 };
    expect(verifyAxonRequest(other.path, spoofedHeader, other.body, opts())).toMatchObject({ status: 401 });
    // A body hash header that was changed along with the body no longer matches the signature.
    const tamperedBody = r.body.replace("gpu-h100-hr", "gpu-a100-hr");
    const tamperedHash = sha3BodyHash({ challenge: JSON.parse(tamperedBody).challenge }, ["challenge"])!;
    expect(verifyAxonRequest(r.path, { ...r.headers, computed_body_hash: tamperedHash }, tamperedBody, opts())).toMatchObject({ status: 401, reason: "bad_signature" });
    // An allowlisted string that is not a valid SS58 address cannot be verified.
    const bogus = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX";
    expect(
      verifyAxonRequest(r.path, { ...r.headers, bt_header_dendrite_hotkey: bogus }, r.body, opts(new Map(), { allowlist: new Set([bogus]) })),
    ).toMatchObject({ status: 401, reason: "bad_hotkey" });
  });

  it("401: nonce rules per hotkey and uuid, with nonces past 2^53 compared exactly", () => {
    const { bt_header_dendrite_nonce: _, ...noNonce } = request().headers;
    expect(verifyAxonRequest("/NashChallenge", noNonce, request().body, opts())).toMatchObject({ status: 401, reason: "missing_nonce" });

    const nonces = new Map<string, bigint>();
    const first = request();
    expect(verifyAxonRequest(first.path, first.headers, first.body, opts(nonces)).ok).toBe(true);
    // The same request again (a replay) and an older nonce: refused.
    expect(verifyAxonRequest(first.path, first.headers, first.body, opts(nonces))).toMatchObject({ status: 401, reason: "replayed_nonce" });
    const older = request({ nonce: NOW - 1n });
    expect(verifyAxonRequest(older.path, older.headers, older.body, opts(nonces))).toMatchObject({ status: 401, reason: "replayed_nonce" });
    // NOW + 1 is the same double as NOW (both > 2^53): only exact BigInt comparison accepts it.
    expect(Number(NOW + 1n)).toBe(Number(NOW));
    const next = request({ nonce: NOW + 1n });
    expect(verifyAxonRequest(next.path, next.headers, next.body, opts(nonces)).ok).toBe(true);
    expect(nonces.get(`${validator.ss58}:5ecbd69c-1cec-11ee-b0dc-e29ce36fec1a`)).toBe(NOW + 1n);
    // Another uuid is another sequence: its first nonce only has to be fresh.
    const otherUuid = request({ uuid: "other", nonce: NOW - 2n });
    expect(verifyAxonRequest(otherUuid.path, otherUuid.headers, otherUuid.body, opts(nonces)).ok).toBe(true);
  });

  it("401: a first nonce older than now − 4 s − timeout; the boundary is exact", () => {
    const timeoutNs = 12n * 1_000_000_000n;
    const edge = NOW - ALLOWED_DELTA_NS - timeoutNs;
    const atEdge = request({ nonce: edge });
    expect(verifyAxonRequest(atEdge.path, atEdge.headers, atEdge.body, opts(new Map(), { nowNs: NOW }))).toMatchObject({ status: 401, reason: "stale_nonce" });
    const inside = request({ nonce: edge + 1n });
    expect(verifyAxonRequest(inside.path, inside.headers, inside.body, opts(new Map(), { nowNs: NOW })).ok).toBe(true);
    // A shorter timeout narrows the window.
    const short = request({ nonce: NOW - 5_000_000_000n, timeoutSec: 0.5 });
    expect(verifyAxonRequest(short.path, short.headers, short.body, opts(new Map(), { nowNs: NOW }))).toMatchObject({ status: 401, reason: "stale_nonce" });
    // Claiming an ancient SDK version does not switch the window off (stricter than the SDK).
    const legacy = request({ nonce: NOW - 60_000_000_000n });
    const legacyHeaders = { ...legacy.headers, bt_header_dendrite_version: "7001000" };
    expect(verifyAxonRequest(legacy.path, legacyHeaders, legacy.body, opts(new Map(), { nowNs: NOW }))).toMatchObject({ status: 401, reason: "stale_nonce" });
  });

  it("500: body changed after signing (hash header kept), or not JSON; the nonce is spent as in the SDK", () => {
    const r = request();
    const nonces = new Map<string, bigint>();
    const tampered = r.body.replace("gpu-h100-hr", "gpu-a100-hr");
    expect(verifyAxonRequest(r.path, r.headers, tampered, opts(nonces))).toMatchObject({ status: 500, reason: "body_hash_mismatch" });
    expect(nonces.size).toBe(1);
    const r2 = request({ nonce: NOW + 10n });
    expect(verifyAxonRequest(r2.path, r2.headers, "{not json", opts())).toMatchObject({ status: 500, reason: "bad_body" });
    const r3 = request({ nonce: NOW + 11n });
    expect(verifyAxonRequest(r3.path, r3.headers, JSON.stringify({ challenge: 5 }), opts())).toMatchObject({ status: 500, reason: "bad_body" });
  });
});

describe("axon answers", () => {
  it("builds the synapse JSON and bt_header_axon_* headers a Python dendrite reads", () => {
    const r = request();
    const out = verifyAxonRequest(r.path, r.headers, r.body, opts());
    if (!out.ok) throw new Error("expected ok");
    const answer = JSON.stringify({ id: "s-9", welfare: 40 });
    const res = buildAxonResponse(out.request, { challenge: settlementText, settlement: answer }, { hotkey: miner.ss58, keypair: miner, uuid: "axon-uuid", nowNs: NOW + 3n }, 0.0125);
    expect(res.status).toBe(200);
    expect(res.headers.bt_header_axon_status_code).toBe("200");
    expect(res.headers.bt_header_axon_status_message).toBe("Success");
    expect(res.headers.bt_header_axon_process_time).toBe("0.0125");
    expect(res.headers.bt_header_dendrite_nonce).toBe(NOW.toString());
    expect(res.headers.computed_body_hash).toBe(r.bodyHash);
    // Python reads the body with its exact nonce and sees the answer field.
    const py = python(
      "import sys,json\nd=json.load(sys.stdin)\nb=json.loads(d['body'])\nprint(json.dumps({'nonce': str(b['dendrite']['nonce']), 'axon_nonce': str(b['axon']['nonce']), 'settlement': b['settlement'], 'status': b['axon']['status_code']}))",
      { body: res.body },
    );
    expect(py).toEqual({ nonce: NOW.toString(), axon_nonce: (NOW + 3n).toString(), settlement: answer, status: 200 });
    // The axon's signature covers {axon_nonce}.{dendrite_hotkey}.{axon_hotkey}.{axon_uuid}.
    const sig = hexToBytes(res.headers.bt_header_axon_signature)!;
    expect(verifySignature(`${NOW + 3n}.${validator.ss58}.${miner.ss58}.axon-uuid`, sig, miner.publicKey)).toBe(true);
    expect(verifySignature(`${NOW + 4n}.${validator.ss58}.${miner.ss58}.axon-uuid`, sig, miner.publicKey)).toBe(false);
    const read = readAxonResponse(res.status, res.headers, res.body);
    expect(read.fields?.settlement).toBe(answer);
  });

  it("builds errors as {message} with the status in headers", () => {
    const r = request({ keypair: stranger });
    const out = verifyAxonRequest(r.path, r.headers, r.body, opts());
    if (out.ok) throw new Error("expected a rejection");
    const res = buildAxonError(out, NASH_SETTLEMENT, 0.001);
    expect(res.status).toBe(403);
    expect(res.headers.bt_header_axon_status_code).toBe("403");
    expect(JSON.parse(res.body).message).toContain("blacklisted");
    const read = readAxonResponse(res.status, res.headers, res.body);
    expect(read).toMatchObject({ status: 403 });
    expect(read.message).toContain("blacklisted");
  });
});
