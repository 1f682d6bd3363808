"""Settings: read from the environment (prefix ``RDV_``) when asked, never at import time."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

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
    secret_key: str | None = Field(
        default=None,
        description="Derives invitation tokens (HMAC); unset = a key kept in var/secret-key",
    )
    # Web pages: sessions, cookies, hosts, rate limits.
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="Host names the web process answers for (the public_url's host is added)",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure cookie flag; unset = set when the request is HTTPS"
    )
    person_session_idle_minutes: int = Field(default=20, gt=0)
    person_session_max_minutes: int = Field(default=120, gt=0)
    agent_session_idle_minutes: int = Field(default=30, gt=0)
    agent_session_max_minutes: int = Field(default=600, gt=0)
    identity_max_tries: int = Field(default=5, gt=0, description="Wrong answers before a lock")
    rate_limit_window_seconds: int = Field(default=60, gt=0)
    rate_limit_token_hits: int = Field(default=30, gt=0, description="Link openings per IP")
    rate_limit_identity_hits: int = Field(default=10, gt=0, description="Identity checks per IP")
    rate_limit_login_hits: int = Field(
        default=10, gt=0, description="Logins per IP, and wrong passwords per e-mail"
    )
    rate_limit_login_daily_failures: int = Field(
        default=100, gt=0, description="Wrong passwords per e-mail and day"
    )
    personal_data_retention_days: int = Field(
        default=730,
        gt=0,
        description="Days without activity after which a person's personal data is erased",
    )
    audit_retention_days: int = Field(
        default=365, gt=0, description="Days the trail of who read a person's file is kept"
    )
    # Delivery. Unset SMTP host or Twilio account = messages written as files under outbox_dir.
    outbox_dir: Path = _PROJECT_ROOT / "var" / "outbox"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    smtp_ca_file: Path | None = Field(default=None, description="Extra CA bundle (tests)")
    email_from_address: str = "rdv-spie@localhost"
    email_from_name: str = "Service public de l'insertion et de l'emploi"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base: str | None = Field(
        default=None, description="Twilio API origin override (tests: a loopback endpoint)"
    )
    twilio_timeout_seconds: float = 15.0
    sms_sender: str = Field(default="SPIE", description="Alphanumeric sender, ≤ 11 characters")
    import_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        gt=0,
        description="Largest file of people the back office takes (bytes; at most 64 MiB)",
    )
    # In-process jobs (no Redis): how often the web process sweeps the outbox and plans.
    inprocess_sweep_seconds: float = 10.0
    # Calendar feeds: a link lasts feed_valid_days, or until the programme's end when set.
    feed_valid_days: int = Field(default=365, gt=0, description="Lifetime of a feed link")
    feed_programme_end_on: date | None = Field(
        default=None, description="Feed links expire at the end of this day (UTC) at the latest"
    )
    feed_past_days: int = Field(default=92, ge=0, description="Days of past events in a feed")
    feed_future_days: int = Field(default=366, gt=0, description="Days ahead in a feed")
