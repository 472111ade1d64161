"""The real `omnitill` command, run as a subprocess the way an operator runs it.

Most tests work on a fresh SQLite file; the seeding and checking commands also run against
PostgreSQL when it is configured (tests/conftest.py resets that database per test).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from omnitill.adapters.db.types import utcnow
from omnitill.config import Settings
from omnitill.services import auth, reservations, stock
from omnitill.services.database import Database
from omnitill.services.reservations import ReservationLineInput, ReservationRequest
from tests.factories import PASSWORD, make_location, make_user, make_variant
from tests.tamper import attacker, sqlite_drop_guards_sql

Run = Callable[..., subprocess.CompletedProcess[str]]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("omnitill")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "omnitill.cli.main"]


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNITILL_")}
    env.update(
        OMNITILL_DATABASE_URL=database_url,
        OMNITILL_ENVIRONMENT="test",
        OMNITILL_LOG_LEVEL="WARNING",
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="200",
        **extra,
    )
    return env


def _runner(database_url: str, cwd: Path) -> Run:
    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_command(), *args],
            env=_env(database_url),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return run


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "cli" / "omnitill.db"


@pytest.fixture
def cli(sqlite_file: Path, tmp_path: Path) -> Run:
    """`omnitill` against a SQLite file that does not exist yet."""
    return _runner(f"sqlite:///{sqlite_file}", tmp_path)


@pytest.fixture
def cli_any(db_url: str, tmp_path: Path) -> Run:
    """`omnitill` against the test database of each backend (migrated, empty)."""
    return _runner(db_url, tmp_path)


@pytest.fixture
def seeded(cli: Run) -> Run:
    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    demo = cli("demo")
    assert demo.returncode == 0, demo.stderr
    return cli


def _execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _tamper(url: str, sql: str, **params: object) -> None:
    """Run `sql` as an attacker with direct database access (append-only guards bypassed)."""
    with attacker(url) as conn:
        conn.execute(text(sql), params)


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "omnitill.cli.main", "--help"],
        env=_env("sqlite:///unused.db"),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    for command in ("db", "demo", "serve", "user", "audit", "stock"):
        assert f" {command} " in out, out


def test_db_upgrade_creates_the_data_dir_and_is_repeatable(tmp_path: Path) -> None:
    data_dir = tmp_path / "var" / "omnitill"
    env = {k: v for k, v in _env("").items() if k != "OMNITILL_DATABASE_URL"}
    env["OMNITILL_DATA_DIR"] = str(data_dir)
    for _ in range(2):
        done = subprocess.run(
            [*_command(), "db", "upgrade"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert (data_dir / "omnitill.db").exists()
    with sqlite3.connect(data_dir / "omnitill.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "variants", "audit_entries"} <= tables


def test_demo_seeds_once_and_prints_the_logins(cli: Run, sqlite_file: Path) -> None:
    first = cli("demo")
    assert first.returncode == 0, first.stderr
    assert "demo-password-1" in first.stdout
    for username in ("admin", "manager1", "cashier1", "cashier2", "inventory1", "analyst1"):
        assert username in first.stdout
    with sqlite3.connect(sqlite_file) as conn:
        before = conn.execute("SELECT count(*) FROM variants").fetchone()
    second = cli("demo")
    assert second.returncode == 0, second.stderr
    assert "nothing to add" in second.stdout
    with sqlite3.connect(sqlite_file) as conn:
        after = conn.execute("SELECT count(*) FROM variants").fetchone()
    assert before == after
    assert before is not None
    assert before[0] >= 180


def test_user_create_adds_a_user_who_can_sign_in(seeded: Run, sqlite_file: Path) -> None:
    done = seeded(
        "user", "create", "--username", "Cashier3", "--password", "a-long-password",
        "--role", "cashier", "--location", "S02",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "cashier3" in done.stdout
    with sqlite3.connect(sqlite_file) as conn:
        role = conn.execute("SELECT role FROM users WHERE username = 'cashier3'").fetchone()
    assert role == ("cashier",)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--password", "short", "--role", "cashier"], "auth.password_too_short"),
        (["--password", "a-long-password", "--role", "king"], "auth.unknown_role"),
        (
            ["--password", "a-long-password", "--role", "cashier", "--location", "X99"],
            "location.not_found",
        ),
    ],
)
def test_user_create_refusals_exit_1_with_the_error_code(
    seeded: Run, args: list[str], code: str
) -> None:
    done = seeded("user", "create", "--username", "newbie", *args)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {code}: ")
    assert "Traceback" not in done.stderr


def test_user_create_refuses_a_taken_username(seeded: Run) -> None:
    done = seeded(
        "user", "create", "--username", "cashier1", "--password", "a-long-password",
        "--role", "cashier",
    )  # fmt: skip
    assert done.returncode == 1
    assert "error: auth.username_taken: " in done.stderr


def test_checks_refuse_a_database_that_does_not_exist(cli: Run, sqlite_file: Path) -> None:
    for command in (["audit", "verify"], ["stock", "verify"]):
        done = cli(*command)
        assert done.returncode == 1
        assert "error: database.not_found" in done.stderr
    assert not sqlite_file.exists()


def test_seeded_database_passes_both_checks(cli_any: Run) -> None:
    assert cli_any("db", "upgrade").returncode == 0
    demo = cli_any("demo")
    assert demo.returncode == 0, demo.stderr
    audit = cli_any("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert re.search(r"^audit trail intact: \d+ entries in 1 chain$", audit.stdout, re.M)
    stock = cli_any("stock", "verify")
    assert stock.returncode == 0, stock.stdout + stock.stderr
    assert "stock ledger intact" in stock.stdout


def _main_entry(url: str, seq: int) -> str:
    rows = _execute(url, "SELECT id FROM audit_entries WHERE chain = 'main' AND seq = :s", s=seq)
    return str(uuid.UUID(str(rows[0][0])))


def _where_id(url: str, entry_id: str) -> object:
    """The id as the database stores it (SQLite: 32 hex digits; PostgreSQL: a uuid)."""
    return uuid.UUID(entry_id).hex if url.startswith("sqlite") else uuid.UUID(entry_id)


def test_audit_verify_names_an_altered_entry(cli_any: Run, db_url: str) -> None:
    assert cli_any("demo").returncode == 0
    entry_id = _main_entry(db_url, 3)
    cast = "CAST(:d AS JSON)" if db_url.startswith("postgresql") else ":d"
    _tamper(
        db_url,
        f"UPDATE audit_entries SET details = {cast} WHERE id = :id",
        d=json.dumps({"username": "mallory", "role": "admin"}),
        id=_where_id(db_url, entry_id),
    )
    done = cli_any("audit", "verify")
    assert done.returncode == 1
    assert "chain main: seq 3" in done.stdout
    assert entry_id in done.stdout
    assert "altered" in done.stdout


def test_audit_verify_reports_a_deleted_entry_as_missing(cli_any: Run, db_url: str) -> None:
    assert cli_any("demo").returncode == 0
    _tamper(db_url, "DELETE FROM audit_entries WHERE chain = 'main' AND seq = 2")
    done = cli_any("audit", "verify")
    assert done.returncode == 1
    assert "chain main: seq 2" in done.stdout
    assert "missing" in done.stdout


def test_audit_verify_reports_a_truncated_chain(seeded: Run, sqlite_file: Path) -> None:
    with sqlite3.connect(sqlite_file) as conn:
        conn.executescript(sqlite_drop_guards_sql())  # as an attacker with file access would
        last = conn.execute("SELECT max(seq) FROM audit_entries WHERE chain = 'main'").fetchone()
        conn.execute("DELETE FROM audit_entries WHERE chain = 'main' AND seq = ?", last)
    done = seeded("audit", "verify")
    assert done.returncode == 1
    assert "missing" in done.stdout


def test_stock_verify_lists_a_level_that_differs_from_its_movements(
    seeded: Run, sqlite_file: Path
) -> None:
    assert seeded("stock", "verify").returncode == 0
    with sqlite3.connect(sqlite_file) as conn:
        conn.execute(
            "UPDATE stock_levels SET on_hand = on_hand + 5 WHERE variant_id = "
            "(SELECT id FROM variants WHERE sku = 'NW-OXF-NVY-M') AND location_id = "
            "(SELECT id FROM locations WHERE code = 'S01')"
        )
        (ledger,) = conn.execute(
            "SELECT sum(quantity) FROM stock_movements m JOIN variants v ON v.id = m.variant_id "
            "JOIN locations l ON l.id = m.location_id WHERE v.sku = 'NW-OXF-NVY-M' "
            "AND l.code = 'S01'"
        ).fetchone()
    done = seeded("stock", "verify")
    assert done.returncode == 1
    line = next(x for x in done.stdout.splitlines() if "NW-OXF-NVY-M" in x)
    assert line.split() == ["NW-OXF-NVY-M", "S01", str(ledger + 5), str(ledger)]


def test_stock_sweep_expires_a_reservation_that_ran_out(
    cli_any: Run, db: Database, settings: Settings
) -> None:
    s01 = make_location(db, "S01")
    make_variant(db, sku="TEE", stock={s01: 10})
    make_user(db, "boss", "manager", ["S01"])
    issued = auth.login(db=db, settings=settings, username="boss", password=PASSWORD)
    actor = auth.resolve_token(db=db, token=issued.access_token)
    held = reservations.reserve(
        db=db,
        actor=actor,
        request=ReservationRequest(
            reference_type="order",
            reference_id="W-1",
            location="S01",
            lines=(ReservationLineInput("TEE", None, 3),),
            ttl_seconds=60,
        ),
        now=utcnow() - timedelta(hours=1),  # expired 59 minutes ago
    )
    assert held.status == "active"

    done = cli_any("stock", "sweep")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "expired 1 reservation(s)"
    assert reservations.get(db=db, actor=actor, reservation_id=held.id).status == "expired"
    (row,), _ = stock.levels(db=db, actor=actor, sku="TEE", location="S01")
    assert (row.on_hand, row.reserved, row.available) == (10, 0, 10)
    again = cli_any("stock", "sweep")
    assert again.stdout.strip() == "expired 0 reservation(s)"
    assert cli_any("stock", "verify").returncode == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(sqlite_file: Path, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start `omnitill serve` (own process group) and return its base URL; stopped after."""
    started: list[subprocess.Popen[str]] = []
    log = (tmp_path / "serve.log").open("w")

    def start(*args: str) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            [*_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=_env(f"sqlite:///{sqlite_file}"),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        started.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text())
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail("omnitill serve did not answer within 60 s")

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)
    log.close()


def test_serve_answers_health_and_readiness_over_http(server: Callable[..., str]) -> None:
    base = server()
    health = httpx.get(f"{base}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert ready.status_code == 200
    assert httpx.get(f"{base}/openapi.json", timeout=5).status_code == 200


def test_serve_with_several_workers_signs_in_a_demo_user(
    seeded: Run, server: Callable[..., str]
) -> None:
    base = server("--workers", "2")
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        json={"username": "cashier1", "password": "demo-password-1"},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    assert token.json()["token_type"] == "bearer"
