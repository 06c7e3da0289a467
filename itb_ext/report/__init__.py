"""The walk-forward report: out-of-sample model quality, trading metrics after fees, one HTML."""
