"""The Python SDK: signing against the service's test vectors, keys on disk, and every operation against a
running service (NASH_BASE_URL, e.g. started by test/node/sdk-e2e.test.ts). Run with Debian's python3:

    NASH_BASE_URL=http://127.0.0.1:8787 PYTHONPATH=sdk/python /usr/bin/python3 -m unittest discover -s test/python -v
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import stat
import tempfile
import threading
import time
import unittest
import uuid

from nash_sdk import Client, NashError, StreamRefused, deferral, generate_key, iso_time, key_from_seed, later, load_key, save_key, sign_headers, signing_string, window

BASE = os.environ.get("NASH_BASE_URL", "")
BUY = {"side": "buy", "resource": "gpu-h100-hr", "quantity": 100, "limitPrice": 1.8, "region": "eu-west"}
SELL = {"side": "sell", "resource": "gpu-h100-hr", "quantity": 500, "limitPrice": 1.4, "region": "eu-west"}
SEED = bytes(range(32))


def new_market() -> str:
    return f"py-{uuid.uuid4().hex[:12]}"


class Signing(unittest.TestCase):
    """The vectors of test/node/auth.test.ts (notes/edge.md): both SDKs sign byte for byte alike."""

    def test_key_from_seed(self):
        key = key_from_seed(SEED)
        self.assertEqual(key.public_key, "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg")
        self.assertEqual(key.private_key, "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f")

    def test_empty_body_signs_the_hash_of_zero_bytes(self):
        self.assertEqual(
            signing_string("delete", "/v1/markets/demo/intents/i-1", 1700000000000, b""),
            "DELETE\n/v1/markets/demo/intents/i-1\n1700000000000\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        headers = sign_headers(key_from_seed(SEED), "DELETE", "/v1/markets/demo/intents/i-1", b"", 1700000000000)
        self.assertEqual(headers["x-nash-signature"], "liIX64jWlTaZDIHkd9HqAL6m-D3zfZSWlQHNjlicYE7kdL5rTxzHPE5FBhnVFOl7BgaVab0FTlP5jmqqhU9FAQ")
        self.assertEqual(headers["x-nash-timestamp"], "1700000000000")

    def test_body_signature_and_query_is_not_signed(self):
        headers = sign_headers(key_from_seed(SEED), "POST", "/v1/markets/demo/intents?x=1", b'{"side":"buy"}', 1700000000000)
        self.assertEqual(headers["x-nash-signature"], "EgxyuMXsWTVxy_quODjja1rXqnlKjV9WoXd1mn47VFk1qZxOu8OoKb3DPmJV8W78RW4P2RkWPUPnobv3BA5BCw")


class Keys(unittest.TestCase):
    def test_save_and_load(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "agent.json")
            key = generate_key()
            save_key(path, key)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            self.assertEqual(load_key(path), key)
            with self.assertRaises(FileExistsError):
                save_key(path, key)
            old = dict(os.environ)
            try:
                os.environ.pop("NASH_AGENT_KEY", None)
                os.environ["NASH_AGENT_KEY_FILE"] = path
                self.assertEqual(load_key(), key)
                os.environ["NASH_AGENT_KEY"] = key.to_json()
                self.assertEqual(load_key(), key)
            finally:
                os.environ.clear()
                os.environ.update(old)

    def test_mismatched_pair_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.json")
            with open(path, "w") as f:
                json.dump({"publicKey": generate_key().public_key, "privateKey": generate_key().private_key}, f)
            with self.assertRaisesRegex(ValueError, "does not match"):
                load_key(path)


class Times(unittest.TestCase):
    """The time helpers write what the service writes (ISO-8601 UTC to the millisecond, as JavaScript's toISOString)."""

    def test_window_from_a_start_and_hours(self):
        import datetime as dt

        self.assertEqual(window("2026-06-01T08:00:00Z", 2), {"start": "2026-06-01T08:00:00.000Z", "end": "2026-06-01T10:00:00.000Z"})
        self.assertEqual(window(dt.datetime(2026, 6, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=2))), 0.5)["start"], "2026-06-01T06:00:00.000Z")
        self.assertEqual(window(1_780_300_800_123, 1)["start"], "2026-06-01T08:00:00.123Z")
        self.assertEqual(iso_time(dt.datetime(2026, 6, 1, 8)), "2026-06-01T08:00:00.000Z")  # naive: UTC
        for bad in (0, -1, float("nan")):
            with self.assertRaises(ValueError):
                window("2026-06-01T08:00:00Z", bad)

    def test_deferral_is_a_swap_of_a_resource_for_itself_later(self):
        held = window("2026-06-01T08:00:00Z", 2)
        self.assertEqual(later(held, 4), {"start": "2026-06-01T12:00:00.000Z", "end": "2026-06-01T14:00:00.000Z"})
        d = deferral("gpu-h100-hr", held, 4, 0.3)
        self.assertEqual((d["side"], d["kind"], d["resource"], d["limitPrice"]), ("sell", "swap", "gpu-h100-hr", 0.3))
        self.assertEqual(d["swapFor"], {"resource": "gpu-h100-hr", "window": later(held, 4)})


