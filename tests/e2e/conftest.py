"""The local stack (`python -m local`) started once in a fresh folder for the e2e tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from local.dynamodb_local import free_port
from tests.support import REPO


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LEADBOT_LOCAL_DIR of the e2e stack: a fresh folder, so a fresh, empty stack."""
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def local_stack(stack_dir: Path) -> Iterator[str]:
    """The base URL of a running local stack; stopped (with DynamoDB Local) at the end."""
    process, url = start_stack(stack_dir)
    try:
        yield url
    finally:
        stop_stack(process)


def start_stack(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m local` on a free port with its data in `folder`, once it is healthy."""
    port = free_port()
    log = (folder / "stack.log").open("a")
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO,
        env=stack_env(folder, PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, folder / "stack.log")
    except BaseException:
        stop_stack(process)
        raise
    return process, url


def stop_stack(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    process.send_signal(sig)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def stack_env(folder: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LEADBOT_LOCAL_DIR": str(folder),
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers/shared"), str(REPO)]),
        **extra,
    }


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the local stack exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/_local/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the local stack was not ready within 60 s:\n{log.read_text()}")
