import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def dojo_bin():
    """The dojo command of the same build (ctest passes it; else build/dojo)."""
    path = os.environ.get("DOJO_BIN", str(ROOT / "build" / "dojo"))
    assert os.path.exists(path), f"no dojo command at {path}: build it first or set DOJO_BIN"
    return path


@pytest.fixture(scope="session")
def run_dojo(dojo_bin):
    def run(*args, check=True):
        r = subprocess.run([dojo_bin, *map(str, args)], capture_output=True, text=True)
        if check:
            assert r.returncode == 0, r.stderr
        return r

    return run
