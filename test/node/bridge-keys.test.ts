// sr25519 hotkeys and SS58 against published vectors (sp-core tests, BITTENSOR.md) and cross-implementation ones.
import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../../src/contract/codec.ts";
import {
  DEV_PHRASE,
  keypairFromUri,
  miniSecretFromPhrase,
  signMessage,
  ss58Decode,
  ss58Encode,
  verifySignature,
} from "../../src/bridge/keys.ts";

const key = (uri: string) => {
  const r = keypairFromUri(uri);
  if (!r.ok) throw new Error(r.error);
  return r.keypair;
};

const ABANDON_12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const LEGAL_WINNER_24 =
  "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title";

describe("keypairFromUri", () => {
  // Published: BITTENSOR.md and sp-core sr25519.rs derive_hard_known_pair_should_work.
  it("derives //Alice", () => {
    const k = key("//Alice");
    expect(bytesToHex(k.publicKey)).toBe("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
    expect(k.ss58).toBe("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    expect(key(`${DEV_PHRASE}//Alice`).ss58).toBe(k.ss58);
  });

  it("derives the other well-known dev accounts", () => {
    expect(key("//Bob").ss58).toBe("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty");
    expect(key("//Charlie").ss58).toBe("5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y");
    expect(key("//Alice//stash").ss58).toBe("5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY");
  });

  // Published: sp-core derive_soft_known_pair_should_work (DEV_PHRASE + "/Alice").
  it("derives a soft junction", () => {
    expect(bytesToHex(key("/Alice").publicKey)).toBe("d6c71059dbbe9ad2b0ed3f289738b800836eb425544ce694825285b958ca755e");
  });

  it("derives the dev phrase root (no path)", () => {
    expect(key(DEV_PHRASE).ss58).toBe("5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV");
    expect(bytesToHex(key(DEV_PHRASE).publicKey)).toBe("46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a");
  });

  // Published: sp-core sr_test_vector_should_work (a raw 32-byte mini secret, Ed25519 expansion mode).
  it("accepts a 0x seed", () => {
    expect(bytesToHex(key("0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").publicKey)).toBe(
      "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f",
    );
  });

  // Cross-implementation vectors (polkadot.js keyring and substrate-interface agree on them).
  it("uses the entropy, not the phrase text, for the mini secret; the password salts it", () => {
    expect(bytesToHex(miniSecretFromPhrase(ABANDON_12))).toBe("4ed8d4b17698ddeaa1f1559f152f87b5d472f725ca86d341bd0276f1b61197e2");
    expect(key(ABANDON_12).ss58).toBe("5EPCUjPxiHAcNooYipQFWr9NmmXJKpNG5RhcntXwbtUySrgH");
    expect(bytesToHex(miniSecretFromPhrase(ABANDON_12, "TREZOR"))).toBe("b43c67f1b354a8c17e73d8b483f349f3a3549a4ee730ef08fbbd577d4decf064");
    expect(key(`${ABANDON_12}///TREZOR`).ss58).toBe("5GHRV8fpuNjWCxfoRjCBc1BqY33ddAHs9DVdkhwccAjY71pN");
    expect(key(LEGAL_WINNER_24).ss58).toBe("5Dvz1qwrSmKZkD82LgS7mrsgJSQMExLp3eZHHwfm7MqKs3nd");
    expect(key(`${LEGAL_WINNER_24}///TREZOR`).ss58).toBe("5H3QrTUbPZncGwkgUeTGXWerJnzRXJGbw1Rz3XYT4APTNT51");
  });

  it("treats numeric junctions as u64 and hashes long ones", () => {
    expect(key(`${ABANDON_12}//0`).ss58).toBe("5DvaFrBesD6jTWd3GEefcM72BSXaFRHqQuZtwBSZii1VMnuP");
    expect(key(`${ABANDON_12}//1`).ss58).toBe("5DJ8y4CAHnmjt4rdoZpR1wgXnQDnKDksskx7JTphZhMxthiG");
    expect(key("//0").ss58).toBe("5D34dL5prEUaGNQtPPZ3yN5Y6BnkfXunKXXz6fo7ZJbLwRRH");
    // A >31-byte junction goes through blake2b-256: deterministic and distinct from its prefix.
    const long = "x".repeat(40);
    expect(key(`//${long}`).ss58).toBe(key(`//${long}`).ss58);
    expect(key(`//${long}`).ss58).not.toBe(key(`//${"x".repeat(31)}`).ss58);
  });

  it("makes soft-derived keys deterministic despite the random nonce", () => {
    expect(key("//Alice/stash/1").ss58).toBe(key("//Alice/stash/1").ss58);
    expect(key("//hard/soft").ss58).not.toBe(key("//hard//soft").ss58);
  });

  it("refuses bad phrases and seeds as values", () => {
    const badWord = keypairFromUri("bottom drive obey lake curtain smoke basket hold race lonely fit walkk");
    expect(badWord.ok).toBe(false);
    const badChecksum = keypairFromUri("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon");
    expect(badChecksum.ok).toBe(false);
    expect(keypairFromUri("0x1234").ok).toBe(false);
  });
});

describe("SS58", () => {
  it("round-trips and reports the prefix", () => {
    const pub = hexToBytes("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")!;
    expect(ss58Encode(pub)).toBe("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    const d = ss58Decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
    expect(d.ok && bytesToHex(d.publicKey)).toBe(bytesToHex(pub));
    expect(d.ok && d.prefix).toBe(42);
    // Polkadot (0) and a two-byte prefix (Kusama's sibling range) round-trip too.
    expect(ss58Encode(pub, 0)).toBe("15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5");
    const two = ss58Encode(pub, 1000);
    const dt = ss58Decode(two);
    expect(dt.ok && dt.prefix).toBe(1000);
    expect(dt.ok && bytesToHex(dt.publicKey)).toBe(bytesToHex(pub));
  });

  it("rejects a changed character, a bad checksum, wrong lengths and non-base58", () => {
    const good = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    expect(ss58Decode(good.slice(0, -1) + "Z").ok).toBe(false);
    expect(ss58Decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQX").ok).toBe(false);
    expect(ss58Decode(good.slice(0, 20)).ok).toBe(false);
    expect(ss58Decode("0OIl").ok).toBe(false);
    expect(ss58Decode("").ok).toBe(false);
  });
});

describe("sr25519 signatures", () => {
  it("verifies its own signatures and refuses tampering", () => {
    const alice = key("//Alice");
    const sig = signMessage(alice, "1.a.b.c.d");
    expect(sig.length).toBe(64);
    expect(verifySignature("1.a.b.c.d", sig, alice.publicKey)).toBe(true);
    expect(verifySignature("1.a.b.c.e", sig, alice.publicKey)).toBe(false);
    expect(verifySignature("1.a.b.c.d", sig, key("//Bob").publicKey)).toBe(false);
    const flipped = sig.slice();
    flipped[10] ^= 1;
    expect(verifySignature("1.a.b.c.d", flipped, alice.publicKey)).toBe(false);
    // Marker bit cleared (not a schnorrkel signature): false, not a throw.
    const unmarked = sig.slice();
    unmarked[63] &= 0x7f;
    expect(verifySignature("1.a.b.c.d", unmarked, alice.publicKey)).toBe(false);
    expect(verifySignature("1.a.b.c.d", sig.slice(0, 63), alice.publicKey)).toBe(false);
  });

  it("accepts <Bytes>-wrapped signatures, as btwallet's Keypair.verify does", () => {
    const alice = key("//Alice");
    const sig = signMessage(alice, "<Bytes>hello</Bytes>");
    expect(verifySignature("hello", sig, alice.publicKey)).toBe(true);
  });

  // A signature made by polkadot.js (schnorrkel WASM) over a 145-byte extrinsic payload by the abandon-12 root,
  // accepted by a Subtensor node: verification interoperates with schnorrkel, not just with itself.
  it("verifies a schnorrkel signature made elsewhere", () => {
    const payload = hexToBytes(
      "0503005244eb2b8a9f975c603485c5a76eeec41fdad88aa6ef204b7c56691940ad167102093d0045001c1400d6010000010000002f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c030648bc120c2cd5d818f442481dc500adfce8fdd57afc448181362623f129429f00",
    )!;
    const sig = hexToBytes(
      "f0ce803151838122782b9e25ddafc6336b9150d05f634620584c80d61126ca2daf3e508d71acffb5da16b99a30b35edc4b93a03c491be1a89b1f4898f11c6b87",
    )!;
    const pub = key(ABANDON_12).publicKey;
    expect(bytesToHex(pub)).toBe("66933bd1f37070ef87bd1198af3dacceb095237f803f3d32b173e6b425ed7972");
    expect(verifySignature(payload, sig, pub)).toBe(true);
    payload[0] ^= 1;
    expect(verifySignature(payload, sig, pub)).toBe(false);
  });
});
