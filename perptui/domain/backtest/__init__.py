"""Backtests of the allocation pane's strategies on bar history. Pure (numpy): no I/O, no Textual.

- ``history``: ``MarketHistory``, the bars and funding prints a run reads (and ``until``, the view of
  the past that a decision may see);
- ``types``: costs, a layer's targets, the ledgers and results a run produces.
"""
