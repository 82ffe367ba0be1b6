"""A buyer and a seller trade GPU hours through NASH with the Python SDK, and a stream watches the settlement.

Run against `npm run dev` (in another terminal), with Debian's python3 and python3-cryptography:
    PYTHONPATH=sdk/python /usr/bin/python3 examples/sdk/bilateral.py     # BASE_URL defaults to http://127.0.0.1:8787
"""

import os
import threading
import time

from nash_sdk import Client, generate_key

base_url = os.environ.get("BASE_URL", "http://127.0.0.1:8787")
market = os.environ.get("MARKET", f"example-py-{int(time.time() * 1000):x}")

# Each agent is an Ed25519 key; `nash keygen --out me.json` makes one to keep (load it with nash_sdk.load_key).
buyer = Client(base_url, generate_key())
seller = Client(base_url, generate_key())

# The buyer's intent opens the market (a market exists from its first write; before it, its stream answers 404).
buyer.submit(market, {"id": "inference", "side": "buy", "resource": "gpu-h100-hr", "quantity": 100, "limitPrice": 1.8, "region": "eu-west"})

# Watch before the seller arrives, in a thread, so the settlement is seen as it is committed.
opened = threading.Event()
settled = []
stream = Client(base_url).stream(market, timeout=30, on_open=lambda n: opened.set())


def watch():
    for event in stream:
        if event["type"] == "settlement.committed":
            settled.append(event["settlement"])
            return


watcher = threading.Thread(target=watch, daemon=True)
watcher.start()
opened.wait(30)

answer = seller.submit(market, {"id": "compute", "side": "sell", "resource": "gpu-h100-hr", "quantity": 500, "limitPrice": 1.4, "region": "eu-west"})
print(f"seller's intent: {answer['intent']['status']}, {answer['intent']['remainingQuantity']} left")

watcher.join(30)
stream.close()
settlement = settled[0]
for f in settlement["fills"]:
    print(f"{settlement['id']}: {f['quantity']:.6g} {f['resource']}, {f['buy']} buys from {f['sell']} at {f['price']:.6g}")
print(f"welfare {settlement['welfare']:.6g} ({settlement['stats']['status']}, solved in {settlement['stats']['solveMs']:.6g} ms)")

cancelled = seller.cancel(market, "compute")["intent"]
print(f"seller's intent: {cancelled['status']} after {cancelled['filledQuantity']:.6g} filled")
print(f"watch it live: {base_url}/markets/{market}")
