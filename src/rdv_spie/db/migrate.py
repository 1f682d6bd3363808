"""Alembic, configured from Settings (no alembic.ini): upgrade, downgrade, revision."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from rdv_spie.settings import Settings

FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def alembic_config(settings: Settings) -> Config:
    """An Alembic Config pointing at migrations/ and at ``settings.database_url``."""
    config = Config()
    config.set_main_option("script_location", str(settings.migrations_dir))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    """Take the schema down to ``revision`` ("base" empties it)."""
    command.downgrade(alembic_config(settings), revision)
