from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"

    def ready(self) -> None:
        from chat import layer, presence, revocation

        # After a Redis outage: leases back first (Redis may have lost them), then every socket resyncs.
        layer.on_restored(presence.renew_now)
        layer.on_restored(revocation.resync_all)
