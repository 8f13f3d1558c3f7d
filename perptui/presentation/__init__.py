"""How perptui words its figures and reads the numbers people type, shared by the CLI and the panes so
both say (and accept) the same thing.

Pure: no Textual, no I/O, plain ``str`` out. ``numbers`` (money, prices at the tick, quantities at the
step, percents, ages), ``risk`` (the risk monitor), ``scan`` (the funding scanner), ``ticket`` (a sized
trade as text), ``parse`` (the one number reader of every field and flag; the kinds of number and their
limits are ``perptui.domain.quantities``).
"""
