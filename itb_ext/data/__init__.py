"""Candles: reading, validating and writing them, coverage checks, and synthetic shorter bars."""
