"""Full screens pushed over the panes."""
