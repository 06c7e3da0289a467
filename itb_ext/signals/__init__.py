"""Score aggregation (smoothen, combine) and threshold rules that turn model scores into signals."""
