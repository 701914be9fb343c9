"""The `topology` fixture of the local production topology's proofs (`make prod-local-test`): the running
`make prod-local` when there is one, else one started once for the whole session and stopped after it (starting it
takes minutes; every module of tests/deploy shares it)."""

import json
import os
import subprocess  # nosec B404 - our own deploy script
import sys
from pathlib import Path

import pytest

from tests.deploy.test_prod_local import SCRIPT, STATE, _running


@pytest.fixture(scope="session")
def topology():
    started_here = not _running()
    if started_here:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
        # make's PROD_LOCAL_PORT_BASE / PROD_LOCAL_PG_PREFIX, when set, as `make prod-local` passes them.
        options = ["--port-base", os.environ.get("PROD_LOCAL_PORT_BASE") or "28400"]
        options += ["--pg-prefix", os.environ.get("PROD_LOCAL_PG_PREFIX") or "thebot-prod-local-pg-"]
        done = subprocess.run(
            [sys.executable, SCRIPT, "start", *options], capture_output=True, text=True, env=env, timeout=1100
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = json.loads(STATE.read_text())
    state["logins"] = json.loads(Path(state["demo_logins_file"]).read_text())
    yield state
    if started_here:
        subprocess.run([sys.executable, SCRIPT, "stop"], capture_output=True, timeout=300, check=True)
