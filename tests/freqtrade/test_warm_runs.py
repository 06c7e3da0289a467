"""The e2e tier's warm runs (:mod:`tests.support.warm`) behave as cold child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import warm

PROGRAM = """
import os, sys
print("argv", sys.argv[1:])
print("cwd", os.getcwd())
print("env", os.environ.get("WARM_PROBE"))
print("path0", repr(sys.path[0]))
print("ours", sorted(m for m in sys.modules if m.split(".")[0] in ("itb_ext", "user_data")))
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


def both(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], ...]:
    env = {**os.environ, "WARM_PROBE": "seen"}
    cold = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    return cold, warm.run(argv, cwd=cwd, env=env, timeout=60)


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_warm_run_has_the_arguments_folder_environment_streams_and_status_of_a_cold_one(
    tmp_path: Path,
) -> None:
    cold, hot = both([sys.executable, "-c", PROGRAM, "3", "second"], tmp_path)
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert hot.returncode == 3
    assert "argv ['3', 'second']" in hot.stdout and f"cwd {tmp_path}" in hot.stdout
    assert "env seen" in hot.stdout and "ours []" in hot.stdout


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_warm_module_run_imports_our_code_afresh_and_reports_its_refusal(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "itb_ext.adapters.offline", "trade", "--config", "none.json"]
    cold, hot = both(argv, tmp_path)
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert hot.returncode == 2 and "offline mode cannot run 'freqtrade trade'" in hot.stderr


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_warm_run_past_its_timeout_is_killed(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(subprocess.TimeoutExpired):
        warm.run(argv, cwd=tmp_path, env=dict(os.environ), timeout=1)


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_sitecustomize_on_the_python_path_loads_first_as_in_a_cold_run(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins.MARKED = 'early'\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    argv = [sys.executable, "-c", "print(MARKED)"]
    cold = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    hot = warm.run(argv, cwd=tmp_path, env=env, timeout=60)
    assert (hot.returncode, hot.stdout) == (cold.returncode, cold.stdout) == (0, "early\n")


@pytest.mark.usefixtures("freqtrade_installed")
def test_a_sitecustomize_of_one_run_never_reaches_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sitecustomize.py").write_text("import builtins\nbuiltins.MARKED = 'early'\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(warm, "_server", None)  # the server starts now, with that path set
    probe = [sys.executable, "-c", "import builtins; print(getattr(builtins, 'MARKED', None))"]
    first = warm.run(probe, cwd=tmp_path, env=dict(os.environ), timeout=60)
    without = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    second = warm.run(probe, cwd=tmp_path, env=without, timeout=60)
    assert (first.stdout, second.stdout) == ("early\n", "None\n")
