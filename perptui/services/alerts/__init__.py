"""Alerts away from the screen: the rules' storage and state (``store``), delivery (``notify``) and the
loop that evaluates the rules and sends what they fire (``engine``).

``notify`` sends a :class:`~perptui.domain.alerts.notification.Notification` to every target of its
severity through Apprise (ntfy, Telegram, Discord, Slack, email, Pushover, Matrix, JSON webhooks ...,
each by URL), concurrently, each target with its own timeout and retries; target URLs are secrets and
are masked wherever they are shown. Importing this package imports no Apprise: it loads when the first
target is parsed, never on the path to the app's first frame.
"""
