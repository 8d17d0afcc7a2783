"""Polite HTTP GETs with retries, shared by the arXiv OAI-PMH and query-API sources.

Rules (arXiv asks for them): at most one request every `delay_s` seconds;
`503`/`429` with `Retry-After` wait exactly as told; other 5xx answers and
connection errors back off exponentially with jitter; after `max_retries`
retries a `HarvestError` says what failed and how often. 4xx answers are
returned to the caller, which knows whether the body carries a protocol error
(the arXiv API answers a bad id with HTTP 400 and an Atom error entry).
`sleep`, `clock` and `rng` are injectable so tests never wait; `on_retry` hears of
each retry before its wait, so a harvest that backs off for a minute says so.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType

import httpx

from ..errors import HarvestError

__all__ = ["PoliteFetcher", "Retry", "parse_retry_after"]

USER_AGENT = "paperfeed/0.1 (self-hosted paper discovery; polite harvester)"
MAX_RETRY_AFTER_S = 3600.0  # a server asking for more than an hour is treated as down


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


@dataclass(frozen=True)
class Retry:
    """A failed attempt about to be retried after `wait_s` seconds."""

    url: str
    problem: str  # "HTTP 503", "ConnectError: ..."
    retry: int  # 1 for the first retry
    retries: int  # the most there will be
    wait_s: float

    def __str__(self) -> str:
        return (f"{self.problem} from {self.url}; retry {self.retry} of {self.retries} "
                f"in {self.wait_s:.0f}s")


class PoliteFetcher:
    """GET with throttling and retries; owns its httpx.Client only if it made it."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        delay_s: float = 3.0,
        max_retries: int = 5,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 300.0,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_retry: Callable[[Retry], object] | None = None,
    ) -> None:
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=timeout_s, headers={"User-Agent": USER_AGENT}, follow_redirects=True
        )
        self.delay_s = delay_s
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.on_retry = on_retry
        self._last_request: float | None = None

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _throttle(self) -> None:
        if self._last_request is not None and self.delay_s > 0:
            wait = self.delay_s - (self.clock() - self._last_request)
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _backoff(self, attempt: int) -> float:
        # Full exponential step times a jitter in [0.5, 1): many clients never sync up.
        step = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return step * (0.5 + self.rng.random() / 2)

    def get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """Return the first non-5xx response; raise HarvestError when retries run out."""
        last_problem = ""
        for attempt in range(self.max_retries + 1):
            self._throttle()
            try:
                response = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                wait = self._backoff(attempt)
            else:
                status = response.status_code
                if status < 500 and status != 429:
                    return response
                last_problem = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if status in (429, 503) and retry_after is not None:
                    if retry_after > MAX_RETRY_AFTER_S:
                        raise HarvestError(
                            f"{url}: server asked to retry after {retry_after:.0f}s; giving up"
                        )
                    wait = retry_after
                else:
                    wait = self._backoff(attempt)
            if attempt < self.max_retries:
                if self.on_retry:
                    self.on_retry(Retry(url, last_problem, attempt + 1, self.max_retries, wait))
                self.sleep(wait)
        raise HarvestError(
            f"{url}: no answer after {self.max_retries + 1} attempts (last: {last_problem})"
        )
