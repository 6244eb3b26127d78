"""Writing tenants' secrets: SSM SecureString parameters in AWS, a JSON file on the local stack.

Reading stays with `services.runtime.secret` (Powertools parameters, cached). Values pass
through here and nowhere else: never logged, never returned in an error's text.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol


class SecretStore(Protocol):
    def put(self, name: str, value: str) -> None:
        """Create or overwrite the secret `name` (SecureString in SSM)."""
        ...

    def get(self, name: str) -> str | None:
        """The secret's value as stored now (no cache); None if there is none."""
        ...


class SsmSecrets:
    """SSM Parameter Store: SecureString under the account's default KMS key (aws/ssm)."""

    def __init__(self, region: str, client: Any = None) -> None:
        self._region = region
        self._client = client

    def _ssm(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("ssm", region_name=self._region)
        return self._client

    def put(self, name: str, value: str) -> None:
        if not value:
            raise ValueError(f"{name}: an empty secret")
        self._ssm().put_parameter(
            Name=name, Value=value, Type="SecureString", Overwrite=True, Tier="Standard"
        )

    def get(self, name: str) -> str | None:
        ssm = self._ssm()
        try:
            answer = ssm.get_parameter(Name=name, WithDecryption=True)
        except ssm.exceptions.ParameterNotFound:
            return None
        return str(answer["Parameter"]["Value"])


class FileSecrets:
    """The local stack's `.local/secrets.json` (name → value), rewritten atomically."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self._path = path

    def _read(self) -> dict[str, str]:
        if not self._path.exists():
            return {}
        values: dict[str, str] = json.loads(self._path.read_text(encoding="utf-8"))
        return values

    def put(self, name: str, value: str) -> None:
        if not value:
            raise ValueError(f"{name}: an empty secret")
        with self._lock:
            values = {**self._read(), name: value}
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".secrets-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(values, out, indent=2, sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self._path)

    def get(self, name: str) -> str | None:
        return self._read().get(name)
