"""The alert rules screen and the rule form (also opened from the scanner: "alert me when ...")."""

from perptui.ui.screens.alerts.form import RuleForm
from perptui.ui.screens.alerts.screen import AlertsScreen

__all__ = ["AlertsScreen", "RuleForm"]
