"""Configuration: the settings model, where files live, and loading with clear errors."""
