"""Helpers shared by the benchmark scripts: a scratch PostgreSQL database and a live server."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    """The PostgreSQL server to benchmark on (any database on it; we make our own)."""
    return os.environ.get("OMNITILL_BENCH_DATABASE_URL", DEFAULT_PG)


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the benchmark server; return its SQLAlchemy URL."""
    base = make_url(server_url())
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop a scratch database made by `fresh_database`."""
    admin = create_engine(
        make_url(server_url()).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def libpq_args(url: str) -> list[str]:
    """pgbench/psql connection flags for a SQLAlchemy URL."""
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"]
    return [*args, u.database or "postgres"]


def pgbench_tps(clients: int, seconds: int, database: str = "omnitill_pgbench") -> float:
    """TPC-B-like tps (scale 10) on a scratch database `database`; the caller drops it."""
    conn = libpq_args(fresh_database(database))
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", *conn], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds), *conn],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+) \((?:without|excluding)", out)
    if match is None:
        raise RuntimeError(f"cannot read pgbench output:\n{out}")
    return float(match.group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(database_url: str, *, workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMNITILL_DATABASE_URL": database_url, "OMNITILL_LOG_LEVEL": "WARNING"}
    cmd = [
        sys.executable,
        "-m",
        "omnitill.cli.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not become ready")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> str:
    return (
        f"p50 {percentile(samples, 50) * 1000:.2f} ms, "
        f"p99 {percentile(samples, 99) * 1000:.2f} ms, "
        f"mean {statistics.fmean(samples) * 1000:.2f} ms"
    )
