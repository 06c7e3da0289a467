"""Unknown config keys are named, with the known key they most resemble."""

from __future__ import annotations

import pytest

from itb_ext.config.base import FrozenModel, validate
from itb_ext.config.risk import RiskConfig
from itb_ext.errors import ConfigError


class _Inner(FrozenModel):
    window: int = 3


class _Outer(FrozenModel):
    label_sets: tuple[int, ...]
    inner: _Inner | None = None


def _message(model: type[FrozenModel], data: object) -> str:
    with pytest.raises(ConfigError) as err:
        validate(model, data, "itb")
    return str(err.value)


def test_a_misspelt_required_key_is_named_as_unknown_not_as_missing() -> None:
    assert _message(_Outer, {"label_set": [1]}) == (
        "itb: unknown key 'label_set' (did you mean 'label_sets'?)"
    )


def test_a_key_in_the_wrong_case_is_matched_to_its_spelling() -> None:
    assert _message(_Outer, {"label_sets": [1], "Inner": {}}) == (
        "itb: unknown key 'Inner' (did you mean 'inner'?)"
    )


def test_a_nested_misspelling_is_compared_with_the_nested_section() -> None:
    assert _message(_Outer, {"label_sets": [1], "inner": {"windw": 2}}) == (
        "itb: unknown key 'inner.windw' (did you mean 'window'?)"
    )


def test_an_unrelated_key_gets_no_suggestion() -> None:
    assert _message(_Outer, {"label_sets": [1], "colour": "red"}) == "itb: unknown key 'colour'"


def test_a_misspelt_risk_key_names_the_real_one() -> None:
    message = _message(RiskConfig, {"sizing": {"max_fractoin": 0.2}})
    assert message == "itb: unknown key 'sizing.max_fractoin' (did you mean 'max_fraction'?)"


def test_an_itb_section_in_the_wrong_case_is_named() -> None:
    from itb_ext.strategy.setup import ITBSetup

    with pytest.raises(ConfigError) as err:
        ITBSetup.from_freqtrade_config({"ITB": {"feature_sets": []}})
    assert str(err.value) == (
        "config: missing 'itb' section (ITB feature_sets, label_sets, ...) "
        "(found 'ITB': the key is lower-case 'itb')"
    )
