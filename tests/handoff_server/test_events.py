"""The agents' event stream: live events, ids, and resuming from Last-Event-ID."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from handoff_server.event_log import EventFeed


def read_events(response, count, timeout_s=3.0):
    """Read `count` events from a streaming response, giving up after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    received, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "data" in fields:
                received.append(
                    {
                        "id": int(fields["id"]),
                        "event": fields["event"],
                        "data": json.loads(fields["data"]),
                    }
                )
        if len(received) >= count or time.monotonic() > deadline:
            break
    response.close()
    return received


def test_stream_sends_what_happens_after_connecting(client, hand_off, agent_headers):
    hand_off("before")
    response = client.get("/api/stream", headers=agent_headers("alice"))
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"

    hand_off("after")
    events = read_events(response, 1)

    assert [(e["event"], e["data"]["sender_id"]) for e in events] == [("conversation", "after")]


def test_stream_resumes_after_last_event_id_without_loss_or_repeat(
    client, hand_off, agent_headers, service
):
    alice = agent_headers("alice")
    first = hand_off("conv-1")
    seen = read_events(client.get("/api/stream?last_event_id=0", headers=alice), 1)
    last_seen = seen[0]["id"]
    client.post(f"/api/conversations/{first['id']}/claim", headers=alice)
    client.post(
        f"/api/conversations/{first['id']}/customer-messages", json={"text": "hi"}, headers=service
    )

    resumed = read_events(
        client.get("/api/stream", headers={**alice, "Last-Event-ID": str(last_seen)}), 3
    )

    assert [e["id"] for e in resumed] == [last_seen + 1, last_seen + 2, last_seen + 3]
    assert [e["event"] for e in resumed] == ["message", "conversation", "message"]
    assert resumed[0]["data"]["text"] == "Alice Archer joined."
    assert resumed[1]["data"]["state"] == "assigned"
    assert (resumed[2]["data"]["seq"], resumed[2]["data"]["text"]) == (4, "hi")


def test_events_survive_a_restart(client, hand_off, agent_headers, another_app):
    hand_off("conv-1")
    hand_off("conv-2")
    restarted = another_app()

    response = restarted.test_client().get(
        "/api/stream", headers={**agent_headers("bob"), "Last-Event-ID": "0"}
    )
    replayed = read_events(response, 2)

    assert [e["data"]["sender_id"] for e in replayed] == ["conv-1", "conv-2"]
    restarted.extensions["handoff"].db.engine.dispose()


def test_stream_takes_the_token_from_the_query_string(client, agent_headers, hand_off):
    token = agent_headers("alice")["Authorization"].removeprefix("Bearer ")
    hand_off("conv-1")

    response = client.get(f"/api/stream?token={token}&last_event_id=0")

    assert response.status_code == 200
    assert read_events(response, 1)[0]["data"]["sender_id"] == "conv-1"


def test_stream_refuses_missing_tokens_and_bad_ids(client, agent_headers):
    no_token = client.get("/api/stream")
    bad_id = client.get("/api/stream", headers={**agent_headers("alice"), "Last-Event-ID": "abc"})

    assert no_token.status_code == 401
    assert bad_id.status_code == 400
    assert bad_id.json["error"] == "bad_request"


def test_idle_stream_sends_keepalives(client, agent_headers):
    response = client.get("/api/stream", headers=agent_headers("alice"))
    chunks = iter(response.response)

    first, second = next(chunks), next(chunks)
    response.close()

    assert first == b"retry: 3000\n\n"
    assert second == b": keepalive\n\n"


def test_stream_ends_when_the_token_expires(agent_headers, another_app):
    short_lived = another_app(AGENT_TOKEN_TTL_S="2")
    response = short_lived.test_client().get("/api/stream", headers=agent_headers("alice"))
    started = time.monotonic()

    chunks = []
    for chunk in response.response:
        chunks.append(chunk)
        assert time.monotonic() - started < 5, "the stream outlived its token"
    response.close()
    short_lived.extensions["handoff"].db.engine.dispose()

    assert chunks[0] == b"retry: 3000\n\n"
    assert set(chunks[1:]) == {b": keepalive\n\n"}


