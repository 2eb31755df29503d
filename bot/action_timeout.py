"""Give up on a call to the action server after the `timeout` of bot/endpoints.yml.

Rasa 3.6 waits five minutes for every custom action (DEFAULT_REQUEST_TIMEOUT) and has no
setting for it: a hung action server held each customer's turn, and the conversation's
lock, for minutes, and the failsafe (bot/failsafe.py) could not step in before. Rasa keeps
an endpoint's unknown keys, such as `timeout`, in EndpointConfig.kwargs; once the agent is
loaded, `time_action_calls` gives it an endpoint that applies that timeout to each request.

Rasa logs a failed call and ends the turn without a word, whether the action server is down
or only late; the endpoint remembers whose call failed, so the failsafe can tell the two apart.

Rasa also opens a new HTTP session, and with it a new connection, for every call: the timed
endpoint keeps one session per event loop, whose connections serve call after call.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from sanic import Sanic

# How long an idle connection to the action server is kept for the next call. Well inside
# the time the other side keeps it (rasa-sdk 120 s, nginx 75 s in the scaled stack): a call
# never goes out on a connection that the server is closing at that moment.
KEPT_CONNECTION_S = 15.0


class KeptSession:
    """`async with` over a session that outlives the block: Rasa closes the session it opens
    for each request, and this one serves the next request too."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


class TimedEndpointConfig(EndpointConfig):
    """An endpoint whose every request gives up after its `timeout` setting, in seconds."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failed: set[str] = set()  # senders whose latest action call failed
        # The kept session, and the event loop it belongs to.
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> TimedEndpointConfig:
        """Return the same endpoint, timed; fail at startup if it has no `timeout`."""
        if "timeout" not in endpoint.kwargs:
            raise ValueError(f"action_endpoint {endpoint.url}: set a `timeout` in seconds")
        return cls(
            endpoint.url,
            endpoint.params,
            endpoint.headers,
            endpoint.basic_auth,
            endpoint.token,
            endpoint.token_name,
            endpoint.cafile,
            **endpoint.kwargs,
        )

    @property
    def timeout_s(self) -> float:
        return float(self.kwargs["timeout"])

    def session(self) -> KeptSession:  # type: ignore[override]
        """The session with the action server, opened on first use (again in a new loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session_loop = loop
            auth = self.basic_auth
            self._session = aiohttp.ClientSession(
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEPT_CONNECTION_S),
                # As with a session per call: nothing one call was given goes with the next.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return KeptSession(self._session)

    async def close(self) -> None:
        """Close the session and its kept connections (when the server stops)."""
        if self._session is not None and self._session_loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        """Send the request as Rasa does, with this endpoint's timeout instead of Rasa's."""
        kwargs["timeout"] = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            return await super().request(*args, **kwargs)
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            if not isinstance(error, ClientResponseError) or error.status >= 500:
                # Not a 4xx: that is rasa-sdk rejecting the action, which Rasa handles itself.
                self._failed.add(str((kwargs.get("json") or {}).get("sender_id")))
            raise

    def forget_failure(self, sender_id: str) -> bool:
        """Tell whether an action call of `sender_id` failed since the last asking."""
        try:
            self._failed.remove(sender_id)
        except KeyError:
            return False
        return True


async def time_action_calls(app: Sanic, *_: Any) -> None:
    """Give the loaded agent, and its processor, the timed action endpoint (a Sanic listener)."""
    agent = app.ctx.agent
    if agent.action_endpoint is None or isinstance(agent.action_endpoint, TimedEndpointConfig):
        return
    agent.action_endpoint = TimedEndpointConfig.of(agent.action_endpoint)
    if agent.processor is not None:
        agent.processor.action_endpoint = agent.action_endpoint


async def close_action_calls(app: Sanic, *_: Any) -> None:
    """Close the timed endpoint's connections to the action server (a Sanic listener, run
    once the server has finished the requests in hand)."""
    endpoint = getattr(app.ctx, "agent", None) and app.ctx.agent.action_endpoint
    if isinstance(endpoint, TimedEndpointConfig):
        await endpoint.close()
