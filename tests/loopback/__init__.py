"""A loopback exchange speaking Binance USDⓈ-M futures REST, for testing real ccxt without a network."""

from tests.loopback.faults import Fault, FaultPlan
from tests.loopback.server import LoopbackAccount, LoopbackExchange, RecordedRequest

__all__ = ["Fault", "FaultPlan", "LoopbackAccount", "LoopbackExchange", "RecordedRequest"]
