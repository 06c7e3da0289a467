"""FreqTrade strategy running intelligent-trading-bot's signal pipeline through FreqAI."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.enums import OPTIMIZE_MODES, TRADE_MODES
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_minutes
from freqtrade.persistence import Order, Trade
from freqtrade.strategy import CategoricalParameter, DecimalParameter, IntParameter, IStrategy

from itb_ext.adapters import freqai_strategy as trades
from itb_ext.adapters import live_orders
from itb_ext.errors import ITBError
from itb_ext.risk.kill_switch import Halt, halt_file, start_up
from itb_ext.risk.policy import RiskPolicy
from itb_ext.signals.tuning import COMBINE_MODES, SignalOverrides
from itb_ext.strategy import candles, parameters, positions, signals, topology
from itb_ext.strategy.alerts import Alerts, Messages
from itb_ext.strategy.charts import plot_config
from itb_ext.strategy.setup import ITBSetup

logger = logging.getLogger(__name__)


class ITBStrategy(IStrategy):
    """ITB's pipeline from the config's ``itb`` section: features -> one classifier per (label,
    algorithm) (FreqAI model ``ITBClassifier``) -> ``trade_score`` (``signal_sets``) -> long while
    ``trade_score >= buy_threshold``, out when ``trade_score <= sell_threshold`` (shorts mirror
    it in futures mode). Hyperopt tunes the signal stage on stored predictions, never retraining.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    process_only_new_candles = True
    use_exit_signal = True
    exit_profit_only = False
    ignore_roi_if_entry_signal = True
    # ITB leaves positions on the opposite signal only; ROI and stoploss are a safety net.
    minimal_roi = {"0": 10.0}
    stoploss = -0.20
    startup_candle_count = 672

    buy_threshold = DecimalParameter(0.0, 0.3, default=0.08, decimals=3, space="buy")
    smoothing_window = IntParameter(1, 12, default=1, space="buy")
    combine_mode = CategoricalParameter(list(COMBINE_MODES), default="difference", space="buy")
    sell_threshold = DecimalParameter(-0.3, 0.0, default=-0.08, decimals=3, space="sell")

    def __init__(self, config: dict[str, Any]) -> None:
        try:  # first: FreqTrade's start reads the hyperopt result (load_params_from_file)
            self.itb = ITBSetup.from_freqtrade_config(config)
            self.topology = topology.topology_of(config)
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        super().__init__(config)
        self.risk = RiskPolicy(self.itb.raw.risk)
        self.alerts = Alerts(self.timeframe, timeframe_to_minutes(self.timeframe))
        self.buy_params, self.sell_params = parameters.hyperopt_defaults(self.itb)
        for name, value in parameters.strategy_attributes(self.itb, self.risk, config).items():
            setattr(self, name, value)
        self._halt: Halt | None = None  # the kill switch's, dry-run and live
        self._twap_planned: dict[str, float] = {}  # per pair: the stake of the entry in flight
        self._exchange_checks = live_orders.ExchangeChecks(self.itb.raw.risk.reconcile)

    def load_params_from_file(self) -> dict[str, Any]:
        """The hyperopt result beside this file if this config produced it; logs the values used."""
        found = super().load_params_from_file()
        params_file = Path(self.__file__).with_suffix(".json") if self.__file__ else None
        try:
            decision = parameters.start_decision(
                self.itb, self.config, found.get("params", {}), params_file
            )
        except ITBError as exc:
            raise OperationalException(str(exc)) from None
        for warning in decision.warnings:
            logger.warning(warning)
        logger.info(decision.summary)
        return found if decision.use_file else {}

    @property
    def plot_config(self) -> dict[str, Any]:
        return plot_config(self.itb)

    @property
    def protections(self) -> list[dict[str, Any]]:
        return self.risk.protections()

    # FreqAI hooks (feature_engineering_expand_all stays FreqTrade's: ITB expands nothing)
    def feature_engineering_expand_basic(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_features(self.itb, dataframe, expandable=True)

    def feature_engineering_standard(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_features(self.itb, dataframe, expandable=False)

    def set_freqai_targets(
        self, dataframe: pd.DataFrame, metadata: dict, **kwargs: Any
    ) -> pd.DataFrame:
        return candles.with_targets(self.itb, dataframe)

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        pair, name = metadata["pair"], self.topology.producer
        if self.topology.is_consumer:
            producer, _ = self.dp.get_producer_df(pair, producer_name=name)
            state = topology.producer_state_of(dataframe, producer, self.alerts.timeframe_minutes)
            self._tell(self.alerts.producer(pair, name, state) if self._is_trading() else ())
            dataframe = topology.with_producer_scores(dataframe, producer, self.itb.score_columns)
        else:
            dataframe = self.freqai.start(dataframe, metadata, self)
        return candles.analysed(self.itb, self.risk, dataframe)

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        out = signals.entry_signals(self.itb, dataframe, self._parameters(), self.can_short)
        if self._is_trading() and not self.topology.is_consumer:
            failure = getattr(self.freqai, "training_failures", {}).get(metadata["pair"])
            self._tell(self.alerts.for_candle(self.itb, out, metadata["pair"], failure))
        return out

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict) -> pd.DataFrame:
        return signals.exit_signals(self.itb, dataframe, self._parameters(), self.can_short)

    def _parameters(self) -> SignalOverrides:
        values = (self.buy_threshold, self.sell_threshold, self.smoothing_window, self.combine_mode)
        return signals.signal_parameters(self.itb, *(p.value for p in values))

    def _tell(self, alerts: Messages) -> None:
        """Log each alert, and send it (Telegram, webhooks) in dry-run and live."""
        for alert in alerts:
            logger.log(alert.level, alert.text)
            if self._is_trading():
                self.dp.send_msg(alert.text, always_send=alert.always_send)

    def _is_trading(self) -> bool:
        return self.dp is not None and self.dp.runmode in TRADE_MODES

    def _equity(self, without_wallets: float) -> float:
        return self.wallets.get_total_stake_amount() if self.wallets else without_wallets

    def _newest_candle(self, pair: str) -> candles.Candle:
        return candles.newest_candle(self.dp.get_analyzed_dataframe(pair, self.timeframe)[0])

    def bot_start(self, **kwargs: Any) -> None:
        """Find a halt left by the kill switch before a restart: stay halted and say so."""
        self._halt_path = halt_file(self.config.get("db_url"), Path(self.config["user_data_dir"]))
        if self.config.get("runmode") in TRADE_MODES:
            self._halt, cleared = start_up(self._halt_path, datetime.now(UTC))
            self._tell(self.alerts.kill_switch(self._halt, self._halt_path, True, cleared))

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Check the exchange against the trades (``itb.risk.reconcile``); halt when the daily
        loss or the drawdown passes its hard limit (``itb.risk.kill_switch``)."""
        self._tell(self._exchange_checks.run(self, current_time))
        cfg = self.itb.raw.risk.kill_switch
        if self._halt is not None or not cfg.enabled or not self._is_trading():
            return
        account = trades.account(self.wallets, lambda pair: self._newest_candle(pair).get("close"))
        self._halt = positions.halt_beyond_limits(cfg, self._halt_path, account, current_time)
        self._tell(self.alerts.kill_switch(self._halt, self._halt_path))

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        """No entry while halted, nor one the entry rules of ``itb.risk`` refuse, nor one on a
        pair whose last entry order was lost (``itb.risk.reconcile``)."""
        if self._halt is not None or not self.risk.cfg.enabled:
            return self._halt is None and self._exchange_checks.entry_allowed(pair)
        candle = self._newest_candle(pair)
        reason = self.risk.entry_refusal(
            trades.entry_context(current_time, self._equity(0), candle)
        )
        self._tell(self.alerts.entry_refused(reason, current_time))
        return reason is None and self._exchange_checks.entry_allowed(pair)

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        return "kill_switch" if self._halt is not None else live_orders.exit_reason(trade)

    def confirm_trade_exit(self, pair: str, trade: Trade, *args: Any, **kwargs: Any) -> bool:
        return live_orders.confirm_exit(trade, kwargs["exit_reason"], self.dp.runmode)

    def check_entry_timeout(
        self, pair: str, trade: Trade, order: Order, current_time: datetime, **kwargs: Any
    ) -> bool:
        return self._halt is not None

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """The first slice of the position's stake (``itb.risk`` sizing, else FreqTrade's)."""
        stake = proposed_stake
        if self.risk.cfg.enabled:
            candle, short = self._newest_candle(pair), side == "short"
            excess = signals.score_excess(self.itb, candle, self._parameters(), short=short)
            stake = self.risk.stake(
                equity=self._equity(max_stake),
                price=current_rate,
                row=candle,
                min_stake=min_stake,
                max_stake=max_stake,
                recent_profits=trades.closed_profit_ratios(),
                score_excess=excess,
            )
        self._twap_planned[pair] = stake  # the other slices are planned once the trade exists
        return positions.first_slice(stake, self.itb.raw.risk.twap)

    def adjust_trade_position(
        self,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> float | None:
        """The next child order of a sliced entry when its candle has come."""
        if self._halt is not None or trade.has_open_orders:
            return None
        total = trade.get_custom_data("twap_stake")
        if total is None and (total := self._twap_planned.pop(trade.pair, None)) is not None:
            trade.set_custom_data("twap_stake", total)
        twap, minutes = self.itb.raw.risk.twap, self.alerts.timeframe_minutes
        filled, opened = trade.nr_of_successful_entries, trade.open_date_utc
        stake = positions.next_slice(total, twap, filled, opened, current_time, minutes)
        return min(stake, max_stake) if stake is not None else None

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        opened, rate, short = trade.open_date_utc, trade.open_rate, trade.is_short
        return positions.stoploss(self.risk, frame, opened, current_rate, rate, short)

    def custom_entry_price(
        self,
        pair: str,
        trade: Trade | None,
        current_time: datetime,
        proposed_rate: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return self._fill(proposed_rate, buying=side != "short")

    def custom_exit_price(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        return self._fill(proposed_rate, buying=trade.is_short)

    def _fill(self, price: float, buying: bool) -> float:
        backtesting = self.dp is not None and self.dp.runmode in OPTIMIZE_MODES
        return positions.fill_price(self.risk, price, buying=buying, backtesting=backtesting)
