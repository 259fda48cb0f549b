"""The server under test, run the production way: gunicorn, two workers, DEBUG off."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="0",
        # No TLS on loopback: the reverse proxy that terminates it in production is absent here.
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    return env


SERVERS = ("gunicorn", "granian")


def _command(server: str, port: int, workers: int, threads: int) -> list[str]:
    if server == "granian":
        # Granian (a Rust HTTP server) running the same WSGI application: the same workers and
        # threads per worker (its blocking threads run the WSGI calls), keep-alive on.
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface=wsgi",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--workers={workers}",
            f"--blocking-threads={threads}",
            "--backlog=2048",
            "--log-level=warning",
            "chuangwen.wsgi:application",
        ]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "chuangwen.wsgi",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        "--backlog=2048",
        "--log-level=warning",
        "--graceful-timeout=5",
        "--keep-alive=5",
        *(["--worker-tmp-dir=/dev/shm"] if Path("/dev/shm").is_dir() else []),
    ]


@contextmanager
def serve(database_url: str, workers: int | None = None, threads: int | None = None, server: str = ""):
    """Start the application server (gunicorn) on a free loopback port; yield its base URL and
    master pid; stop it on exit.

    Two gthread workers (one per core, as the issue sets) with four threads each: a request spends
    part of its time waiting for PostgreSQL on the same two cores, and the threads fill that wait
    (one thread per worker leaves the cores idle while the database answers; many more only queue
    for the GIL). gthread also keeps the clients' connections alive between requests (the sync
    worker closes each one), which the closed-loop clients reuse. The heartbeat file goes to
    /dev/shm, so a busy disk never stalls a worker. ``BENCH_WORKERS`` / ``BENCH_THREADS`` override
    the counts for experiments. ``server="granian"`` (or ``BENCH_SERVER=granian``; the bench's
    ``--server``) serves the same application with granian instead, the documented alternative
    where the Python server is the limit (docs/performance.md)."""
    server = server or os.environ.get("BENCH_SERVER", "gunicorn")
    if server not in SERVERS:
        raise ValueError(f"unknown server {server!r}: one of {', '.join(SERVERS)}")
    workers = workers or int(os.environ.get("BENCH_WORKERS", "2"))
    threads = threads or int(os.environ.get("BENCH_THREADS", "4"))
    port = free_port()
    log = open(ROOT / "bench" / "out" / "server.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        _command(server, port, workers, threads),
        cwd=ROOT,
        env=production_env(database_url),
        stdout=log,
        stderr=log,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited at start; see bench/out/server.log")
            try:
                urllib.request.urlopen(base_url + "/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{server} did not answer within 30 s")
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
