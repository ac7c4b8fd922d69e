"""The one exception type the CLI turns into a clean one-line message (exit code 2)."""


class UserError(Exception):
    """Bad input from the user: a missing file, an unknown config key, a wrong value.

    The message must say what is wrong and where (file, line/row/key) and, when it helps,
    what was expected. The CLI prints it on one line and exits with code 2, no traceback.
    """


class TrainingDiverged(UserError):
    """The model's numbers left the finite range while training (NaN or infinity): the run
    stops with this message, and what it still holds (its last good checkpoint) is added."""


_WORKER = "in DataLoader worker process"


def user_message(err: UserError) -> str:
    """What `err` says. A `UserError` raised in a DataLoader worker reaches the training
    process re-made by torch with the worker's traceback as its message; the user's line is
    the last line of that traceback."""
    said = str(err)
    if not said.startswith("Caught ") or _WORKER not in said.split("\n", 1)[0]:
        return said
    last = said.rstrip().rsplit("\n", 1)[-1]
    return last.partition(": ")[2] or last
