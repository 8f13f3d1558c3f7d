"""How the trader left the scanner: sort, filters, side panel, view (``ScanView.select`` picks the rows it
shows); kept per exchange in the store's ``account_settings`` under ``scanner:<exchange>`` (like the
sizing pane's form). A stored value that no longer makes sense (an unknown sort key, a negative minimum)
falls back to the default, never fails."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perptui.config.settings import ScanSettings
    from perptui.domain.scanner import ScanRow
    from perptui.services.store import Store

VIEW_KEY = "view"


@dataclass(frozen=True, slots=True)
class ScanView:
    sort: str = "abs_apr"
    descending: bool = True
    text: str = ""
    min_volume_usd: float = 0.0
    min_apr: float = 0.0  # a fraction: 0.1 = 10% a year
    detail: bool = True  # the side panel is shown
    cross: bool = False  # the cross-exchange view instead of the perps

    @classmethod
    def defaults(cls, scan: ScanSettings) -> ScanView:
        return cls(min_volume_usd=scan.min_volume_usd, min_apr=scan.min_apr_pct / 100)

    def sorted_by(self, key: str) -> ScanView:
        """Sort by ``key``; the same key again flips the direction."""
        from perptui.domain.scanner import ASCENDING_KEYS  # numpy: not on the path to the first frame

        if key == self.sort:
            return replace(self, descending=not self.descending)
        return replace(self, sort=key, descending=key not in ASCENDING_KEYS)

    def select(self, rows: Iterable[ScanRow]) -> list[ScanRow]:
        """The rows this view shows, filtered and in its order."""
        from perptui.domain.scanner import filter_rows, sort_rows

        shown = filter_rows(
            rows, min_volume=self.min_volume_usd or None, min_abs_apr=self.min_apr or None, text=self.text
        )
        return sort_rows(shown, self.sort, descending=self.descending)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, fallback: ScanView) -> ScanView:
        from perptui.domain.scanner import SORT_KEYS

        if not isinstance(data, dict):
            return fallback
        values: dict[str, Any] = {}
        for f in fields(cls):
            value, default = data.get(f.name), getattr(fallback, f.name)
            if type(value) is type(default) or (isinstance(default, float) and type(value) is int):
                values[f.name] = value
        view = replace(fallback, **values)
        if view.sort not in SORT_KEYS:
            view = replace(view, sort=fallback.sort, descending=fallback.descending)
        if view.min_volume_usd < 0 or view.min_apr < 0:
            view = replace(view, min_volume_usd=fallback.min_volume_usd, min_apr=fallback.min_apr)
        return view


def owner(exchange: str) -> str:
    return f"scanner:{exchange}"


def load(store: Store, exchange: str, fallback: ScanView) -> ScanView:
    return ScanView.from_dict(store.load_account_settings(owner(exchange)).get(VIEW_KEY), fallback)


def save(store: Store, exchange: str, view: ScanView, now_ms: int) -> None:
    store.set_account_setting(owner(exchange), VIEW_KEY, view.as_dict(), now_ms)
