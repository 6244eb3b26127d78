"""Retrieval and answers stay light on a cold start: no PDF, OpenAI or image library comes along."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO

PROBE = """
import json, sys
import leadbot.knowledge.retrieve, leadbot.knowledge.answer, leadbot.knowledge.cache
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_retrieval_modules_import_no_heavy_library() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PYTHONPATH": str(REPO / "layers/shared")},
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(json.loads(out.stdout))
    assert "leadbot" in imported
    heavy = {"openai", "pypdf", "pdfplumber", "pdfminer", "reportlab", "PIL", "pypdfium2"}
    assert not imported & heavy
    assert not imported & {"boto3", "botocore", "pynamodb", "httpx", "pydantic"}
