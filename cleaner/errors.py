"""The library's own exceptions; the CLI turns them into one-line messages."""


class CleanerError(Exception):
    """Base class for every error the library raises on purpose."""


class InputError(CleanerError):
    """One input file cannot be processed; the run goes on without it."""


class RuleError(CleanerError):
    """A rule file is invalid: bad field, bad pattern, or a failing example."""


class UsageError(CleanerError):
    """The arguments or settings cannot work (for example OUT inside RAW)."""
