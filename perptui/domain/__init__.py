"""Pure domain layer: value types and money maths. No Textual, no I/O, no network."""
