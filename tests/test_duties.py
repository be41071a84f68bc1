"""Duties done once for the fleet, on both engines."""

from __future__ import annotations

import asyncio

from services.duties import Duties


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_duty_goes_to_one_of_many_replicas_asking_at_once(db):
    replicas = [Duties(db) for _ in range(8)]
    won = await asyncio.gather(*(r.once("reconcile", 120) for r in replicas))
    assert sum(won) == 1
    holder = await replicas[0].holder("reconcile")
    assert holder is not None and holder[0] == replicas[won.index(True)].owner


async def test_a_duty_is_free_again_when_its_period_ends_not_before(db):
    clock = Clock()
    a, b = Duties(db, clock=clock), Duties(db, clock=clock)
    assert await a.once("probe", 300)
    clock.now += 299
    assert not await a.once("probe", 300)  # not even for the one that holds it
    assert not await b.once("probe", 300)
    clock.now += 1
    assert await b.once("probe", 300)
    assert await a.once("catalog-check", 300)  # each duty on its own
