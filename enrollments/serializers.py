"""Serializers of enrollments shared by the apps above (chat, scheduling, assignments, materials)."""

from config.parsing import ModelSerializer
from enrollments.models import Subject


class SubjectBriefSerializer(ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "name"]
        read_only_fields = fields
