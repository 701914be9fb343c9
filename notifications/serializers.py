from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.parsing import JsonBooleanField
from notifications.events import PREFERENCE_EVENTS


class TelegramLinkSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True)


class PreferenceSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=sorted(PREFERENCE_EVENTS))
    telegram = JsonBooleanField(required=False)
    email = JsonBooleanField(required=False)


class PreferenceOutSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=sorted(PREFERENCE_EVENTS))
    label = serializers.CharField()
    telegram = serializers.BooleanField()
    email = serializers.BooleanField()


class NotificationSettingsSerializer(serializers.Serializer):
    """The caller's notification settings: the language of messages to them, and per event its channels."""

    language = serializers.ChoiceField(choices=["", "en", "ru"], required=False)
    preferences = PreferenceSerializer(many=True, required=False, max_length=len(PREFERENCE_EVENTS))

    def validate_preferences(self, value):
        events = [item["event"] for item in value]
        if len(events) != len(set(events)):
            raise serializers.ValidationError(_("Each event at most once."))
        return value


class NotificationSettingsOutSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=["", "en", "ru"])
    telegram_linked = serializers.BooleanField()
    preferences = PreferenceOutSerializer(many=True)


class UnsubscribeSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class UnsubscribeOutSerializer(serializers.Serializer):
    event = serializers.CharField(help_text='The event the link is for, or "*" for every event.')
    email = serializers.BooleanField(help_text="Whether emails of that event (all of them for *) are still on.")
