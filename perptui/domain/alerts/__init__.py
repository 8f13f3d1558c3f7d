"""Alert rules: what to watch, when a condition starts and clears, and the notifications it gives. Pure.

``rules`` (the rule types and the defaults), ``observe`` (one observation of the account, the funding
and the data), ``evaluate`` (each rule's conditions in an observation), ``state`` (fire once when a
condition starts, once when it clears; cool-downs, quiet hours, mutes) and ``notification`` (what is
sent, shared with the delivery in ``services.alerts``).
"""
