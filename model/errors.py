"""The one base class of bad-input errors: ``str(err)`` is the one line shown to the user (exit code 2)."""


class InputError(ValueError):
    """Bad input (a scenario file, an override, an output folder, a flag): one line, exit code 2."""
