"""Errors the API answers with (RFC 9457 problem+json), as exceptions."""

from __future__ import annotations

import re

import requests


class SignalingError(Exception):
    """A non-2xx answer: ``status`` plus the problem's ``type`` (e.g. ``peer-offline``), title and fields."""

    def __init__(self, status: int, problem: dict):
        self.status = status
        self.problem = problem
        # "urn:...:problem:peer-offline" or ".../problems/peer-offline" -> "peer-offline"
        self.type: str = re.split(r"[:/]", str(problem.get("type", "about:blank")))[-1]
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", ""))
        super().__init__(f"{status} {self.type}: {self.detail or self.title}")

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (``Retry-After``), when it did."""
        value = self.problem.get("_retry_after")
        return float(value) if value is not None else None


class SessionEnded(SignalingError):
    """The session is over (left, timed out or ended by the server): register again."""


def raise_for_problem(response: requests.Response) -> None:
    """Raise :class:`SignalingError` (or :class:`SessionEnded` for 401) unless the answer is 2xx/304."""
    if response.status_code < 400:
        return
    try:
        problem = response.json()
        if not isinstance(problem, dict):
            problem = {"detail": str(problem)}
    except ValueError:
        problem = {"detail": response.text[:200]}
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.isdigit():
        problem["_retry_after"] = retry_after
    kind = SessionEnded if response.status_code == 401 else SignalingError
    raise kind(response.status_code, problem)
