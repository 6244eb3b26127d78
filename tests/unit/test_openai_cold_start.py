"""OpenAI's SDK costs the webhooks' cold start nothing: it is imported by a model's first call."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import REPO

# This checkout's code, whatever else the interpreter's path holds.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "layers/shared"), str(REPO)])}


@pytest.mark.parametrize("function", ["webhook_telegram", "webhook_whatsapp", "api"])
def test_no_function_imports_openai_when_it_loads(function: str) -> None:
    code = (
        f"import sys; sys.path.insert(0, 'functions/{function}'); import app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openai', 'jiter', 'tqdm') "
        "or m == 'leadbot.integrations.openai_adapter'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_adapter_imports_the_sdk_only_when_a_model_is_called() -> None:
    code = (
        "import sys; from dataclasses import fields; from leadbot.config import Settings; "
        "from leadbot.integrations.openai_adapter import from_settings; "
        "tables = {n: 't' for n in (f.name for f in fields(Settings)) if n.endswith('_table')}; "
        "s = Settings(**tables, openai_key_param='/leadbot/test/openai-api-key'); "
        "models = from_settings(s, lambda name: 'sk-x'); "
        "print(models is not None, 'openai' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=ENV, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "False"]
