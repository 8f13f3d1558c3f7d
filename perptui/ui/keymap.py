"""Binding ids and the user's ``[keymap]``: every Binding has an id, and the config file remaps by id.

``binding("deposit", "d", "Deposit", "...")`` builds a Binding whose id is the name used in the config
file (``deposit = "D,+"``). ``check_keymap`` turns an unknown id into a one-line ConfigError naming the
known ones, before the app starts; ``check_clashes`` refuses a key that would take another binding's only
key (Textual drops that binding silently: ``deposit = "w"`` would leave Withdraw without a key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding, BindingsMap

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


def _by_name(bindings: BindingsMap) -> dict[str, Binding]:
    return {b.id or b.action: b for key_bindings in bindings.key_to_bindings.values() for b in key_bindings}


def check_clashes(keymap: Mapping[str, str], classes: Iterable[type]) -> None:
    """ConfigError when applying ``keymap`` (already checked) to the bindings of one of ``classes`` would
    remove another binding altogether, as Textual does when a remapped key is already taken there."""
    for cls in classes:
        # Textual's own merge of a class's BINDINGS over its bases (what a node of that class gets).
        merge = getattr(cls, "_merge_bindings", None)
        if merge is None:
            continue
        merged: BindingsMap = merge()
        before = _by_name(merged)
        if not any(binding_id in keymap for binding_id in before):
            continue
        remapped = merged.copy()
        remapped.apply_keymap(dict(keymap))
        after = _by_name(remapped)
        for name, lost in before.items():
            if name in after:
                continue
            lost_keys = {k.strip() for k in lost.key.split(",")}
            taker = next(
                (i for i, keys in keymap.items() if i != name and lost_keys & set(keys.split(","))), None
            )
            taken = f'{taker} = "{keymap[taker]}" takes {lost.key!r} from' if taker else "it removes"
            example = (
                f' (e.g. {name} = "{lost.key.upper()}")' if len(lost.key) == 1 and lost.key.islower() else ""
            )
            raise ConfigError(
                f"[keymap]: {taken} {name} ({lost.description or lost.action}) in {cls.__name__}, which "
                f"would leave it without a key; choose another key, or remap {name} too{example}"
            )
