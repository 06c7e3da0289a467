"""Feature generators: functions of current and past candles only."""
