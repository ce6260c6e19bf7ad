"""Settings from the environment (`YARDSTICK_…`), read once through `get_settings()`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the placeholder we refuse outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YARDSTICK_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./yardstick.db"
    rubrics_dir: Path = Path("rubrics")
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = PLACEHOLDER_SECRET
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    # Days a candidate's data is kept after their last assessment ended; None keeps it until
    # someone runs `yardstick retention run --days N` or erases the person.
    candidate_retention_days: int | None = Field(default=None, ge=1)
    # Requests of one process that may use PostgreSQL at once (SQLite always has one). Python
    # runs one thread at a time: past a few, more threads mostly wait for each other (on two
    # cores, autosave served 414 requests/s with 15 and 705 with 3). Raise it when the
    # database is far away and requests spend most of their time waiting for it.
    database_session_slots: int = Field(default=4, ge=1, le=15)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        # A known secret key in production would let anyone forge what it signs.
        if self.environment == "production" and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "YARDSTICK_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.environment != "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
