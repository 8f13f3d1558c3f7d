"""How perptui words its figures, shared by the CLI and the panes so both say the same thing.

Pure: no Textual, no I/O, plain ``str`` out. ``numbers`` (money, prices at the tick, quantities at the
step, percents, ages), ``risk`` (the risk monitor), ``scan`` (the funding scanner), ``ticket`` (a sized
trade as text).
"""
