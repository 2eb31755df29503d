"""The way from one place to another: the cheapest path over the venue's connections."""

from __future__ import annotations

import heapq

from venue.data import Link, Venue


def route(venue: Venue, start: str, goal: str) -> list[Link] | None:
    """Return the links to follow from `start` to `goal` (none when there), None if unreachable."""
    best = {start: 0}
    queue: list[tuple[int, int, str, list[Link]]] = [(0, 0, start, [])]
    tie_breaker = 0
    while queue:
        cost, _, place, path = heapq.heappop(queue)
        if place == goal:
            return path
        if cost > best.get(place, cost):
            continue
        for link in venue.links.get(place, ()):
            if cost + link.cost < best.get(link.to, cost + link.cost + 1):
                best[link.to] = cost + link.cost
                tie_breaker += 1
                heapq.heappush(queue, (cost + link.cost, tie_breaker, link.to, [*path, link]))
    return None


def steps(venue: Venue, start: str, goal: str) -> list[str]:
    """Return the route as plain instructions; an empty list when already there or no way."""
    return [link.instruction for link in route(venue, start, goal) or []]


def unreachable(venue: Venue) -> list[str]:
    """Return the places guests cannot reach from the information desk."""
    return [
        place_id
        for place_id in venue.places
        if route(venue, venue.information_desk, place_id) is None
    ]


def nearest_staffed(venue: Venue, start: str) -> str:
    """Return the staffed desk closest to `start` (the information desk if none is reachable)."""
    lengths = {
        place_id: sum(link.cost for link in path)
        for place_id, place in venue.places.items()
        if place.staffed and (path := route(venue, start, place_id)) is not None
    }
    return min(lengths, key=lambda place_id: lengths[place_id], default=venue.information_desk)
