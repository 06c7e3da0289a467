"""ITBClassifier overrides one private FreqAI method; these checks fail when FreqAI changes it.

FreqAI calls ``IFreqaiModel._append_null_backtesting_predictions`` for a backtest window whose
training failed, and has no public hook for it. If one of these checks fails, read FreqAI's new
``start_backtesting``, adapt ``ITBClassifier._append_null_backtesting_predictions`` and
``itb_ext.adapters.freqai_model``, then update the recorded hash and version.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from typing import Any

import pytest
from freqtrade.exceptions import OperationalException
from freqtrade.freqai.freqai_interface import IFreqaiModel

from itb_ext.adapters import freqai_model
from tests.freqtrade.strategy_helpers import ROOT


def classifier_class() -> Any:
    path = ROOT / "user_data" / "freqaimodels" / "ITBClassifier.py"
    spec = importlib.util.spec_from_file_location("itb_classifier_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ITBClassifier


def test_freqais_private_method_is_the_one_checked_against() -> None:
    method = getattr(IFreqaiModel, freqai_model.NULL_PREDICTIONS_HOOK)
    assert list(inspect.signature(method).parameters) == ["self", "dk", "dataframe_backtest"]
    source = inspect.getsource(method)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == freqai_model.NULL_PREDICTIONS_SHA256, (
        f"FreqAI's {freqai_model.NULL_PREDICTIONS_HOOK} changed since FreqTrade "
        f"{freqai_model.CHECKED_AGAINST}"
    )


def test_freqai_still_calls_it_for_a_window_without_a_model() -> None:
    source = inspect.getsource(IFreqaiModel.start_backtesting)
    failed = source.index("if self.model is None:")
    call = source.index(freqai_model.NULL_PREDICTIONS_CALL)
    stored = source.index("dk.save_backtesting_prediction(append_df)")
    # in the failed window's branch, before any prediction of a trained model is stored
    assert failed < call < stored


def test_the_override_stops_the_backtest_naming_the_pair_and_the_error() -> None:
    itb_classifier = classifier_class()
    assert freqai_model.NULL_PREDICTIONS_HOOK in vars(itb_classifier)
    model = itb_classifier.__new__(itb_classifier)  # no FreqAI start: only the hook is called
    model._training_error = ValueError("no row has all features")

    class Kitchen:
        pair = "BTC/USD"

    with pytest.raises(OperationalException) as raised:
        model._append_null_backtesting_predictions(Kitchen(), None)
    assert str(raised.value) == (
        "ITBClassifier: training for BTC/USD failed (ValueError: no row has all features)"
    )
