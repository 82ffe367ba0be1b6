"""A market's event stream over WebSocket (RFC 6455), standard library only, reconnecting when the line drops.

Events are the JSON messages the market object sends: ``intent.accepted``, ``intent.cancelled``,
``intent.expired``, ``settlement.committed`` (the ``hello`` greeting is consumed here). The service does not
replay missed events: ``on_open(n)`` is called on every (re)connection (n = 0 first, then 1, 2, ...) so the
caller can catch up with a read of the market.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import struct
import time
import urllib.parse
from typing import Any, Callable, Iterable, Iterator


class StreamRefused(Exception):
    """The server answered the upgrade with something other than 101 (bad market name, not a stream, ...)."""


class MarketStream:
    """Iterate to receive events (dicts). ``reconnect`` re-opens the socket, with backoff, after it closes or fails.

    ``timeout`` (seconds) bounds the wait for the next event: iteration then raises ``TimeoutError``.
    ``types`` narrows the stream to those events (``?types=``), e.g. ``["settlement.committed"]``; default all.
    """

    def __init__(
        self,
        base_url: str,
        market: str,
        *,
        reconnect: bool = True,
        timeout: float | None = None,
        on_open: Callable[[int], None] | None = None,
        max_backoff: float = 5.0,
        types: Iterable[str] | None = None,
    ):
        url = urllib.parse.urlsplit(base_url)
        self.secure = url.scheme == "https"
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (443 if self.secure else 80)
        self.path = f"{url.path.rstrip('/')}/v1/markets/{urllib.parse.quote(market, safe='')}/stream"
        if types is not None:  # only these events (after ``hello``), e.g. ["settlement.committed"]
            self.path += "?types=" + urllib.parse.quote(",".join(types), safe=",")
        self.reconnect = reconnect
        self.timeout = timeout
        self.on_open = on_open
        self.max_backoff = max_backoff
        #: completed (re)connections so far
        self.opens = 0
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> "MarketStream":
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=10)
        if self.secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        sock.sendall(request.encode("ascii"))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("stream: connection closed during the handshake")
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            sock.close()
            raise StreamRefused(f"stream: upgrade refused: {status.decode('latin-1')}")
        sock.settimeout(self.timeout)
        self._sock, self._buffer = sock, rest
        # The server greets each connection with `hello`: read it here, so a connection counts once it is live.
        greeting = self._receive()
        if greeting is None or json.loads(greeting).get("type") != "hello":
            raise ConnectionError("stream: no hello from the server")
        if self.on_open:
            self.on_open(self.opens)
        self.opens += 1

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._send(0x8, b"")
            except OSError:
                pass
            self._sock.close()
            self._sock = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        failures = 0
        while True:
            try:
                if self._sock is None:
                    self.connect()
                message = self._receive()
                failures = 0
            except socket.timeout:
                raise TimeoutError(f"stream: no event within {self.timeout} s") from None
            except (OSError, ConnectionError):
                message = None
            if message is None:  # dropped, or closed by the server
                self._drop()
                if not self.reconnect:
                    return
                failures += 1
                time.sleep(min(self.max_backoff, 0.2 * 2 ** (failures - 1)))
                continue
            if message == "pong":
                continue
            yield json.loads(message)

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock, self._buffer = None, b""

    # -- frames ---------------------------------------------------------------------------------------------
    def _read(self, n: int) -> bytes:
        assert self._sock is not None
        while len(self._buffer) < n:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream: connection closed")
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _receive(self) -> str | None:
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, length = b0 & 0x0F, b1 & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            if opcode == 0x8:
                return None
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode in (0x1, 0x2, 0x0):
                message += payload
                if b0 & 0x80:
                    return message.decode("utf-8")

    def _send(self, opcode: int, payload: bytes) -> None:
        assert self._sock is not None
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self._sock.sendall(header + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload)))
