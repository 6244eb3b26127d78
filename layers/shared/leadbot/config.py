"""Typed settings from the function's environment, read once and lazily (never at import time)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What every function needs to find its tables, secrets and channel APIs."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    env: str = Field("local", alias="LEADBOT_ENV")
    region: str = Field("us-east-1", alias="AWS_REGION")
    tenants_table: str = Field(alias="TENANTS_TABLE")
    identities_table: str = Field(alias="IDENTITIES_TABLE")
    leads_table: str = Field(alias="LEADS_TABLE")
    timeline_table: str = Field(alias="TIMELINE_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    # Only the local stack and tests set an endpoint (DynamoDB Local); in AWS it stays None.
    dynamodb_endpoint: str | None = Field(None, alias="DYNAMODB_ENDPOINT")
    # "ssm" in AWS; "file:<path>" on the local stack, a JSON map of parameter name → value.
    secrets_source: str = Field("ssm", alias="SECRETS_SOURCE")
    telegram_api_base: str = Field("https://api.telegram.org", alias="TELEGRAM_API_BASE")
    dashboard_url: str = Field("", alias="DASHBOARD_URL")
    tenant_cache_seconds: float = Field(60.0, alias="TENANT_CACHE_SECONDS")
    idempotency_seconds: int = Field(86_400, alias="IDEMPOTENCY_SECONDS")


@cache
def settings() -> Settings:
    env = dict(os.environ)
    env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1"))
    return Settings.model_validate(env)
