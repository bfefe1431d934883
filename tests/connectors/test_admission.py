"""The turn gate of a Rasa server (connectors/admission.py): few turns at once, in arrival order, one at
a time per person, and a person's burst never holds the others back."""

from __future__ import annotations

import asyncio

from connectors.admission import DEFAULT_LIMIT, TurnGate, limit_from_environment


def run(coroutine):
    return asyncio.run(coroutine)


async def _turns(gate: TurnGate, senders: list[str], work: float = 0.01) -> list[tuple[str, str, int]]:
    """Every message arrives at once, in this order; the log says when each starts and ends."""
    log: list[tuple[str, str, int]] = []

    async def one(index: int, sender: str) -> None:
        async with gate.turn(sender):
            log.append(("start", sender, index))
            await asyncio.sleep(work)
            log.append(("end", sender, index))

    await asyncio.gather(*(one(index, sender) for index, sender in enumerate(senders)))
    return log


def test_no_more_than_the_limit_run_at_once_and_they_start_in_arrival_order():
    gate = TurnGate(limit=3)
    log = run(_turns(gate, [f"personne-{i}" for i in range(20)]))
    assert gate.peak == 3 and gate.running == 0
    starts = [index for kind, _, index in log if kind == "start"]
    assert starts == list(range(20))  # first come, first served
    running = 0
    for kind, _, _ in log:
        running += 1 if kind == "start" else -1
        assert running <= 3


def test_one_persons_messages_run_one_at_a_time_in_order():
    gate = TurnGate(limit=4)
    log = run(_turns(gate, ["sms-1"] * 5))
    assert [(kind, index) for kind, _, index in log] == [
        (kind, index) for index in range(5) for kind in ("start", "end")]
    assert gate.peak == 1


def test_a_burst_from_one_person_does_not_hold_back_the_others():
    """Five messages of one person then one of someone else, two places: the other person's turn runs
    beside the burst's first message, instead of waiting behind the whole burst."""
    gate = TurnGate(limit=2)
    log = run(_turns(gate, ["rafale"] * 5 + ["autre"]))
    assert log.index(("start", "autre", 5)) < log.index(("end", "rafale", 0))


def test_people_are_forgotten_once_their_turns_are_over():
    gate = TurnGate(limit=2)
    run(_turns(gate, ["a", "b", "a", "c"]))
    assert gate._people == {} and gate._waiting == {}


def test_a_turn_that_fails_gives_its_place_back():
    gate = TurnGate(limit=1)

    async def scenario():
        try:
            async with gate.turn("a"):
                raise RuntimeError("Rasa a échoué")
        except RuntimeError:
            pass
        return await asyncio.wait_for(_turns(gate, ["b"]), timeout=5)

    assert [kind for kind, _, _ in run(scenario())] == ["start", "end"]


def test_the_gate_works_again_in_a_new_event_loop():
    gate = TurnGate(limit=2)
    run(_turns(gate, ["a", "b", "c"]))
    log = run(_turns(gate, ["a", "b", "c"]))
    assert len(log) == 6 and gate.peak == 2


def test_the_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("AIGUILLAGE_CONCURRENT_TURNS", "7")
    assert limit_from_environment() == 7 and TurnGate().limit == 7
    monkeypatch.setenv("AIGUILLAGE_CONCURRENT_TURNS", "beaucoup")
    assert limit_from_environment() == DEFAULT_LIMIT
    monkeypatch.setenv("AIGUILLAGE_CONCURRENT_TURNS", "0")
    assert limit_from_environment() == 1
