"""Alerts beyond the screen: the rules' storage and state (``store``), delivery (``notify``) and the loop
that evaluates the rules and sends what they fire (``engine``)."""
