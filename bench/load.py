"""The load driver: N concurrent clients on loopback, bounded in time and in count.

Each client sends one request after the other (closed loop), so the offered load adapts to the
server and the figures are throughput at saturation with its latencies. Nothing here leaves the
machine: the base URL must be a loopback address.
"""

import asyncio
import ipaddress
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    name: str
    count: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency in milliseconds at percentile p (0-100), nearest-rank."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.count,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 1) if self.latencies else 0.0,
            "statuses": self.statuses,
            "first_error": self.first_error,
        }


def check_loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the load driver only targets loopback addresses, not {host}")


async def _drive(
    name: str,
    base_url: str,
    make_request: Callable[[int], Request],
    clients: int,
    duration: float,
    max_requests: int | None,
    ok_statuses: frozenset[int],
) -> Result:
    result = Result(name)
    counter = iter(range(max_requests if max_requests is not None else 10**12))
    deadline = time.perf_counter() + duration
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as session:

        async def client() -> None:
            while time.perf_counter() < deadline:
                i = next(counter, None)
                if i is None:
                    return
                req = make_request(i)
                started = time.perf_counter()
                try:
                    async with session.request(
                        req.method, req.path, json=req.json, data=req.data, headers=req.headers
                    ) as response:
                        body = await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, body = 0, (str(exc) or type(exc).__name__).encode()
                result.latencies.append(time.perf_counter() - started)
                result.count += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status not in ok_statuses:
                    result.errors += 1
                    if not result.first_error:
                        result.first_error = f"{req.method} {req.path} → {status}: {body[:300]!r}"

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        result.seconds = time.perf_counter() - started
    return result


def drive(
    name: str,
    base_url: str,
    make_request: Callable[[int], Request],
    *,
    clients: int = 32,
    duration: float = 10.0,
    max_requests: int | None = None,
    ok_statuses: frozenset[int] = frozenset({200, 201}),
) -> Result:
    """Run one scenario and return its figures; stops at `duration` seconds or `max_requests`."""
    check_loopback(base_url)
    return asyncio.run(_drive(name, base_url, make_request, clients, duration, max_requests, ok_statuses))
