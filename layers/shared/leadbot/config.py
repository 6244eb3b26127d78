"""Typed settings from the function's environment, read once and lazily (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from functools import cache
from typing import Any


class MissingSettings(Exception):
    """Required environment variables are not set; `names` says which."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"not set: {', '.join(names)}")
        self.names = names


@dataclass(frozen=True)
class Settings:
    """What every function needs to find its tables, secrets and channel APIs.

    Each field is read from the environment variable of its name in upper case.
    """

    tenants_table: str
    identities_table: str
    leads_table: str
    timeline_table: str
    idempotency_table: str
    brokers_table: str
    deals_table: str
    properties_table: str
    knowledge_table: str
    leadbot_env: str = "local"
    aws_region: str = "us-east-1"
    # Only the local stack and tests set an endpoint (DynamoDB Local); in AWS it stays None.
    dynamodb_endpoint: str | None = None
    # "ssm" in AWS; "file:<path>" on the local stack, a JSON map of parameter name → value.
    secrets_source: str = "ssm"
    telegram_api_base: str = "https://api.telegram.org"
    whatsapp_api_base: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    dashboard_url: str = ""
    # Base of the links leads open (catalogs): set when the API has a custom domain; empty means
    # "the address the webhook was called on", taken from each API Gateway event.
    public_api_url: str = ""
    # The SSM parameter of the key that signs catalog links; "" means /leadbot/<env>/….
    link_signing_key_param: str = ""
    tenant_cache_seconds: float = 60.0
    # Lead exports too big to answer inline: an S3 bucket in AWS; on the local stack (no S3) a
    # folder the local gateway serves under `exports_url_base`.
    exports_bucket: str = ""
    exports_dir: str = ""
    exports_url_base: str = ""
    # Listing brochures: admins upload them straight to this private bucket with a presigned
    # PUT; on the local stack (no S3) to a folder, through the gateway's `brochures_url_base`.
    brochures_bucket: str = ""
    brochures_dir: str = ""
    brochures_url_base: str = ""
    # Lambda answers at most 6 MB; an export whose response body would be bigger goes to storage.
    export_inline_max_bytes: int = 5_000_000
    idempotency_seconds: int = 86_400
    # OpenAI, one key per deployment: the SSM SecureString holding it; "" means no OpenAI, and
    # the product works offline (extractive answers; voice notes are asked to be typed).
    openai_key_param: str = ""
    # The local stack and tests point this at the fake (local/fake_openai.py).
    openai_api_base: str = "https://api.openai.com/v1"
    openai_chat_model: str = "gpt-4o-mini"
    openai_transcribe_model: str = "gpt-4o-mini-transcribe"
    # Per call; a webhook must answer within seconds, and every caller has an offline fallback,
    # so a slow model is abandoned rather than retried.
    openai_timeout_s: float = 6.0
    openai_transcribe_timeout_s: float = 8.0
    openai_max_retries: int = 0
    openai_max_tokens: int = 400
    # Airtable CRM sync: each agency's base and token's parameter are on its Tenant; the local
    # stack and tests point the API base at the fake (local/fake_airtable.py).
    airtable_api_base: str = "https://api.airtable.com"
    airtable_timeout_s: float = 10.0
    airtable_max_retries: int = 3
    # The CRM sync's dead-letter queue (SQS URL): what Airtable refused is parked there, and
    # `python -m leadbot.admin crm-replay` drains it. The local stack's queues are served by its
    # gateway (`sqs_endpoint`); in AWS the endpoint stays None.
    crm_sync_dlq_url: str = ""
    sqs_endpoint: str | None = None
    # Voice notes bigger than this are not downloaded (Telegram serves bots at most 20 MB).
    voice_max_bytes: int = 20 * 1024 * 1024

    @property
    def region(self) -> str:
        return self.aws_region

    @property
    def signing_key_param(self) -> str:
        return self.link_signing_key_param or f"/leadbot/{self.leadbot_env}/link-signing-key"

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Settings:
        env = {**env, "AWS_REGION": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION", "")}
        values: dict[str, Any] = {}
        missing = []
        for field in fields(cls):
            raw = env.get(field.name.upper())
            if raw:
                values[field.name] = _CONVERT.get(str(field.type), str)(raw)
            elif field.default is MISSING:
                missing.append(field.name.upper())
        if missing:
            raise MissingSettings(missing)
        return cls(**values)


# Field types are strings here (postponed annotations); these two need converting.
_CONVERT: dict[str, Callable[[str], Any]] = {"float": float, "int": int}


@cache
def settings() -> Settings:
    return Settings.from_env(dict(os.environ))
