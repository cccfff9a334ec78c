"""Getting a database ready to serve: current schema, and demo data when it is empty."""

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.settings import Settings
from db import migrate
from db.demo.seed import SeedResult, has_data, seed_database
from db.engine import describe_url


@dataclass
class Preparation:
    url: str
    seeded: SeedResult | None


def prepare_database(engine: Engine, settings: Settings) -> Preparation:
    """Upgrade the schema; seed the demo merchant if the database is empty and allowed to."""
    url = engine.url.render_as_string(hide_password=False)
    migrate.upgrade(url)
    seeded = None
    if settings.seed_on_first_start and not has_data(engine):
        seeded = seed_database(engine, seed=settings.demo_seed, scale="small")
    return Preparation(url=describe_url(url), seeded=seeded)
