"""WebSocket routes under /ws/. Each app that speaks WebSocket contributes its `websocket_urlpatterns`."""

from chat.routing import websocket_urlpatterns as chat_patterns

websocket_urlpatterns = [*chat_patterns]
