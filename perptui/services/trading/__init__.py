"""Live orders on a real exchange: the gate that decides whether any can be sent (``gate``), how each
exchange takes them through ccxt (``routes``), the trader that places a ticket never twice and never
without its stop (``trader``), what is open on the account (``book``) and the order log (``log``).

Nothing here is reachable unless ``[trading] live = true``, API keys and ``account = "exchange"`` are
set: ``gate.require_live`` is the only way to a ``LiveTrader``.
"""
