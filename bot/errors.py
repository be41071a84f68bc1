"""Start-up failures said to the operator in one line."""


class StartupError(Exception):
    """A start-up problem an operator must fix, said in one line (never with a secret)."""