@unittest.skipUnless(BASE, "set NASH_BASE_URL to a running service")
class Live(unittest.TestCase):
    def test_health(self):
        self.assertTrue(Client(BASE).health()["ok"])

    def test_bilateral_settles_at_the_midpoint(self):
        market = new_market()
        buyer, seller = Client(BASE, generate_key()), Client(BASE, generate_key())
        b = buyer.submit(market, {"id": "b1", **BUY})
        self.assertEqual(b["intent"]["status"], "open")
        self.assertEqual(b["intent"]["agent"], buyer.key.public_key)
        s = seller.submit(market, {"id": "s1", **SELL})
        fill = s["settlement"]["fills"][0]
        self.assertEqual((fill["buy"], fill["sell"], fill["quantity"]), ("b1", "s1", 100))
        self.assertAlmostEqual(fill["price"], 1.6, places=9)
        self.assertAlmostEqual(s["settlement"]["welfare"], 40, places=9)
        self.assertEqual(buyer.intent(market, "b1")["status"], "filled")
        self.assertEqual(buyer.settlement(market, s["settlement"]["id"]), s["settlement"])
        counters = buyer.market(market)["counters"]
        self.assertEqual((counters["intents"], counters["settlements"], counters["volume"]), (2, 1, 100))

    def test_windowed_intents_and_a_deferral_settle_with_delivery_times(self):
        import datetime as dt

        market = new_market()
        hour = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        compute, storage, inference = (Client(BASE, generate_key()) for _ in range(3))
        held = window(hour, 2)
        compute.submit(market, {"id": "compute", "side": "sell", "resource": "gpu-h100-hr", "quantity": 300, "limitPrice": 1.2, "region": "us-east", "window": window(later(held, 4)["start"], 6)})
        storage.submit(market, {"id": "storage", **deferral("gpu-h100-hr", held, 4, 0.3), "quantity": 200, "region": "eu-central"})
        answer = inference.submit(market, {"id": "inference", **BUY, "quantity": 200, "limitPrice": 2.0, "window": held, "priority": "high", "preferLatencyMs": 30, "latencyDiscount": 0.002})
        self.assertEqual(answer["intent"]["window"], held)
        self.assertEqual(answer["intent"]["priority"], "high")
        fills = {(f["buy"], f["sell"]): f for f in answer["settlement"]["fills"]}
        self.assertEqual(set(fills), {("inference", "storage"), ("storage", "compute")})
        self.assertEqual((fills[("inference", "storage")]["start"], fills[("inference", "storage")]["end"]), (held["start"], held["end"]))
        self.assertGreaterEqual(fills[("storage", "compute")]["start"], later(held, 4)["start"])
        self.assertAlmostEqual(answer["settlement"]["welfare"], 100, places=6)
        with self.assertRaises(NashError) as bad:
            inference.submit(market, {**BUY, "maxRate": 10})
        self.assertEqual(bad.exception.status, 422)
        self.assertIn("maxRate", [e["field"] for e in bad.exception.problem.get("errors", [])])

    def test_cancel_and_refusals(self):
        market = new_market()
        owner, other = Client(BASE, generate_key()), Client(BASE, generate_key())
        owner.submit(market, {"id": "c1", **BUY})
        self.assertEqual(owner.cancel(market, "c1")["intent"]["status"], "cancelled")
        with self.assertRaises(NashError) as again:
            owner.cancel(market, "c1")
        self.assertEqual((again.exception.status, again.exception.code), (409, "not-cancellable"))
        owner.submit(market, {"id": "c2", **BUY})
        with self.assertRaises(NashError) as forbidden:
            other.cancel(market, "c2")
        self.assertEqual(forbidden.exception.status, 403)
        with self.assertRaises(NashError) as invalid:
            owner.submit(market, {**BUY, "quantity": -1})
        self.assertEqual(invalid.exception.status, 422)
        self.assertIn("quantity", [e["field"] for e in invalid.exception.errors])
        with self.assertRaises(ValueError):
            Client(BASE).submit(market, BUY)

    def test_same_idempotency_key_gives_the_first_answer(self):
        market = new_market()
        client = Client(BASE, generate_key())
        first = client.submit(market, BUY, idempotency_key="once")
        second = client.submit(market, BUY, idempotency_key="once")
        self.assertEqual(first, second)
        self.assertEqual(client.market(market)["counters"]["intents"], 1)

    def test_burst_past_the_rate_limit_lands_every_intent_once(self):
        market = new_market()
        client = Client(BASE, generate_key(), retries=8)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda k: client.submit(market, {"id": f"r{k}", **BUY, "limitPrice": 1}), range(8)))
        self.assertEqual(sorted(a["intent"]["id"] for a in answers), sorted(f"r{k}" for k in range(8)))
        self.assertEqual(client.market(market)["counters"]["intents"], 8)

    def test_stream_sees_settlements_and_reconnects(self):
        market = new_market()
        # A market exists from its first write (before it, its stream answers 404): the buyer opens it.
        buyer, seller = Client(BASE, generate_key()), Client(BASE, generate_key())
        buyer.submit(market, BUY)
        opens: list[int] = []
        stream = Client(BASE).stream(market, timeout=20, on_open=opens.append, max_backoff=0.3)
        settled: list[dict] = []
        done = threading.Event()

        def follow():
            for event in stream:
                if event["type"] == "settlement.committed":
                    settled.append(event["settlement"])
                    if len(settled) == 2:
                        break
            done.set()

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        self._wait(lambda: opens == [0])
        first = seller.submit(market, SELL)["settlement"]
        self._wait(lambda: len(settled) == 1)
        # Cut the line under the reader: it must reconnect by itself.
        stream._sock.shutdown(socket.SHUT_RDWR)
        self._wait(lambda: opens == [0, 1])
        second = buyer.submit(market, {**BUY, "quantity": 50, "limitPrice": 2})["settlement"]
        self.assertTrue(done.wait(20))
        stream.close()
        self.assertEqual([s["id"] for s in settled], [first["id"], second["id"]])

    def test_stream_narrowed_to_settlements(self):
        market = new_market()
        Client(BASE, generate_key()).submit(market, BUY)
        opens: list[int] = []
        stream = Client(BASE).stream(market, types=["settlement.committed"], timeout=20, on_open=opens.append)
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.append(next(iter(stream))["type"]), daemon=True)
        reader.start()
        self._wait(lambda: opens == [0])
        Client(BASE, generate_key()).submit(market, SELL)
        reader.join(20)
        stream.close()
        self.assertEqual(seen, ["settlement.committed"])  # the seller's intent.accepted event was not sent
        with self.assertRaises(StreamRefused):
            next(iter(Client(BASE).stream(market, types=["settlement"], reconnect=False, timeout=10)))

    def test_stream_refused_for_a_bad_market(self):
        with self.assertRaises(StreamRefused):
            next(iter(Client(BASE).stream("NOT_A_MARKET", reconnect=False, timeout=10)))
        with self.assertRaisesRegex(StreamRefused, "404"):  # a valid name that never took a write
            next(iter(Client(BASE).stream(new_market(), reconnect=False, timeout=10)))

    def _wait(self, condition, seconds: float = 15):
        end = time.time() + seconds
        while not condition():
            if time.time() > end:
                self.fail("timed out")
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()


