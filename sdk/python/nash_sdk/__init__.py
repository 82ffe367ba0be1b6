"""NASH Python SDK: submit, read and cancel signed intents and watch a market's settlements.

Standard library only, plus Debian's python3-cryptography (or the `cryptography` wheel) for Ed25519.
The wire contract is shared/docs/CONTRACT.md section 5; the TypeScript twin is sdk/typescript.
"""

from .keys import AgentKey, generate_key, key_from_seed, load_key, save_key, signing_string, sign_headers
from .client import Client, NashError
from .stream import MarketStream, StreamRefused
from .time import deferral, iso_time, later, window

__all__ = [
    "AgentKey",
    "Client",
    "MarketStream",
    "NashError",
    "StreamRefused",
    "deferral",
    "generate_key",
    "iso_time",
    "key_from_seed",
    "later",
    "load_key",
    "save_key",
    "sign_headers",
    "signing_string",
    "window",
]
__version__ = "0.1.0"
