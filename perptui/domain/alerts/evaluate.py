"""Each rule's conditions in one observation: which keys hold now, which do not, which are unknown. Pure.

A condition's key is ``"<rule id>:<symbol or *>"``: one per position, perp or carry a rule watches, or
``*`` for the account and the data. A value that is unknown (None) gives no condition at all, so the
state machine neither fires nor clears it. Fills are one-shot events: one active condition per fill.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from perptui.domain.alerts.observe import Observation
from perptui.domain.alerts.rules import AlertRule


@dataclass(frozen=True, slots=True)
class Condition:
    """Whether a rule's condition holds for one key now; ``message`` says so in one line with the
    figure (it becomes the notification's title); ``value`` is that figure."""

    key: str
    active: bool
    message: str
    value: float | None
    symbol: str | None = None


def condition_key(rule_id: str, symbol: str | None) -> str:
    return f"{rule_id}:{symbol or '*'}"


def rule_id_of(key: str) -> str:
    """The rule of a key (rule ids hold no ``:``; symbols may)."""
    return key.partition(":")[0]


def symbol_of(key: str) -> str | None:
    rest = key.partition(":")[2]
    return None if rest == "*" else rest


def symbol_matches(wanted: str | None, symbol: str) -> bool:
    """Whether a rule's market (None or ``*``: every one) names ``symbol``: the same name in any case,
    its base (``BTC`` for ``BTC/USDT:USDT``) or base and quote run together (``BTCUSDT``)."""
    if wanted is None or wanted.strip() == "*":
        return True
    want = wanted.strip().upper()
    name = symbol.upper()
    base, _, rest = name.partition("/")
    quote = rest.partition(":")[0]
    return want in (name, base, base + quote, f"{base}/{quote}")


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _pct(value: float) -> str:
    return f"{value:.2f}%" if abs(value) < 10 else f"{value:.1f}%"


def _price(value: float) -> str:
    return f"{value:,.2f}" if value >= 100 else f"{value:.6g}"


def conditions(rule: AlertRule, obs: Observation) -> list[Condition]:
    """The conditions of ``rule`` in ``obs`` (its threshold and market applied; its mute and quiet hours
    are the state machine's business)."""
    return list(_conditions(rule, obs))


def _conditions(rule: AlertRule, obs: Observation) -> Iterator[Condition]:
    kind, t = rule.kind, rule.threshold

    def cond(symbol: str | None, active: bool, message: str, value: float | None) -> Condition:
        return Condition(condition_key(rule.id, symbol), active, message, value, symbol)

    positions = [p for p in obs.positions if symbol_matches(rule.symbol, p.symbol)]
    if kind == "liq_distance_pct" and t is not None:
        for p in positions:
            if _known(p.liq_distance_pct):
                d = p.liq_distance_pct or 0.0
                yield cond(p.symbol, d < t, f"{p.symbol} {p.side} {_pct(d)} from liquidation", d)
    elif kind == "liq_distance_sigma" and t is not None:
        for p in positions:
            if _known(p.liq_distance_sigma):
                s = p.liq_distance_sigma or 0.0
                yield cond(p.symbol, s < t, f"{p.symbol} {p.side} {s:.2f} daily sigmas from liquidation", s)
    elif kind == "margin_ratio" and t is not None:
        for p in positions:
            if _known(p.margin_ratio):
                pct = (p.margin_ratio or 0.0) * 100
                shown = ">1000%" if pct > 1000 else _pct(pct)
                yield cond(p.symbol, pct > t, f"{p.symbol} {p.side} margin ratio {shown}", pct)
    elif kind == "no_stop":
        for p in positions:
            if p.has_stop is not None:
                text = f"{p.symbol} {p.side} has {'a stop' if p.has_stop else 'no stop-loss'}"
                yield cond(p.symbol, not p.has_stop, text, None)
    elif kind in ("stop_filled", "take_profit_filled"):
        wanted = "stop" if kind == "stop_filled" else "take_profit"
        what = "stop-loss" if wanted == "stop" else "take-profit"
        for fill in obs.fills:
            if fill.kind == wanted and symbol_matches(rule.symbol, fill.symbol):
                text = f"{fill.symbol} {what} filled: {fill.qty:g} at {_price(fill.price)}"
                yield cond(fill.symbol, True, text, fill.price)
    elif kind in ("price_above", "price_below") and t is not None:
        marks: dict[str, float] = {}
        for symbol, mark in [(q.symbol, q.mark) for q in obs.prices] + [
            (p.symbol, p.mark) for p in positions
        ]:
            if symbol_matches(rule.symbol, symbol) and _known(mark) and symbol not in marks:
                marks[symbol] = mark or 0.0
        for symbol, mark in marks.items():
            active = mark > t if kind == "price_above" else mark < t
            word = "above" if mark > t else "below" if mark < t else "at"
            yield cond(symbol, active, f"{symbol} at {_price(mark)}, {word} {_price(t)}", mark)
    elif kind == "daily_loss_pct" and t is not None:
        if _known(obs.daily_loss_pct):
            loss = obs.daily_loss_pct or 0.0
            yield cond(None, loss > t, f"loss today {_pct(loss)} of equity", loss)
    elif kind == "drawdown_pct" and t is not None:
        if _known(obs.drawdown_pct):
            dd = obs.drawdown_pct or 0.0
            yield cond(None, dd > t, f"drawdown {_pct(dd)} from the peak", dd)
    elif kind == "breaker":
        if obs.breaker_tripped is not None:
            text = (
                "circuit breaker tripped: new orders refused"
                if obs.breaker_tripped
                else "circuit breaker reset"
            )
            yield cond(None, obs.breaker_tripped, text, None)
    elif kind == "funding_flip":
        for f in obs.funding:
            if symbol_matches(rule.symbol, f.symbol) and _known(f.rate) and _known(f.previous_rate):
                rate, previous = f.rate or 0.0, f.previous_rate or 0.0
                text = f"{f.symbol} funding flipped: {previous * 100:+.4f}% -> {rate * 100:+.4f}%"
                yield cond(f.symbol, rate * previous < 0, text, rate)
    elif kind == "funding_z" and t is not None:
        for f in obs.funding:
            if symbol_matches(rule.symbol, f.symbol) and _known(f.z):
                z = f.z or 0.0
                yield cond(f.symbol, abs(z) > t, f"{f.symbol} funding z-score {z:+.2f}", z)
    elif kind == "funding_apr" and t is not None:
        for f in obs.funding:
            if symbol_matches(rule.symbol, f.symbol) and _known(f.apr_pct):
                apr = f.apr_pct or 0.0
                yield cond(f.symbol, abs(apr) > t, f"{f.symbol} funding {apr:+.1f}% APR", apr)
    elif kind == "carry_predicted_against":
        for c in obs.carries:
            if symbol_matches(rule.symbol, c.symbol) and _known(c.predicted_rate):
                rate = c.predicted_rate or 0.0
                against = rate < 0 if c.perp_side == "short" else rate > 0
                word = "against" if against else "for"
                side = f"{word} the {c.perp_side} perp"
                text = f"{c.symbol} carry: next funding predicted {rate * 100:+.4f}% ({side})"
                yield cond(c.symbol, against, text, rate)
    elif kind == "carry_below_breakeven":
        for c in obs.carries:
            if (
                symbol_matches(rule.symbol, c.symbol)
                and _known(c.net_apr_pct)
                and _known(c.breakeven_apr_pct)
            ):
                net, even = c.net_apr_pct or 0.0, c.breakeven_apr_pct or 0.0
                text = f"{c.symbol} carry nets {net:+.1f}% APR, break-even {even:+.1f}%"
                yield cond(c.symbol, net < even, text, net)
    elif kind == "stale_data_min" and t is not None:
        if obs.data_age_ms is not None:
            minutes = obs.data_age_ms / 60_000
            yield cond(None, minutes > t, f"market data {minutes:.0f} min old", minutes)
    elif kind == "unreachable":
        text = "exchange reachable again" if obs.reachable else "exchange unreachable"
        yield cond(None, not obs.reachable, text, None)