OPERATOR_SEED = bytes([7]) * 32  # test/node/sdk-e2e.test.ts lists this key's public key in OPERATOR_AGENTS


@unittest.skipUnless(BASE, "set NASH_BASE_URL to a running service")
class Batches(unittest.TestCase):
    def test_commitments_proposal_scores_reveals_and_training_examples(self):
        market = new_market()
        operator = Client(BASE, key_from_seed(OPERATOR_SEED))
        operator.set_config(market, {"clearing": "batch", "batchIntervalMs": 2000})
        buyer, seller, solver = (Client(BASE, generate_key()) for _ in range(3))
        b = buyer.submit(market, {"id": "b1", **BUY})
        s = seller.submit(market, {"id": "s1", **SELL})
        self.assertEqual(b["commitment"]["id"], "b1")
        published = solver.commitments(market)
        self.assertEqual(sorted(c["id"] for c in published["commitments"]), ["b1", "s1"])
        self.assertNotIn("limitPrice", json.dumps(published))  # prices stay hidden behind the bands

        fill = {"buy": "b1", "sell": "s1", "resource": "gpu-h100-hr", "quantity": 100, "price": 1.6}
        batch = solver.propose(market, [fill])["proposal"]["batch"]
        with self.assertRaises(NashError) as refused:
            solver.propose(market, [{**fill, "quantity": 1000}], batch=batch)
        self.assertEqual(refused.exception.status, 422)

        deadline = time.time() + 60
        while buyer.intent(market, "b1")["status"] != "filled" and time.time() < deadline:
            time.sleep(0.3)
        self.assertEqual(buyer.intent(market, "b1")["status"], "filled")
        scored = solver.proposals(market, batch)["proposals"]
        self.assertTrue(any(p.get("chosen") for p in scored))
        for p in scored:
            self.assertIn("model", p["score"])

        buyer.reveal(market, "b1", b["salt"])
        with self.assertRaises(NashError) as mismatch:
            seller.reveal(market, "s1", "00" * 16)
        self.assertEqual(mismatch.exception.status, 422)
        seller.reveal(market, "s1", s["salt"])
        examples = solver.training_examples(market, batch)
        self.assertTrue(examples)
        self.assertAlmostEqual(max(e["label"] for e in examples), 1.0, places=9)
