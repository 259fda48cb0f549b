"""A throwaway Redis server from Debian's ``redis-server`` package: loopback only, a free port,
nothing saved to disk. Used by ``python -m bench --redis`` and by the tests of the Redis
rate-limit counters (``appeals/tests/test_limits.py``)."""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from .server import free_port


class RedisMissing(RuntimeError):
    pass


@contextmanager
def redis_server() -> Iterator[str]:
    """Start ``redis-server``; yield its URL (database 0); stop it on exit. Its log says when it
    listens, so nothing polls or sleeps; ``RedisMissing`` if the binary is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisMissing("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", workdir],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            for line in server.stdout:
                if "Ready to accept connections" in line:
                    break
            else:
                raise RuntimeError("redis-server exited before accepting connections")
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.terminate()
            server.wait(timeout=10)
