"""Domain errors: raised by services, turned into flashes, CLI messages or 4xx answers at the edges."""


class DomainError(Exception):
    """A request that the rules refuse; the message is safe to show to the user."""


class NotFound(DomainError):
    pass


class ValidationFailed(DomainError):
    """One or more problems, each naming where it is (file, line, field)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
