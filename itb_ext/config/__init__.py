"""Typed configuration objects for ITB's generator entries, models, simulation and notifications."""
