"""Risk rules as pure functions of equity, trades and candles."""
