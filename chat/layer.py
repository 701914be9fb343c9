"""The Redis pub/sub channel layer, told when its subscriptions were lost and when they are back.

channels-redis' `RedisPubSubChannelLayer` survives a Redis outage by itself: its receive loop logs the failure,
and redis-py reconnects and subscribes again to every channel and group. But nothing that was published while
the subscriptions were down (the outage, and the moment between Redis coming back and the resubscription) ever
arrives, and no socket learns that it missed anything. This layer is the same layer with one addition: when the
receive loop of a process fails, and later reconnects, it waits until Redis has confirmed the resubscription (a
PING over the subscribing connection answered after the SUBSCRIBE commands it follows), then calls the
listeners registered with `on_restored` (by chat/consumers.py: chat/revocation.py `resync_all` sends every socket of
the process a `resync` frame).
Anything published after that confirmation is delivered; anything before it is in the database, and the
client's `?after=` fetch (docs/websocket.md "Reconnect and resync") finds it.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close, decode_hosts

logger = logging.getLogger("thebot.chat")

# Seconds between reconnection attempts while Redis is unreachable.
RETRY_SECONDS = 0.25

_restored_listeners: list[Callable[[], Awaitable[None]]] = []


def on_restored(listener: Callable[[], Awaitable[None]]) -> None:
    """Call `listener()` (a coroutine function, on the layer's event loop) each time a lost subscription is back."""
    if listener not in _restored_listeners:
        _restored_listeners.append(listener)


class ResyncingPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, *args, **kwargs):
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]


class _Shard(RedisSingleShardConnection):
    _lost = False  # the subscribing connection failed or reconnected: a resync is due once it is confirmed
    _watched = None  # the connection whose reconnections are watched
    _probe: str | None = None  # the payload of the PING that will confirm the resubscription

    def _reconnected(self, connection) -> None:
        """redis-py's connect callback, called after it re-sent the SUBSCRIBE commands (it may reconnect inside a
        read without the receive loop seeing an error)."""
        self._lost, self._probe = True, None

    async def _do_receiving(self):
        while True:
            try:
                if not (self._pubsub and self._pubsub.subscribed):
                    await asyncio.sleep(0.1)
                    continue
                connection = self._pubsub.connection
                if connection is not None and connection is not self._watched:
                    connection.register_connect_callback(self._reconnected)
                    self._watched = connection
                if self._lost and self._probe is None:
                    # A PING sent after the SUBSCRIBE commands (re-sent on connecting) is answered only once Redis
                    # has processed them. ping() reconnects first when needed.
                    self._probe = uuid.uuid4().hex
                    async with self._lock:
                        await self._pubsub.ping(self._probe)
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                if message is not None and message["type"] == "pong":
                    if self._lost and self._probe is not None and _text(message["data"]) == self._probe:
                        self._lost, self._probe = False, None
                        logger.warning("chat: channel layer subscriptions restored; sockets told to resync")
                        await _notify_restored()
                    continue
                self._receive_message(message)
            except (asyncio.CancelledError, GeneratorExit):
                raise
            except Exception:
                if not self._lost:
                    logger.warning("chat: channel layer subscriptions lost", exc_info=True)
                self._lost, self._probe = True, None
                await asyncio.sleep(RETRY_SECONDS)


def _text(data) -> str:
    return data.decode() if isinstance(data, bytes) else str(data)


async def _notify_restored() -> None:
    for listener in list(_restored_listeners):
        try:
            await listener()
        except Exception:
            logger.exception("chat: a resync listener failed")
