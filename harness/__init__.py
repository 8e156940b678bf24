"""ppl-harness: benchmark and validate probabilistic programming backends on one model catalogue."""

__version__ = "0.1.0"
