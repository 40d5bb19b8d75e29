"""Settings, read from the environment (prefix ``MERITLINE_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting meritline reads; each one is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="MERITLINE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///meritline.db",
        description="SQLAlchemy URL of the database (SQLite file or postgresql+psycopg://...).",
    )
    migration_database_url: str | None = Field(
        default=None,
        description=(
            "URL `meritline db upgrade` connects with (the schema owner). "
            "Unset: MERITLINE_DATABASE_URL."
        ),
    )
    database_role: str = Field(
        default="meritline_app",
        description=(
            "PostgreSQL only: the role without BYPASSRLS that migrations create and grant, and "
            "that a privileged login switches to (SET ROLE) before any query. Empty: none."
        ),
    )
    tenant: str = Field(default="default", description="Tenant slug the CLI acts on.")
    auto_migrate: bool | None = Field(
        default=None,
        description=(
            "Upgrade the schema automatically when a command finds it behind. "
            "Unset: yes for SQLite, no for PostgreSQL (run `meritline db upgrade`)."
        ),
    )
    secret_key: str | None = Field(
        default=None,
        description=(
            'Key that encrypts stored connector secrets (a Fernet key: `python -c "from '
            'cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`). '
            "Unset: read from MERITLINE_SECRET_KEY_FILE, which is created on first use."
        ),
    )
    secret_key_file: Path = Field(
        default=Path("meritline.key"),
        description="File holding the key when MERITLINE_SECRET_KEY is unset (created mode 0600).",
    )
    max_webhook_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="Largest webhook body accepted (413 above)."
    )
    api_page_size_max: int = Field(default=500, ge=1, description="Largest page the API returns.")
    echo_sql: bool = Field(default=False, description="Log every SQL statement (debugging).")

    @property
    def owner_database_url(self) -> str:
        """The URL migrations run with."""
        return self.migration_database_url or self.database_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
