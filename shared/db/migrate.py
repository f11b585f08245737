"""Runs Alembic migrations programmatically (``billing migrate``).

Upgrades to *heads*: each provider folder may add its own migration branch off the initial schema.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_heads(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "heads")