def _count_event_reads(engine, reads):
    def count(conn, cursor, statement, *args):
        if "FROM events" in statement:
            reads.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    return count


def test_one_change_reaches_many_streams_for_one_query(hand_off, services):
    feed = EventFeed(services.db)
    hand_off("conv-1")
    caught_up = [feed.after(0) for _ in range(3)]
    reads: list[str] = []
    listener = _count_event_reads(services.db.engine, reads)
    try:
        hand_off("conv-2")
        woken = [feed.after(caught_up[0][0][-1][0]) for _ in range(100)]
    finally:
        sa.event.remove(services.db.engine, "before_cursor_execute", listener)

    assert len(reads) == 1
    assert {len(batch) for batch, _ in woken} == {1}
    event_id, rendered = woken[0][0][0]
    assert rendered.startswith(f"id: {event_id}\nevent: conversation\ndata: ")
    assert '"sender_id":"conv-2"' in rendered


def test_a_resume_from_before_what_memory_holds_reads_the_database(hand_off, services):
    feed = EventFeed(services.db, size=2)
    for number in range(4):
        hand_off(f"conv-{number}")

    old, old_complete = feed.after(0)
    recent, recent_complete = feed.after(2)

    assert [event_id for event_id, _ in old] == [1, 2, 3, 4]
    assert [event_id for event_id, _ in recent] == [3, 4]
    assert old_complete and recent_complete

    hand_off("conv-4")
    assert [event_id for event_id, _ in feed.after(4)[0]] == [5]
    # Memory now holds 4 and 5 only: 2 is served from the database again, without a gap.
    assert [event_id for event_id, _ in feed.after(2)[0]] == [3, 4, 5]


def test_a_stream_sees_events_another_process_wrote(client, agent_headers, service, another_app):
    other = another_app()
    response = client.get("/api/stream", headers=agent_headers("alice"))

    other.test_client().post(
        "/api/handoffs",
        json={"sender_id": "elsewhere", "channel": "web", "reason": "customer_request"},
        headers=service,
    )
    events = read_events(response, 1)
    other.extensions["handoff"].db.engine.dispose()

    assert [e["data"]["sender_id"] for e in events] == ["elsewhere"]


def test_an_agent_writing_a_reply_shows_on_the_other_consoles(client, hand_off, agent_headers):
    conversation = hand_off("conv-typing")
    path = f"/api/conversations/{conversation['id']}"
    alice, sue = agent_headers("alice"), agent_headers("sue")
    # Nobody writes in a conversation that is not theirs yet.
    assert client.post(f"{path}/typing", headers=alice).status_code == 409
    client.post(f"{path}/claim", headers=alice)
    stream = client.get("/api/stream", headers=sue)

    assert client.post(f"{path}/typing", headers=alice).status_code == 200
    (event,) = read_events(stream, 1)

    assert event["event"] == "typing"
    assert event["data"]["conversation"] == conversation["id"]
    assert event["data"]["agent"] == {"username": "alice", "name": "Alice Archer"}


def test_only_who_may_reply_shows_as_typing(client, hand_off, agent_headers):
    conversation = hand_off("conv-typing")
    path = f"/api/conversations/{conversation['id']}"
    alice, bob, sue = agent_headers("alice"), agent_headers("bob"), agent_headers("sue")
    client.post(f"{path}/claim", headers=alice)
    stream = client.get("/api/stream", headers=sue)

    # Bob may read Alice's conversation and note in it, but "Bob is typing" would be untrue.
    refused = client.post(f"{path}/typing", headers=bob)
    assert client.post(f"{path}/typing", headers=alice).status_code == 200
    (event,) = read_events(stream, 1)

    assert refused.status_code == 403
    assert "assigned to alice" in refused.json["message"]
    assert event["data"]["agent"]["username"] == "alice"
