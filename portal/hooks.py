"""Extension points: a lower app asks a question that an app built on it answers.

Imports point down (portal, then enterprises and experts, then campaigns), yet a need's page shows
the cases answering it and an expert's page the cases they carry. The lower app declares a Hook
and calls it; the app above registers its answer in its AppConfig.ready(). Unanswered, a hook
gives its default, so the lower app works on its own.
"""

from collections.abc import Callable
from typing import Any


class Hook:
    """One question with at most one answer, e.g. `need_page(user, need) -> dict`."""

    def __init__(self, name: str, default: Callable[..., Any]):
        self.name = name
        self.default = default
        self.answer: Callable[..., Any] | None = None

    def register(self, answer: Callable[..., Any]) -> Callable[..., Any]:
        """Use as a decorator in the answering app; a second registration replaces the first."""
        self.answer = answer
        return answer

    def __call__(self, *args, **kwargs) -> Any:
        return (self.answer or self.default)(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Hook {self.name}>"
