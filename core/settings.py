"""Every setting Comptoir reads, in one place, from the environment or a `.env` file."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse as parse_rate
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RATE_LIMIT_OFF = frozenset({"", "0", "off", "none", "false", "unlimited"})
RATE_LIMIT_STORAGES = ("memory://", "redis://", "rediss://", "redis+unix://")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        validation_alias="COMPTOIR_DATA_DIR",
        description="Folder for the SQLite database, documents and the vector index.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; defaults to a SQLite file in the data folder.",
    )
    log_level: str = Field(default="INFO", validation_alias="COMPTOIR_LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(
        default="console", validation_alias="COMPTOIR_LOG_FORMAT"
    )
    host: str = Field(default="127.0.0.1", validation_alias="COMPTOIR_HOST")
    port: int = Field(default=8000, validation_alias="COMPTOIR_PORT")
    seed_on_first_start: bool = Field(default=True, validation_alias="COMPTOIR_SEED_ON_START")
    demo_seed: int = Field(default=42, validation_alias="COMPTOIR_DEMO_SEED")
    # Used by later layers; declared here so there is one list of settings.
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    agent_model: str = Field(
        default="gpt-4o-mini",
        validation_alias="COMPTOIR_AGENT_MODEL",
        description="Chat model of the agents, on the OpenAI-compatible endpoint.",
    )
    router_model: str | None = Field(
        default=None,
        validation_alias="COMPTOIR_ROUTER_MODEL",
        description="Chat model of the supervisor; defaults to the agents' model.",
    )
    offline: bool = Field(
        default=False,
        validation_alias="COMPTOIR_OFFLINE",
        description="Use the offline planner even when an endpoint is configured.",
    )
    max_hops: int = Field(
        default=8,
        ge=1,
        le=50,
        validation_alias="COMPTOIR_MAX_HOPS",
        description="Model calls one chat turn may make before it stops.",
    )
    automations: bool = Field(
        default=True,
        validation_alias="COMPTOIR_AUTOMATIONS",
        description="Run the automations (reactions to events) inside the server.",
    )
    warm_start: bool = Field(
        default=True,
        validation_alias="COMPTOIR_WARM_START",
        description="At start, load the embedding model and bring the help-article index up "
        "to date in the background, so the first chat request does not wait for them.",
    )
    chroma_url: str | None = Field(default=None, validation_alias="CHROMA_URL")
    kafka_bootstrap_servers: str | None = Field(
        default=None, validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    rate_limit: str = Field(
        default="600/minute",
        validation_alias="COMPTOIR_RATE_LIMIT",
        description="Requests one API key may make: '600/minute', '20 per second', '5000/hour', "
        "'100/10 seconds'; '0' or 'off' turns the limit off.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        validation_alias="COMPTOIR_RATE_LIMIT_STORAGE",
        description="Where the counts live: memory:// (each server process counts on its own) "
        "or redis://host:port/db (every worker and server shares one budget per key).",
    )

    @field_validator("rate_limit")
    @classmethod
    def _readable_rate(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in RATE_LIMIT_OFF:
            return "off"
        try:
            parse_rate(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate: write '600/minute', '20 per second' or 'off'"
            ) from None
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if not value.startswith(RATE_LIMIT_STORAGES):
            raise ValueError(f"{value!r}: use memory:// or a redis:// (rediss://) URL")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'comptoir.db').resolve()}"


def normalize_database_url(url: str) -> str:
    """Accept the `postgresql://` URLs people paste and route them through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
