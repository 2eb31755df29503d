"""The log listener: every line named after its program, failures said loudly."""

from __future__ import annotations

from supervision.logs import Terminal


def log(name: str, data: str) -> tuple[str, str]:
    return "PROCESS_LOG_STDOUT", f"processname:{name} groupname:{name} pid:7 channel:stdout\n{data}"


def state(name: str, to: str, **headers: str) -> tuple[str, str]:
    fields = " ".join(f"{key}:{value}" for key, value in headers.items())
    return f"PROCESS_STATE_{to}", f"processname:{name} groupname:{name} {fields}".strip()


def test_each_line_carries_its_programs_name_even_when_it_arrives_in_pieces():
    terminal = Terminal()

    assert terminal.lines(*log("rasa", "Starting Rasa server\nLoading mo")) == [
        "rasa    | Starting Rasa server"
    ]
    assert terminal.lines(*log("actions", "Registered 12 actions\n")) == [
        "actions | Registered 12 actions"
    ]
    assert terminal.lines(*log("rasa", "del\n")) == ["rasa    | Loading model"]


def test_an_unexpected_exit_is_said_loudly_and_so_is_the_return():
    terminal = Terminal()
    terminal.lines(*log("actions", "Traceback: out of memory"))

    said = terminal.lines(*state("actions", "EXITED", from_state="RUNNING", expected="0", pid="42"))
    # The last words first, even without a newline, then the alarm.
    assert said[0] == "actions | Traceback: out of memory"
    assert said[1].startswith("!!! actions exited unexpectedly (pid 42)")

    assert terminal.lines(*state("actions", "RUNNING", from_state="STARTING", pid="43")) == [
        "=== actions runs again (pid 43)."
    ]


def test_a_planned_stop_and_a_first_start_are_not_alarms():
    terminal = Terminal()
    started = state("rasa", "RUNNING", from_state="STARTING", pid="5")
    expected_exit = state("rasa", "EXITED", from_state="RUNNING", expected="1", pid="5")
    assert terminal.lines(*started) == []
    assert terminal.lines(*expected_exit) == []


def test_failing_to_start_is_said_and_so_is_giving_up():
    terminal = Terminal()
    backoff = terminal.lines(*state("handoff", "BACKOFF", from_state="STARTING", tries="2"))
    fatal = terminal.lines(*state("handoff", "FATAL", from_state="BACKOFF"))

    assert backoff[0].startswith("!!! handoff stopped while starting (attempt 2)")
    assert fatal[0].startswith("!!! handoff failed to start too many times")
