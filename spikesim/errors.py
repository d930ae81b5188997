"""Errors that the CLI turns into a message and an exit code (SPEC section 1)."""


class SpikesimError(Exception):
    """Base class: a message for the user, no traceback."""

    exit_code = 1


class UsageError(SpikesimError):
    """Bad usage or invalid config: exit 2, nothing written."""

    exit_code = 2


class ConfigError(UsageError):
    """One or more problems in a config. ``problems`` holds one line each."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class RunError(SpikesimError):
    """The run failed after it started (blow-up, I/O, interruption): exit 1, partial kept."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
