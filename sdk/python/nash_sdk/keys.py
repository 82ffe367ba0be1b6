"""Agent keys and request signing (CONTRACT.md section 5).

Ed25519 over ``METHOD\\nPATH\\nTIMESTAMP\\nHEX_SHA256_OF_BODY``; PATH has no query string, and an empty body's
hash field is the SHA-256 of zero bytes (``e3b0c442...b855``, CONTRACT v1.1), as for any other body. Keys are
stored as the TypeScript side stores them: the public key is the raw 32 bytes in base64url, the private key
PKCS#8 DER in base64url (both without padding).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class AgentKey:
    """An agent's Ed25519 key pair; ``public_key`` is the agent's identity (``x-nash-agent``)."""

    public_key: str
    private_key: str

    def _signer(self) -> Ed25519PrivateKey:
        key = serialization.load_der_private_key(b64url_decode(self.private_key), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("private_key is not an Ed25519 key")
        return key

    def sign(self, message: bytes) -> str:
        return b64url(self._signer().sign(message))

    def to_json(self) -> str:
        return json.dumps({"publicKey": self.public_key, "privateKey": self.private_key})


def _from_private(key: Ed25519PrivateKey) -> AgentKey:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return AgentKey(public_key=b64url(raw), private_key=b64url(der))


def generate_key() -> AgentKey:
    """A fresh random key pair."""
    return _from_private(Ed25519PrivateKey.generate())


def key_from_seed(seed: bytes) -> AgentKey:
    """The key pair of a 32-byte Ed25519 seed (deterministic; test vectors)."""
    return _from_private(Ed25519PrivateKey.from_private_bytes(seed))


def load_key(path: str | None = None) -> AgentKey:
    """Loads a key from ``path``, else from NASH_AGENT_KEY (the JSON itself) or NASH_AGENT_KEY_FILE.

    The file holds ``{"publicKey": ..., "privateKey": ...}`` as ``nash keygen`` writes it.
    """
    if path is None and os.environ.get("NASH_AGENT_KEY"):
        data = json.loads(os.environ["NASH_AGENT_KEY"])
    else:
        path = path or os.environ.get("NASH_AGENT_KEY_FILE")
        if not path:
            raise ValueError("no key: pass a path, or set NASH_AGENT_KEY or NASH_AGENT_KEY_FILE")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    key = AgentKey(public_key=data["publicKey"], private_key=data["privateKey"])
    derived = _from_private(key._signer())
    if derived.public_key != key.public_key:
        raise ValueError("publicKey does not match privateKey")
    return key


def save_key(path: str, key: AgentKey) -> None:
    """Writes a key file readable by its owner only (mode 0600); refuses to overwrite an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps({"publicKey": key.public_key, "privateKey": key.private_key}, indent=2) + "\n")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signing_string(method: str, path: str, timestamp: int, body: bytes) -> str:
    return f"{method.upper()}\n{path}\n{timestamp}\n{body_hash(body)}"


def sign_headers(key: AgentKey, method: str, path: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three authentication headers for one request. ``path`` must not carry the query string."""
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    message = signing_string(method, path.split("?", 1)[0], ts, body).encode("utf-8")
    return {"x-nash-agent": key.public_key, "x-nash-timestamp": str(ts), "x-nash-signature": key.sign(message)}
