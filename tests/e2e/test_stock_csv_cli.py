"""`omnitill stock export` and `omnitill stock import`, run as a subprocess the way an
operator runs them, against the test database of each backend."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from omnitill.adapters.db.models import AuditEntry, StockMovement, User
from omnitill.domain.inventory.stock_csv import EXPORT_COLUMNS
from omnitill.services import stock
from omnitill.services.database import Database
from tests.factories import make_location, make_user, make_variant

Run = Callable[..., subprocess.CompletedProcess[str]]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("omnitill")
    return [str(script)] if script.exists() else [sys.executable, "-m", "omnitill.cli.main"]


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMNITILL_")}
    env.update(
        OMNITILL_DATABASE_URL=db_url,
        OMNITILL_ENVIRONMENT="test",
        OMNITILL_LOG_LEVEL="WARNING",
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="200",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_command(), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    return run


@pytest.fixture
def estate(db: Database) -> Database:
    s01 = make_location(db, "S01")
    w01 = make_location(db, "W01", kind="warehouse")
    make_variant(db, sku="TEE", stock={s01: 10, w01: 40})
    make_variant(db, sku="CAP", stock={s01: 3})
    make_variant(db, sku="BELT")
    return db


def movements(db: Database) -> int:
    with db.uow(write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(StockMovement)) or 0)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_export_writes_every_level_and_importing_it_back_changes_nothing(
    cli: Run, estate: Database, tmp_path: Path
) -> None:
    out = tmp_path / "levels.csv"
    done = cli("stock", "export", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert "exported 3 level(s)" in done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [(r["sku"], r["location"], r["on_hand"]) for r in rows] == [
        ("CAP", "S01", "3"),
        ("TEE", "S01", "10"),
        ("TEE", "W01", "40"),
    ]
    before = movements(estate)
    done = cli("stock", "import", str(out), "--mode", "set", "--reason", "round trip")
    assert done.returncode == 0, done.stderr
    assert "3 row(s), 3 applied (0 changed), 0 failed" in done.stdout
    assert movements(estate) == before
    assert cli("stock", "verify").returncode == 0


def test_export_of_one_location_to_stdout_keeps_the_data_apart_from_the_progress(
    cli: Run, estate: Database
) -> None:
    done = cli("stock", "export", "--location", "W01")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert [r[:3] for r in rows[1:]] == [["TEE", "W01", "40"]]
    unknown = cli("stock", "export", "--location", "X9")
    assert unknown.returncode == 1
    assert "error: location.not_found" in unknown.stderr


def test_import_applies_the_good_rows_reports_the_bad_ones_and_exits_1(
    cli: Run, estate: Database, tmp_path: Path
) -> None:
    data = write(
        tmp_path / "counts.csv",
        "sku,location,quantity\nTEE,S01,12\nNOPE,S01,1\nCAP,S01,-2\nBELT,W01,5\nCAP,X1,1\n",
    )
    report = tmp_path / "errors.csv"
    done = cli(
        "stock", "import", str(data), "--mode", "set", "--reason", "count", "--errors", str(report)
    )
    assert done.returncode == 1
    assert "5 row(s), 2 applied (2 changed), 3 failed" in done.stdout
    assert f"error report: {report}" in done.stderr
    lines = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8"))))
    assert [(r["line"], r["row"], r["code"]) for r in lines] == [
        ("3", "NOPE,S01,1", "catalog.unknown_sku"),
        ("4", "CAP,S01,-2", "stock.count_negative"),
        ("6", "CAP,X1,1", "location.not_found"),
    ]
    exported = cli("stock", "export").stdout
    on_hand = {
        (r["sku"], r["location"]): r["on_hand"] for r in csv.DictReader(io.StringIO(exported))
    }
    assert on_hand[("TEE", "S01")] == "12"
    assert on_hand[("BELT", "W01")] == "5"
    assert on_hand[("CAP", "S01")] == "3"
    assert stock.verify(db=estate) == []
    with estate.uow(write=False) as uow:
        entry = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "stock.imported")
        ).one()
    assert (entry.actor, entry.details["failed"]) == ("system:cli", 3)


def test_without_an_errors_file_the_bad_rows_are_printed(
    cli: Run, estate: Database, tmp_path: Path
) -> None:
    data = write(tmp_path / "adjust.csv", "sku,location,quantity\nCAP,S01,-5\nTEE,S01,+1\n")
    done = cli("stock", "import", str(data), "--mode", "adjust", "--reason", "damage")
    assert done.returncode == 1
    assert "line 2: stock.would_go_negative" in done.stderr
    assert "2 row(s), 1 applied (1 changed), 1 failed" in done.stdout


def test_import_acts_with_the_permissions_of_the_named_staff_member(
    cli: Run, estate: Database, tmp_path: Path
) -> None:
    make_user(estate, "till", "cashier", ["S01"])
    make_user(estate, "stocker", "inventory")
    data = write(tmp_path / "one.csv", "sku,location,quantity\nCAP,S01,4\n")
    before = movements(estate)
    refused = cli("stock", "import", str(data), "--mode", "set", "--reason", "x", "--actor", "till")
    assert refused.returncode == 1
    assert "error: auth.permission_denied" in refused.stderr
    ghost = cli("stock", "import", str(data), "--mode", "set", "--reason", "x", "--actor", "ghost")
    assert "error: user.not_found" in ghost.stderr
    assert movements(estate) == before
    done = cli("stock", "import", str(data), "--mode", "set", "--reason", "x", "--actor", "stocker")
    assert done.returncode == 0, done.stderr
    with estate.uow(write=False) as uow:
        actor = uow.session.scalar(
            select(User.username)
            .join(StockMovement, StockMovement.actor_id == User.id)
            .where(StockMovement.kind == "import")
        )
    assert actor == "stocker"


def test_a_file_refused_as_a_whole_exits_1_with_its_code(
    cli: Run, estate: Database, tmp_path: Path
) -> None:
    before = movements(estate)
    data = write(tmp_path / "bad.csv", "sku,count\nTEE,1\n")
    done = cli("stock", "import", str(data), "--mode", "set", "--reason", "x")
    assert done.returncode == 1
    assert "error: stock_csv.missing_columns" in done.stderr
    done = cli("stock", "import", str(data), "--mode", "sideways", "--reason", "x")
    assert "error: stock_csv.invalid_mode" in done.stderr
    missing = cli("stock", "import", str(tmp_path / "nope.csv"), "--mode", "set", "--reason", "x")
    assert missing.returncode == 2  # the file argument must exist
    assert movements(estate) == before
