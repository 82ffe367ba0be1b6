"""HTTP client for the NASH edge service (CONTRACT.md section 5), standard library only.

Writes are signed with the agent's key. POSTs carry an ``Idempotency-Key`` (one is made when the caller gives
none), so retrying them after a lost answer or a 429/5xx is safe: the service returns the first answer.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable

from .keys import AgentKey, sign_headers
from .stream import MarketStream


class NashError(Exception):
    """A problem-details answer (RFC 9457): ``status``, ``title``, ``detail`` and the per-field ``errors``."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.title = problem.get("title", "")
        self.detail = problem.get("detail", "")
        self.errors = problem.get("errors", [])
        #: the problem code, e.g. ``invalid-intent``, ``not-cancellable``, ``rate-limited``
        self.code = str(problem.get("type", "")).replace("urn:nash:problem:", "")
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {self.title}: {self.detail}" + (f" ({fields})" if fields else ""))


_RETRYABLE = {429, 502, 503, 504}


class Client:
    """A client for one NASH service. ``key`` is needed for writes and for reads that need an identity."""

    def __init__(self, base_url: str, key: AgentKey | None = None, *, retries: int = 4, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.retries = retries
        self.timeout = timeout

    # -- the contract's routes (operation ids in /openapi.json: health, submit, getIntent, cancel, getMarket,
    # getSettlement, setConfig, stream) ------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._request("GET", "/v1/health")

    def submit(self, market: str, intent: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """Submits an intent; returns ``{"intent": {...}, "settlement"?: {...}}``.

        ``agent`` may be left out (it is the signing key). An ``Idempotency-Key`` is made when none is given, so
        this client's retries never create a second intent; pass your own to be safe across restarts too.
        """
        key = idempotency_key or str(uuid.uuid4())
        return self._request("POST", f"/v1/markets/{_seg(market)}/intents", body=intent, idempotency_key=key)

    def intent(self, market: str, intent_id: str) -> dict[str, Any]:
        """One intent with its ``status`` and ``fills``."""
        return self._request("GET", f"/v1/markets/{_seg(market)}/intents/{_seg(intent_id)}")

    def cancel(self, market: str, intent_id: str) -> dict[str, Any]:
        """Cancels one of this agent's intents; returns ``{"intent": {...}}``.

        When an earlier attempt's answer was lost and the retry finds the intent already cancelled (409), the
        cancelled intent is returned: cancelling is idempotent from the caller's side.
        """
        path = f"/v1/markets/{_seg(market)}/intents/{_seg(intent_id)}"
        retried: list[bool] = []
        try:
            return self._request("DELETE", path, on_retry=lambda: retried.append(True))
        except NashError as error:
            if retried and error.code == "not-cancellable":
                current = self.intent(market, intent_id)
                if current.get("status") == "cancelled":
                    return {"intent": current}
            raise

    def market(self, market: str) -> dict[str, Any]:
        """The market: ``config``, ``counters`` and ``openIntents``."""
        return self._request("GET", f"/v1/markets/{_seg(market)}")

    def settlement(self, market: str, settlement_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/markets/{_seg(market)}/settlements/{_seg(settlement_id)}")

    def set_config(self, market: str, config: dict[str, Any]) -> dict[str, Any]:
        """Operators only: replaces the market's configuration; returns ``{"config": {...}}``."""
        return self._request("PUT", f"/v1/markets/{_seg(market)}/config", body=config)

    # -- batches: commitments, proposals, reveals, training examples, the scoring model (operation ids:
    # getCommitments, propose, getProposals, reveal, getTrainingExamples, setModel) ---------------------------
    def commitments(self, market: str, batch: str | None = None) -> dict[str, Any]:
        """The open book's commitments (or a settled batch's): ``{"batch"?, "commitments": [...]}``."""
        return self._request("GET", f"/v1/markets/{_seg(market)}/commitments{_batch_query(batch)}")

    def propose(self, market: str, fills: list[dict[str, Any]], batch: str | None = None) -> dict[str, Any]:
        """A solver's proposal for the open batch (scored when it closes): ``{"proposal": {...}}``."""
        body: dict[str, Any] = {"fills": fills}
        if batch is not None:
            body["batch"] = batch
        return self._request("POST", f"/v1/markets/{_seg(market)}/proposals", body=body)

    def proposals(self, market: str, batch: str | None = None) -> dict[str, Any]:
        """A batch's proposals: pending while it is open, with their scores after the close."""
        return self._request("GET", f"/v1/markets/{_seg(market)}/proposals{_batch_query(batch)}")

    def reveal(self, market: str, intent_id: str, salt: str, intent: dict[str, Any] | None = None) -> dict[str, Any]:
        """Opens this agent's commitment after its batch settled (the salt from the submit answer, or your own)."""
        body: dict[str, Any] = {"intentId": intent_id, "salt": salt}
        if intent is not None:
            body["intent"] = intent
        return self._request("POST", f"/v1/markets/{_seg(market)}/reveals", body=body)

    def training_examples(self, market: str, batch: str | None = None) -> list[dict[str, Any]]:
        """Revealed batches' proposals with their true optimality (what ``npm run train -- --reveals`` reads)."""
        query = "?format=json" + ("" if batch is None else f"&batch={urllib.parse.quote(batch, safe='')}")
        return self._request("GET", f"/v1/markets/{_seg(market)}/training-examples{query}")  # type: ignore[return-value]

    def set_model(self, market: str, onnx: bytes) -> dict[str, Any]:
        """Operators only: replaces the market's scoring model (ONNX bytes, sent as base64 JSON)."""
        return self._request("PUT", f"/v1/markets/{_seg(market)}/model", body={"model": base64.b64encode(onnx).decode("ascii")})

    def stream(self, market: str, **options: Any) -> "MarketStream":
        """A WebSocket subscription to the market's events (see ``MarketStream``)."""
        return MarketStream(self.base_url, market, **options)

    watch = stream

    # -- transport ------------------------------------------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        idempotency_key: str | None = None,
        on_retry: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        must_sign = method != "GET"
        if must_sign and self.key is None:
            raise ValueError(f"{method} {path} needs an agent key")
        attempt = 0
        while True:
            headers = {"accept": "application/json"}
            if data:
                headers["content-type"] = "application/json"
            if idempotency_key:
                headers["idempotency-key"] = idempotency_key
            if must_sign:
                # Signed anew on every attempt: the timestamp moves on and a signature is never sent twice.
                headers.update(sign_headers(self.key, method, path, data))  # type: ignore[arg-type]
            request = urllib.request.Request(self.base_url + path, data=data or None, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    text = response.read().decode("utf-8")
                    return json.loads(text) if text else {}
            except urllib.error.HTTPError as error:
                text = error.read().decode("utf-8", "replace")
                retry_after = error.headers.get("retry-after")
                safe = method in ("GET", "PUT", "DELETE") or idempotency_key is not None
                if error.code in _RETRYABLE and safe and attempt < self.retries:
                    attempt += 1
                    if on_retry:
                        on_retry()
                    time.sleep(_backoff(attempt, retry_after))
                    continue
                try:
                    problem = json.loads(text)
                except ValueError:
                    problem = {"title": error.reason, "detail": text}
                raise NashError(error.code, problem) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException):
                # No answer (refused, reset, lost): safe to resend reads, keyed POSTs, PUT (it replaces) and DELETE (see cancel).
                safe = method in ("GET", "PUT", "DELETE") or idempotency_key is not None
                if safe and attempt < self.retries:
                    attempt += 1
                    if on_retry:
                        on_retry()
                    time.sleep(_backoff(attempt, None))
                    continue
                raise


def _batch_query(batch: str | None) -> str:
    return "" if batch is None else f"?batch={urllib.parse.quote(batch, safe='')}"


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Seconds to wait: the server's Retry-After when given, else exponential with full jitter (both capped at 5 s,
    as in the TypeScript SDK)."""
    if retry_after:
        try:
            return min(float(retry_after), 5.0)
        except ValueError:
            pass
    return random.uniform(0, min(5.0, 0.1 * 2**attempt))
