"""The invariants `comptoir db check` and the load benchmark verify: all hold on the seeded
demo, and a broken row is named."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings
from db.invariants import check_invariants

runner = CliRunner()


def broken(engine: Engine) -> dict[str, list[str]]:
    return {check.name: check.sample for check in check_invariants(engine) if not check.ok}


def test_every_invariant_holds_on_the_seeded_demo(seeded_engine: Engine) -> None:
    checks = check_invariants(seeded_engine)

    assert broken(seeded_engine) == {}
    assert all(check.rows > 0 for check in checks)


def test_a_broken_row_is_named(seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        payment = connection.execute(
            sa.text("SELECT MIN(id) FROM payments WHERE refunded_cents < captured_cents")
        ).scalar_one()
        connection.execute(sa.text("UPDATE stock_levels SET on_hand = on_hand + 1 WHERE id = 7"))
        connection.execute(
            sa.text("UPDATE payments SET refunded_cents = refunded_cents + 1 WHERE id = :id"),
            {"id": payment},
        )

    assert broken(seeded_engine) == {
        "stock_equals_movements": ["7"],
        "refunds_equal_refunded": [str(payment)],
    }


@pytest.fixture
def database_url(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    get_settings.cache_clear()
    yield seeded_url
    get_settings.cache_clear()


def test_db_check_fails_on_a_broken_rule(database_url: str, seeded_engine: Engine) -> None:
    ok = runner.invoke(app, ["db", "check"])
    assert ok.exit_code == 0, ok.output
    assert "stock_equals_movements" in ok.output

    with seeded_engine.begin() as connection:
        connection.execute(sa.text("UPDATE stock_levels SET on_hand = on_hand + 1 WHERE id = 7"))
    failed = runner.invoke(app, ["db", "check"])

    assert failed.exit_code == 1
    assert "1 invariant(s) broken: stock_equals_movements" in failed.output


def test_rebuild_daily_repairs_the_daily_tables(database_url: str, seeded_engine: Engine) -> None:
    with seeded_engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM daily_sales WHERE day = (SELECT MAX(day) FROM daily_sales)")
        )
        connection.execute(sa.text("UPDATE daily_orders SET orders = orders + 3"))
    assert set(broken(seeded_engine)) == {"daily_sales_equal_orders", "daily_orders_equal_orders"}

    rebuilt = runner.invoke(app, ["db", "rebuild-daily"])

    assert rebuilt.exit_code == 0, rebuilt.output
    assert broken(seeded_engine) == {}
