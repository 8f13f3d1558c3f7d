"""Binding ids and the user's ``[keymap]``: every Binding has an id, and the config file remaps by id.

``binding("deposit", "d", "Deposit", "...")`` builds a Binding whose id is the name used in the config
file (``deposit = "D,+"``). ``check_keymap`` turns an unknown id into a one-line ConfigError naming the
known ones, before the app starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

from perptui.domain.errors import ConfigError


def binding(
    id: str,
    keys: str,
    action: str,
    description: str,
    tooltip: str,
    *,
    show: bool = True,
    priority: bool = False,
) -> Binding:
    """A Binding whose ``id`` is its name in the config file's ``[keymap]``."""
    return Binding(keys, action, description, show=show, priority=priority, id=id, tooltip=tooltip)


def binding_ids(classes: Iterable[type]) -> dict[str, str]:
    """id -> default keys, over the BINDINGS of ``classes`` (and their bases)."""
    ids: dict[str, str] = {}
    for cls in classes:
        for klass in cls.__mro__:
            for b in getattr(klass, "BINDINGS", ()):
                if isinstance(b, Binding) and b.id:
                    ids.setdefault(b.id, b.key)
    return ids


def check_keymap(keymap: Mapping[str, str], known: Mapping[str, str]) -> dict[str, str]:
    """The keymap with keys stripped; ConfigError for an unknown id or an empty key list."""
    clean: dict[str, str] = {}
    for binding_id, keys in keymap.items():
        if binding_id not in known:
            names = ", ".join(sorted(known))
            raise ConfigError(f"[keymap]: unknown key binding id {binding_id!r}; known ids: {names}")
        parts = [k.strip() for k in str(keys).split(",") if k.strip()]
        if not parts:
            raise ConfigError(f'[keymap]: {binding_id} = {keys!r} names no key; use e.g. {binding_id} = "x"')
        clean[binding_id] = ",".join(parts)
    return clean
