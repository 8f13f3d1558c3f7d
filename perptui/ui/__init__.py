"""The Textual app. Build it with :func:`perptui.ui.factory.build_app`; nothing here is imported by the
domain or services layers, and importing this package itself imports nothing heavy."""
