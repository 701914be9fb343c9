"""WebSocket routes of the chat (the consumer arrives with the chat issue)."""

websocket_urlpatterns: list = []
