"""Notification keeps its own list of audience criteria (it may not import the registry), so
this test ties it to the registry's: a criterion added on one side only fails here, before a
policy's audience is refused or silently ignored at publish time."""

from __future__ import annotations

from services.enterprise import audience
from services.enterprise.schemas import AudienceSchema
from services.notification.schemas import AUDIENCE_CRITERIA


def test_notification_names_exactly_the_criteria_the_registry_resolves():
    assert set(AUDIENCE_CRITERIA) == set(audience.CRITERIA)
    assert set(AUDIENCE_CRITERIA) == set(AudienceSchema().fields)
    assert len(AUDIENCE_CRITERIA) == len(set(AUDIENCE_CRITERIA))
