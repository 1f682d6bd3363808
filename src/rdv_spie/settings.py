"""Settings: read from the environment (prefix ``RDV_``) when asked, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{_PROJECT_ROOT / 'var' / 'rdv-spie.sqlite3'}"


class Settings(BaseSettings):
    """Everything the web process, the worker and the CLI need to start."""

    model_config = SettingsConfigDict(env_prefix="RDV_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    database_pool_size: int = 10
    redis_url: str | None = Field(default=None, description="redis://… ; unset = in-process jobs")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = "http://127.0.0.1:8000"
    templates_dir: Path = _PROJECT_ROOT / "templates"
    migrations_dir: Path = _PROJECT_ROOT / "migrations"
    log_level: str = "INFO"
    log_json: bool = False
    debug: bool = False
    clock_offset_days: float = Field(
        default=0.0, description="Shift the service clock (demo only: move through days)"
    )
    slot_grid_minutes: int = 15
