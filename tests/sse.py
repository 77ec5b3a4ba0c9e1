"""A minimal EventSource-style client over plain HTTP streaming (httpx), as a browser would parse it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx


@dataclass
class Event:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    @property
    def document(self) -> dict:
        return json.loads(self.data)


def events(response: httpx.Response) -> Iterator[Event]:
    """Yields each dispatched event; comment lines (heartbeats) are attached to the next event or
    yielded alone as an Event with event="comment" so callers can see them."""
    current = Event()
    data_lines: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data_lines:
                current.data = "\n".join(data_lines)
                yield current
            current, data_lines = Event(), []
            continue
        if line.startswith(":"):
            yield Event(event="comment", data=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            current.event = value
        elif name == "id":
            current.id = value
        elif name == "data":
            data_lines.append(value)
