"""Run AWS's DynamoDB Local (a Java jar) as a subprocess for the local stack and tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import boto3
from botocore.config import Config

JAR_NAME = "DynamoDBLocal.jar"
LIB_DIR = "DynamoDBLocal_lib"
LOG_NAME = "dynamodb-local.log"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
INSTALL_HINT = "run `make install` (it installs amplify-dynamodb-simulator into .tools/)"


def jar_dir(tools_dir: Path) -> Path:
    """Where `npm install --prefix <tools_dir> amplify-dynamodb-simulator` puts the jar."""
    return tools_dir / "node_modules" / "amplify-dynamodb-simulator" / "emulator"


def free_port() -> int:
    """A port that was free a moment ago (the OS picks it; a tiny race is acceptable locally)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path | None, lines: int = 20) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


class DynamoDBLocal:
    """DynamoDB Local on 127.0.0.1; in memory when data_dir is None, else persisted there."""

    def __init__(self, *, jar_dir: Path, data_dir: Path | None, port: int | None = None) -> None:
        # Absolute, because the jar runs with its own folder as the working directory.
        self.jar_dir = jar_dir.resolve()
        self.data_dir = data_dir.resolve() if data_dir is not None else None
        self.port = port if port is not None else free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_path: Path | None = None
        self._temp_log = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self, java: str = "java") -> list[str]:
        """The java command line (without starting anything)."""
        jar = self.jar_dir / JAR_NAME
        cmd = [java, f"-Djava.library.path={self.jar_dir / LIB_DIR}", "-jar", str(jar)]
        # -sharedDb: one database whatever access key and region the client uses.
        cmd += ["-sharedDb", "-port", str(self.port)]
        if self.data_dir is None:
            cmd.append("-inMemory")
        else:
            cmd += ["-dbPath", str(self.data_dir)]
        return cmd

    def start(self) -> None:
        """Start the jar and wait until it answers ListTables; RuntimeError with the log if not."""
        if self.running:
            return
        java = shutil.which("java")
        if java is None:
            raise RuntimeError(
                f"DynamoDB Local needs Java but `java` is not on PATH; {INSTALL_HINT}"
            )
        jar = self.jar_dir / JAR_NAME
        if not jar.is_file():
            raise RuntimeError(f"DynamoDB Local jar not found at {jar}; {INSTALL_HINT}")
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._log_path = self.data_dir / LOG_NAME
        else:
            fd, name = tempfile.mkstemp(prefix="dynamodb-local-", suffix=".log")
            # Only the path is needed; the file is reopened for appending below.
            with open(fd, "wb"):
                pass
            self._log_path = Path(name)
            self._temp_log = True
        self._log = self._log_path.open("ab")
        self._proc = subprocess.Popen(
            self.command(java),
            cwd=self.jar_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 0}),
        )
        last_error = "not started"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"DynamoDB Local exited with code {self._proc.returncode} on port {self.port}"
                    f"; log tail ({self._log_path}):\n{_tail(self._log_path)}\n"
                    f"If the jar or Java is broken, {INSTALL_HINT}"
                )
            try:
                # The port opens before the engine is ready, so also wait for a real answer.
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                client.list_tables(Limit=1)
                return
            except Exception as exc:  # any failure means "not yet"; reported on timeout
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        raise RuntimeError(
            f"DynamoDB Local did not answer on {self.endpoint} within {START_TIMEOUT_S:.0f} s"
            f" (last error: {last_error}); log tail ({self._log_path}):\n{_tail(self._log_path)}\n"
            f"If the jar or Java is missing, {INSTALL_HINT}"
        )

    def stop(self) -> None:
        """Terminate, then kill after 5 s. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._temp_log and self._log_path is not None:
            # In-memory runs keep nothing; start() failures already quoted the log tail.
            self._log_path.unlink(missing_ok=True)
            self._temp_log = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
