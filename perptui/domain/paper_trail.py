"""Trailing stops: where a position's stop moves as the mark moves. Pure.

The stop follows the mark at the trail's distance, only ever toward profit: a long's stop rises (never
falls) as the mark makes new highs, a short's falls as it makes new lows. The new level is rounded to the
tick toward the entry (a long's up, like every stop: ``market_rules.level_rounding``), or away from it
when that would reach the mark: it always stays on the safe side of the mark, so a move never triggers
its own stop.
"""

from __future__ import annotations

from perptui.domain.market_rules import MarketRules, level_rounding, round_price
from perptui.domain.paper import PaperPosition


def trailed_stop(position: PaperPosition, mark: float, rules: MarketRules | None) -> float | None:
    """The stop the trail puts at ``mark``, when it is better than the position's (else None)."""
    trail = position.trail
    if trail is None or mark <= 0:
        return None
    raw = mark - position.sign * trail.distance(mark)
    if raw <= 0:
        return None
    toward = level_rounding(position.side, "stop")
    level = round_price(rules, raw, toward) if rules else raw
    if (mark - level) * position.sign <= 0:  # rounded onto the mark: the tick on the far side
        level = round_price(rules, raw, "down" if toward == "up" else "up") if rules else raw
    if level <= 0 or (mark - level) * position.sign <= 0:
        return None
    old = position.stop
    if old is not None and (level - old) * position.sign <= 0:
        return None
    return level
