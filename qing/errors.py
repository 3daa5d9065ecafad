"""The one exception type a user can cause, and how it is shown."""


class QingError(Exception):
    """A problem the user can fix: the message is one sentence saying what and what to do.

    The CLI prints it without a traceback and exits with `exit_code`.
    Messages must never contain a secret (database key, API key) or chat text.
    """

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code
