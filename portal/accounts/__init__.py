"""People: login, logout, "my account", and the User model."""
