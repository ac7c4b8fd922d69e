"""The one exception type the CLI turns into a clean one-line message (exit code 2)."""


class UserError(Exception):
    """Bad input from the user: a missing file, an unknown config key, a wrong value.

    The message must say what is wrong and where (file, line/row/key) and, when it helps,
    what was expected. The CLI prints it on one line and exits with code 2, no traceback.
    """
