"""The project's one client for OpenAI-compatible ``/v1/chat/completions`` endpoints (stdlib only).

Used by the ``openai`` runner, the LLM judge and the LLM question writer (``tasks/llm.py``).  Retries 429, 5xx, timeouts and connection
errors with exponential backoff (honouring ``Retry-After``); other HTTP errors fail at once.
A circuit breaker stops calling an endpoint that does not answer: after ``breaker_after``
consecutive connection failures (refused, reset, unreachable, timed out) every request fails
at once with :class:`CircuitOpenError` for ``breaker_cooldown`` seconds, then a single request
probes the endpoint again -- so a dead endpoint costs seconds per run, not a full retry
schedule (~15 s) per request.
The API key goes into the ``Authorization`` header only: it is never logged, never put in an
exception message (server error bodies are redacted too), and ``repr`` hides it.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

API_KEY_ENV = ("SPATIALFORGE_API_KEY", "OPENAI_API_KEY")
BASE_URL_ENV = ("SPATIALFORGE_BASE_URL", "OPENAI_BASE_URL")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


class EndpointError(RuntimeError):
    """A chat-completion request failed for good (after retries where they apply)."""

    def __init__(self, message: str, status: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class CircuitOpenError(EndpointError):
    """Not sent: the endpoint failed to connect too often in a row (see :class:`CircuitBreaker`)."""


class CircuitBreaker:
    """Counts consecutive connection failures across requests (and threads).

    ``threshold`` failures in a row open it; while open, :meth:`blocked` says why a request must
    not go out.  After ``cooldown`` seconds one request (the probe) is let through: success
    closes the breaker, another connection failure opens it again for ``cooldown``.  Answers
    with any HTTP status count as success: a server that answers is up.
    """

    def __init__(self, threshold: int = 3, cooldown: float = 30.0):
        if threshold < 1 or cooldown < 0:
            raise ValueError(f"circuit breaker needs threshold >= 1 and cooldown >= 0, got {threshold}, {cooldown}")
        self.threshold, self.cooldown = threshold, cooldown
        self.failures = 0  # consecutive connection failures
        self.rejected = 0  # requests refused while open
        self.last_error = ""
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def blocked(self) -> str | None:
        """None when a request may go out (closed, or the probe after the cooldown), else why not."""
        with self._lock:
            if self._opened_at is None:
                return None
            if not self._probing and time.monotonic() - self._opened_at >= self.cooldown:
                self._probing = True
                return None
            self.rejected += 1
            return (f"circuit open after {self.failures} consecutive connection failures "
                    f"(last: {self.last_error}); not calling for {self.cooldown:g} s")

    def record(self, connected: bool, error: str = "") -> None:
        with self._lock:
            probing, self._probing = self._probing, False
            if connected:
                self.failures, self._opened_at = 0, None
                return
            self.failures += 1
            self.last_error = error
            if probing or self.failures >= self.threshold:
                self._opened_at = time.monotonic()


def resolve_api_key(api_key: str | None = None) -> str | None:
    """``api_key`` if given, else ``$SPATIALFORGE_API_KEY``, else ``$OPENAI_API_KEY`` (may be None)."""
    if api_key:
        return api_key
    return next((os.environ[k] for k in API_KEY_ENV if os.environ.get(k)), None)


def resolve_base_url(base_url: str | None = None) -> str:
    """``base_url`` if given, else ``$SPATIALFORGE_BASE_URL`` / ``$OPENAI_BASE_URL``, else OpenAI's."""
    url = base_url or next((os.environ[k] for k in BASE_URL_ENV if os.environ.get(k)), DEFAULT_BASE_URL)
    return url.rstrip("/")


def image_data_url(image, fmt: str = "PNG") -> str:
    """A PIL image as a ``data:image/...;base64,`` URL (lossless PNG by default)."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format=fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def user_message(text: str, images=()) -> dict[str, Any]:
    """An OpenAI chat message with images (as data URLs) before the text, as VLM templates expect."""
    if not images:
        return {"role": "user", "content": text}
    parts: list[dict[str, Any]] = [{"type": "image_url", "image_url": {"url": image_data_url(im)}} for im in images]
    parts.append({"type": "text", "text": text})
    return {"role": "user", "content": parts}


@dataclass
class ChatClient:
    """POSTs chat-completion payloads to ``{base_url}/chat/completions`` with retries.

    ``backoff``: seconds before the first retry, doubled each time (capped at ``max_backoff``).
    ``breaker_after``: consecutive connection failures that open the circuit breaker (0: no
    breaker); ``breaker_cooldown``: seconds before an open breaker lets one probe through.
    """

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    breaker_after: int = 3
    breaker_cooldown: float = 30.0
    breaker: CircuitBreaker | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = resolve_base_url(self.base_url)
        self.api_key = resolve_api_key(self.api_key)
        if self.max_retries < 0 or self.backoff < 0 or self.timeout <= 0:
            raise ValueError("max_retries and backoff must be >= 0 and timeout > 0")
        if self.breaker_after < 0:
            raise ValueError(f"breaker_after must be >= 0 (0: no breaker), got {self.breaker_after}")
        if self.breaker_after:
            self.breaker = CircuitBreaker(self.breaker_after, self.breaker_cooldown)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _redact(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def complete(self, payload: dict[str, Any]) -> str:
        """The first choice's message content; raises :class:`EndpointError`."""
        body = self.post(payload)
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            shown = self._redact(str(body)[:300])
            raise EndpointError(f"{self.url}: response has no choices[0].message.content: {shown}") from None
        if not isinstance(content, str):
            raise EndpointError(f"{self.url}: message content is {type(content).__name__}, not text")
        return content

    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            status: int | None = None
            retry_after: float | None = None
            if self.breaker is not None and (why := self.breaker.blocked()) is not None:
                raise CircuitOpenError(f"{self.url}: {why}", None, attempt - 1)
            connection_failed = False
            try:
                req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                if self.breaker is not None:
                    self.breaker.record(True)
                try:
                    return json.loads(raw)
                except ValueError:
                    reason, status = f"response is not JSON: {self._redact(raw[:200].decode('utf-8', 'replace'))!r}", None
                    retryable = True  # a truncated body from an overloaded server
            except urllib.error.HTTPError as e:
                status = e.code
                detail = e.read()[:300].decode("utf-8", "replace") if e.fp is not None else ""
                reason = f"HTTP {e.code} {e.reason}: {self._redact(detail)}".strip()
                retryable = e.code in RETRY_STATUS
                retry_after = _retry_after(e.headers.get("Retry-After") if e.headers else None)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                err = getattr(e, "reason", e)
                reason = f"{type(err).__name__}: {self._redact(str(err))}"
                retryable = connection_failed = True
            if self.breaker is not None:
                self.breaker.record(not connection_failed, reason)
                if self.breaker.is_open:  # no retry schedule against an endpoint that is down
                    raise EndpointError(f"{self.url}: {reason} (after {attempt} attempt{'s' * (attempt > 1)}); "
                                           f"circuit open after {self.breaker.failures} consecutive connection "
                                           f"failures", status, attempt)
            if not retryable or attempt == attempts:
                raise EndpointError(f"{self.url}: {reason} (after {attempt} attempt{'s' * (attempt > 1)})", status, attempt)
            delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
            log.warning("%s: %s; retry %d/%d in %.2fs", self.url, reason, attempt, self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None
