"""Live orders, pure: the orders a sized ticket becomes on the exchange, their client order ids, and what
the exchange's answers say about a position's protection. No I/O: ``services.trading`` sends them."""
