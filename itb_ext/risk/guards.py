"""Start-up guards: legal settings that put the account in danger are refused unless the config
names the risk in ``itb.risk.i_accept``; a REST API without credentials is refused outright.

Each danger is one :class:`Danger` naming its config key; :func:`refuse_dangers` raises the
first one not accepted as a one-line :class:`~itb_ext.errors.ConfigError`. The strategy calls
it when it starts (backtests included, so a comparison that means all-in says so).

=======================  ======================================================================
risk                     the setting
=======================  ======================================================================
``large_stakes``         ``itb.risk.sizing.max_fraction`` above 0.5
``whole_balance``        ``max_fraction`` 1 (or, with ``itb.risk`` off, FreqTrade's
                         ``stake_amount: "unlimited"`` with ``max_open_trades: 1``); accepting it
                         accepts ``large_stakes`` too
``no_daily_loss_limit``  ``itb.risk.kill_switch.max_daily_loss`` 1 or more (never triggers)
``no_drawdown_limit``    ``itb.risk.kill_switch.max_drawdown`` 1 or more (never triggers)
``wide_stop``            ``itb.risk.stop.max_distance`` 0.5 or more, or without the ATR stop a
                         ``stoploss`` 0.5 or more away (``-1``: no stop at all)
=======================  ======================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from itb_ext.config.risk import AcceptedRisk, RiskConfig
from itb_ext.errors import ConfigError

#: Above this ``max_fraction`` one bad trade can take more than half of the account with it.
LARGE_STAKE_FRACTION = 0.5
#: A loss limit at or above this fraction of equity can never trigger: it is switched off.
LIMIT_SWITCHED_OFF = 1.0
#: A stop this far from the entry (a fraction of the price) or further does not protect.
WIDE_STOP_DISTANCE = 0.5

#: What accepting one risk accepts as well: all-in is the larger of the two stake risks.
_IMPLIED: dict[AcceptedRisk, tuple[AcceptedRisk, ...]] = {"whole_balance": ("large_stakes",)}


@dataclass(frozen=True)
class Danger:
    """A dangerous setting.

    :param risk: the name ``itb.risk.i_accept`` acknowledges it with.
    :param key: the config key that sets it, e.g. ``itb.risk.sizing.max_fraction``.
    :param problem: what it does, e.g. ``1.0 lets one trade stake the whole balance``.
    """

    risk: AcceptedRisk
    key: str
    problem: str

    @property
    def message(self) -> str:
        """One line naming the key, the danger and the way out."""
        return (
            f'{self.key}: {self.problem}; change it, or list "{self.risk}" in '
            "itb.risk.i_accept to mean it"
        )


def _stake_dangers(risk: RiskConfig, stake_amount: object, max_open_trades: object) -> list[Danger]:
    if risk.enabled:
        cap = risk.sizing.max_fraction
        key = "itb.risk.sizing.max_fraction"
        if cap >= 1:
            return [Danger("whole_balance", key, f"{cap:g} lets one trade stake the whole balance")]
        if cap > LARGE_STAKE_FRACTION:
            problem = f"{cap:g} lets one trade stake more than half of equity"
            return [Danger("large_stakes", key, problem)]
        return []
    if stake_amount == "unlimited" and max_open_trades == 1:
        problem = (
            '"unlimited" with max_open_trades 1 stakes the whole balance on one trade '
            "(itb.risk is off)"
        )
        return [Danger("whole_balance", "stake_amount", problem)]
    return []


def _limit_dangers(risk: RiskConfig) -> list[Danger]:
    ks = risk.kill_switch
    if not ks.enabled:
        return []  # switched off in so many words
    found = []
    if ks.max_daily_loss >= LIMIT_SWITCHED_OFF:
        problem = f"{ks.max_daily_loss:g} can never trigger: the daily loss limit is off"
        found.append(Danger("no_daily_loss_limit", "itb.risk.kill_switch.max_daily_loss", problem))
    if ks.max_drawdown >= LIMIT_SWITCHED_OFF:
        problem = f"{ks.max_drawdown:g} can never trigger: the drawdown limit is off"
        found.append(Danger("no_drawdown_limit", "itb.risk.kill_switch.max_drawdown", problem))
    return found


def _stop_dangers(risk: RiskConfig, stoploss: float) -> list[Danger]:
    if risk.enabled and risk.stop is not None:
        distance = risk.stop.max_distance
        if distance >= WIDE_STOP_DISTANCE:
            problem = f"{distance:g} lets a position lose {distance:.0%} before its stop"
            return [Danger("wide_stop", "itb.risk.stop.max_distance", problem)]
        return []
    if -stoploss >= 1:
        problem = (
            f"{stoploss:g} without the ATR stop (itb.risk.stop) leaves positions without a stop"
        )
        return [Danger("wide_stop", "stoploss", problem)]
    if -stoploss >= WIDE_STOP_DISTANCE:
        problem = f"{stoploss:g} without the ATR stop (itb.risk.stop) lets a position lose "
        return [Danger("wide_stop", "stoploss", problem + f"{-stoploss:.0%} before its stop")]
    return []


def dangers(
    risk: RiskConfig,
    *,
    stoploss: float,
    stake_amount: object = None,
    max_open_trades: object = None,
) -> tuple[Danger, ...]:
    """Every dangerous setting of a bot, accepted or not.

    :param risk: the ``itb.risk`` section.
    :param stoploss: the strategy's static stop in force (FreqTrade's ``stoploss``, negative).
    :param stake_amount: FreqTrade's ``stake_amount`` (read when ``itb.risk`` is off).
    :param max_open_trades: FreqTrade's ``max_open_trades``.
    """
    return (
        *_stake_dangers(risk, stake_amount, max_open_trades),
        *_limit_dangers(risk),
        *_stop_dangers(risk, stoploss),
    )


def accepted(risk: RiskConfig) -> frozenset[AcceptedRisk]:
    """The risks ``itb.risk.i_accept`` acknowledges, with those they imply."""
    names = set(risk.i_accept)
    for name in risk.i_accept:
        names.update(_IMPLIED.get(name, ()))
    return frozenset(names)


def unaccepted_dangers(risk: RiskConfig, found: Iterable[Danger]) -> tuple[Danger, ...]:
    """The dangers ``itb.risk.i_accept`` does not acknowledge.

    :param risk: the ``itb.risk`` section.
    :param found: what :func:`dangers` found.
    """
    ok = accepted(risk)
    return tuple(d for d in found if d.risk not in ok)


def refuse_dangers(risk: RiskConfig, found: Iterable[Danger]) -> None:
    """Refuse the first danger :func:`dangers` found that ``itb.risk.i_accept`` does not
    acknowledge.

    :raises ConfigError: naming its key, the danger and the ``i_accept`` name that means it.
    """
    left = unaccepted_dangers(risk, found)
    if left:
        raise ConfigError(left[0].message)


#: The REST API's credentials; blank, anyone who reaches the port could trade the account.
API_CREDENTIALS = ("username", "password", "jwt_secret_key")


def api_server_refusal(config: Mapping[str, Any]) -> str | None:
    """Why the REST API must not start, or None: enabled with a blank credential.

    :param config: the FreqTrade config (its ``api_server`` section).
    :return: one line naming the key, e.g. ``api_server.password: blank while ...``.
    """
    api = config.get("api_server") or {}
    if not api.get("enabled", False):
        return None
    for key in API_CREDENTIALS:
        if not str(api.get(key) or "").strip():
            return (
                f"api_server.{key}: blank while api_server.enabled is true: anyone who reaches "
                "the REST API could trade this account; set api_server.username, password and "
                "jwt_secret_key (long random values), or switch the API off"
            )
    return None
