"""The `comptoir` command as a user runs it."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app, main
from core.settings import get_settings
from db import migrate
from db.engine import create_db_engine

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def count_orders(data_dir: Path) -> int:
    engine = create_db_engine(f"sqlite:///{data_dir / 'comptoir.db'}")
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT COUNT(*) FROM orders")).scalar()
    engine.dispose()
    return int(count or 0)


def test_seed_creates_the_demo_and_prints_the_admin_key(data_dir: Path) -> None:
    result = runner.invoke(app, ["seed", "--seed", "5", "--as-of", "2026-03-01"])
    assert result.exit_code == 0, result.output
    assert "orders" in result.output
    assert "admin    cpt_demo_" in result.output
    assert str(data_dir / "comptoir.db") in result.output.replace("\n", "")
    assert count_orders(data_dir) > 3900


def test_seed_refuses_a_second_time_then_resets(data_dir: Path) -> None:
    assert runner.invoke(app, ["seed", "--as-of", "2026-03-01"]).exit_code == 0
    again = runner.invoke(app, ["seed", "--as-of", "2026-03-01"])
    assert again.exit_code == 1
    assert "already holds data" in again.output
    reset = runner.invoke(app, ["seed", "--as-of", "2026-03-01", "--seed", "9", "--reset"])
    assert reset.exit_code == 0, reset.output
    assert count_orders(data_dir) > 3900


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seed", "--as-of", "2026-13-01"], "is not a date"),
        (["seed", "--scale", "huge"], "is not a scale"),
    ],
)
def test_seed_rejects_bad_options_without_writing(
    data_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (data_dir / "comptoir.db").exists()


def test_db_upgrade_reports_the_revision(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    head = migrate.head_revision()
    assert head is not None and head in result.output


def test_a_database_that_cannot_be_opened_is_one_line_and_exit_code_2(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_file = data_dir / "comptoir.db"
    not_a_file.mkdir()  # SQLite cannot open a folder as its database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{not_a_file}")
    get_settings.cache_clear()
    monkeypatch.setattr("sys.argv", ["comptoir", "db", "check"])

    with pytest.raises(SystemExit) as exit_:
        main()

    assert exit_.value.code == 2
    error = " ".join(capsys.readouterr().err.split())
    assert "cannot be used: unable to open database file" in error
    assert "Traceback" not in error


def test_eval_metrics_only_keeps_a_held_out_splits_failures_out_of_sight(
    data_dir: Path,
) -> None:
    dataset = data_dir / "held_out.jsonl"
    dataset.write_text(
        '{"id": "held-out-small-talk", "request": "hello, how are you?", '
        '"expect": {"agents": ["orders"]}}\n'
    )
    shown = runner.invoke(app, ["eval", "run", str(dataset), "--model", "offline"])
    hidden = runner.invoke(
        app,
        ["eval", "run", str(dataset), "--model", "offline", "--metrics-only",
         "--min-success", "0.5"],
    )  # fmt: skip

    assert shown.exit_code == 0 and "held-out-small-talk" in shown.output
    assert "task_success" in hidden.output
    assert "held-out-small-talk" not in hidden.output
    assert hidden.exit_code == 1 and "below the floor" in hidden.output
