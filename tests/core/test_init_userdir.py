"""``itb-ext init``: which files it installs, how, and what it leaves alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from itb_ext import cli
from itb_ext.adapters import init_userdir as init
from itb_ext.adapters.shipped import CHECKOUT_USER_DATA, shipped_root
from itb_ext.config.files import load_itb_document

pytest.importorskip("freqtrade")  # the exchange names come from ccxt, through FreqTrade

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "user_data"
# what a user of the 1h set-up needs, named by hand rather than by the module's patterns
NEEDED = (
    "strategies/ITBStrategy.py",
    "freqaimodels/ITBClassifier.py",
    "itb-stationary-1h.json",
    "itb-sample-1h.json",
)


@pytest.fixture
def userdir(tmp_path: Path) -> Path:
    """The part of ``freqtrade create-userdir``'s layout that init relies on."""
    folder = tmp_path / "ud"
    for sub in ("strategies", "freqaimodels", "data"):
        (folder / sub).mkdir(parents=True)
    return folder


def run_init(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``itb-ext init``, argparse's own exits included."""
    try:
        status = cli.main(["init", *argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every entry under ``folder``: link target or content, and modification time."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            seen[str(path.relative_to(folder))] = (os.readlink(path), path.lstat().st_mtime_ns)
        elif path.is_file():
            seen[str(path.relative_to(folder))] = (path.read_text(), path.stat().st_mtime_ns)
    return seen


def test_links_the_strategy_model_and_presets_to_the_shipped_files(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_init(["--userdir", str(userdir)], capsys)
    assert status == 0
    for relative in NEEDED:
        installed = userdir / relative
        assert installed.is_symlink(), relative
        assert installed.resolve() == (SHIPPED / relative).resolve()
        assert f"linked    {relative}" in out
    assert "wrote     config-itb.json" in out


def test_the_starter_config_includes_the_installed_preset_and_never_stakes_the_wallet(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--userdir", str(userdir), "--exchange", "kraken", "--pair", "ETH/EUR"]
    argv += ["--pair", "BTC/EUR"]
    assert run_init(argv, capsys)[0] == 0
    config = json.loads((userdir / "config-itb.json").read_text())
    assert config["add_config_files"] == ["itb-stationary-1h.json"]
    assert config["exchange"]["name"] == "kraken"
    assert config["exchange"]["pair_whitelist"] == ["ETH/EUR", "BTC/EUR"]
    assert config["stake_currency"] == "EUR"
    assert config["dry_run"] is True
    assert config["trading_mode"] == "spot"
    assert config["strategy"] == "ITBStrategy"
    assert config["freqaimodel"] == "ITBClassifier"
    # 100 of a 1000 wallet per trade, two pairs at most at a time
    assert config["stake_amount"] == 100
    assert config["dry_run_wallet"] == 1000
    assert config["max_open_trades"] == 2
    # FreqTrade resolves add_config_files beside the config: the itb section is found there
    document = load_itb_document(userdir / "config-itb.json")
    preset = json.loads((SHIPPED / "itb-stationary-1h.json").read_text())
    assert document["feature_sets"] == preset["itb"]["feature_sets"]
    # the label horizon FreqAI is told is the preset's own (highlow2, 24 candles)
    horizons = {entry["config"]["horizon"] for entry in preset["itb"]["label_sets"]}
    assert horizons == {config["freqai"]["feature_parameters"]["label_period_candles"]}


def test_5m_and_futures_pairs_choose_their_preset_and_trading_mode(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--userdir", str(userdir), "--exchange", "binance", "--pair", "BTC/USDT:USDT"]
    assert run_init([*argv, "--timeframe", "5m"], capsys)[0] == 0
    config = json.loads((userdir / "config-itb.json").read_text())
    assert config["add_config_files"] == ["itb-sample-5m.json"]
    assert (config["trading_mode"], config["margin_mode"]) == ("futures", "isolated")
    assert config["timeframe"] == "5m"
    assert config["freqai"]["feature_parameters"]["include_timeframes"] == ["5m"]
    shipped_5m = json.loads((SHIPPED / "config.5m.json").read_text())["freqai"]
    assert config["freqai"]["train_period_days"] == shipped_5m["train_period_days"]
    assert (
        config["freqai"]["feature_parameters"]["label_period_candles"]
        == shipped_5m["feature_parameters"]["label_period_candles"]
    )


def test_a_second_run_changes_nothing_and_says_so(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_init(["--userdir", str(userdir)], capsys)[0] == 0
    before = snapshot(userdir)
    status, out, _ = run_init(["--userdir", str(userdir)], capsys)
    assert status == 0
    assert snapshot(userdir) == before
    assert "nothing changed" in out
    assert "linked" not in out and "wrote" not in out


def test_a_different_file_is_kept_unless_forced(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = userdir / "strategies" / "ITBStrategy.py"
    mine.write_text("# my own edits\n")
    (userdir / "config-itb.json").write_text("{}\n")
    status, out, _ = run_init(["--userdir", str(userdir)], capsys)
    assert status == 0
    assert mine.read_text() == "# my own edits\n"
    assert (userdir / "config-itb.json").read_text() == "{}\n"
    assert "kept      strategies/ITBStrategy.py (differs from the shipped file" in out
    assert "kept      config-itb.json" in out
    status, out, _ = run_init(["--userdir", str(userdir), "--force"], capsys)
    assert status == 0
    assert mine.resolve() == (SHIPPED / "strategies" / "ITBStrategy.py").resolve()
    assert json.loads((userdir / "config-itb.json").read_text())["dry_run"] is True
    assert "replaced  strategies/ITBStrategy.py" in out


def test_copy_installs_plain_files_equal_to_the_shipped_ones(
    userdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run_init(["--userdir", str(userdir), "--copy"], capsys)
    assert status == 0
    for relative in NEEDED:
        installed = userdir / relative
        assert not installed.is_symlink()
        assert installed.read_bytes() == (SHIPPED / relative).read_bytes()
    assert "copied    strategies/ITBStrategy.py" in out
    # a link where a copy is asked for is not what --copy installs: kept, and said why
    status, out, _ = run_init(["--userdir", str(userdir)], capsys)
    assert "a copy of the shipped file; --force replaces it with a link" in out


def test_on_the_checkout_s_own_user_data_a_shipped_file_is_already_installed() -> None:
    relative = Path("strategies/ITBStrategy.py")
    request = init.InitRequest(userdir=SHIPPED)
    step = init._install(SHIPPED / relative, SHIPPED / relative, relative, request)
    assert step.action == "unchanged"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--userdir", "{tmp}/missing"], "missing: no such folder"),
        (["--userdir", "{tmp}"], "not a FreqTrade user-data folder (no strategies/ folder)"),
        (["--userdir", "{ud}", "--exchange", "binanse"], "unknown exchange 'binanse'"),
        (["--userdir", "{ud}", "--pair", "BTCUSD"], "pair 'BTCUSD' is not BASE/QUOTE"),
        (
            ["--userdir", "{ud}", "--pair", "BTC/USD", "--pair", "ETH/EUR"],
            "different quote currencies (EUR, USD)",
        ),
        (["--userdir", "{ud}", "--timeframe", "4h"], "invalid choice: '4h'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str],
    message: str,
    userdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    filled = [a.format(tmp=userdir.parent, ud=userdir) for a in argv]
    status, _, err = run_init(filled, capsys)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not (userdir / "config-itb.json").exists()


def test_the_package_s_copy_comes_before_the_checkout_and_must_be_complete(
    tmp_path: Path,
) -> None:
    packaged = tmp_path / "shipped"
    (packaged / "strategies").mkdir(parents=True)
    (packaged / "strategies" / "ITBStrategy.py").write_text("")
    # no model and no preset: incomplete, so the checkout is used
    assert shipped_root((packaged, CHECKOUT_USER_DATA)) == CHECKOUT_USER_DATA
    (packaged / "freqaimodels").mkdir()
    (packaged / "freqaimodels" / "ITBClassifier.py").write_text("")
    (packaged / "itb-stationary-1h.json").write_text("{}")
    assert shipped_root((packaged, CHECKOUT_USER_DATA)) == packaged
    assert shipped_root((tmp_path / "nowhere",)) is None


def test_an_installation_without_the_shipped_files_is_one_clear_error(
    userdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(init, "shipped_root", lambda: None)
    status, _, err = run_init(["--userdir", str(userdir)], capsys)
    assert status == 2
    assert "lacks the strategy, model and presets" in err
