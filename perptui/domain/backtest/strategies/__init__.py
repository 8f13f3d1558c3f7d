"""The allocation pane's strategies as backtest layers: the carry base (``carry``), the directional
layer (``trend``) and the hybrid of both (``layers.build_layers``). Signals, funding means and returns
are computed causally for every bar once in ``prepare``; a decision for bar k reads row k - 1."""

from .carry import CarryLayer
from .layers import STRATEGIES, build_layers, costs_of, schedule_of
from .trend import TrendLayer

__all__ = ["STRATEGIES", "CarryLayer", "TrendLayer", "build_layers", "costs_of", "schedule_of"]
