"""Every function in template.yaml loads as Lambda loads it, imports frozen (leadbot.startup)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import load_template

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(
    props["CodeUri"].rstrip("/")
    for resource in load_template(REPO / "template.yaml")["Resources"].values()
    if resource["Type"] == "AWS::Serverless::Function"
    for props in [resource["Properties"]]
)

# What a fresh process does when Lambda loads a function: app.py from its folder, nothing else.
LOAD = """
import gc, json, sys
sys.path.insert(0, sys.argv[1])
import app
print(json.dumps({
    "enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "collectable": sum(len(gc.get_objects(generation)) for generation in range(3)),
}))
"""


def test_the_template_names_every_function_folder() -> None:
    folders = sorted(f"functions/{p.parent.name}" for p in (REPO / "functions").glob("*/app.py"))
    assert folders == FUNCTIONS


@pytest.mark.parametrize("code_uri", FUNCTIONS)
def test_a_cold_start_leaves_the_imports_to_no_collection(code_uri: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers/shared")}
    out = subprocess.run(
        [sys.executable, "-c", LOAD, str(REPO / code_uri)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    state = json.loads(out.stdout.splitlines()[-1])
    assert state["enabled"], "the collector must be back on once the function has loaded"
    # Tens of thousands of long-lived objects frozen; only what the module made after them
    # (its Logger, Metrics, handler) is left for the collector to walk.
    assert state["frozen"] > 20_000, state
    assert state["collectable"] < state["frozen"] // 10, state
