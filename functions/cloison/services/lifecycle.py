"""The campaign lifecycle in one place: which action moves a campaign from which status to which.

    draft ──launch──> launching ──start──> sending ──complete──> completed
    draft ──schedule─> scheduled ──start──┘   ⇅ pause / resume
                                           paused
    cancel: from draft, scheduled, launching, sending or paused, to cancelled.

A recurring campaign (scheduled with an expression) never sends itself: each firing sends an
occurrence, a campaign of its own. It stays scheduled between firings:

    scheduled ⇄ paused (pause / resume: the firings while paused send nothing); cancel as above

Anything else (launch a cancelled or sending campaign, edit anything but a draft, resume what
is not paused, pause what is not sending) is a conflict.
"""

from dataclasses import dataclass
from enum import StrEnum

from cloison.errors import Conflict
from cloison.models.kinds import CampaignStatus

DRAFT = CampaignStatus.DRAFT
SCHEDULED = CampaignStatus.SCHEDULED
LAUNCHING = CampaignStatus.LAUNCHING
SENDING = CampaignStatus.SENDING
PAUSED = CampaignStatus.PAUSED
CANCELLED = CampaignStatus.CANCELLED
COMPLETED = CampaignStatus.COMPLETED


class Action(StrEnum):
    EDIT = "edit"  # change the audience; the status stays
    LAUNCH = "launch"  # launch now
    SCHEDULE = "schedule"  # launch at an instant or on a recurring schedule
    START = "start"  # the launcher starts sending
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    COMPLETE = "complete"  # the last recipient is settled


@dataclass(frozen=True)
class Transition:
    sources: tuple[CampaignStatus, ...]
    target: CampaignStatus


TRANSITIONS: dict[Action, Transition] = {
    Action.EDIT: Transition((DRAFT,), DRAFT),
    Action.LAUNCH: Transition((DRAFT,), LAUNCHING),
    Action.SCHEDULE: Transition((DRAFT,), SCHEDULED),
    Action.START: Transition((SCHEDULED, LAUNCHING), SENDING),
    Action.PAUSE: Transition((SENDING,), PAUSED),
    Action.RESUME: Transition((PAUSED,), SENDING),
    Action.CANCEL: Transition((DRAFT, SCHEDULED, LAUNCHING, SENDING, PAUSED), CANCELLED),
    Action.COMPLETE: Transition((SENDING,), COMPLETED),
}
# What differs for a recurring campaign; every other action is as above (edits need a draft).
RECURRING_TRANSITIONS: dict[Action, Transition] = {
    Action.PAUSE: Transition((SCHEDULED,), PAUSED),
    Action.RESUME: Transition((PAUSED,), SCHEDULED),
}


class InvalidTransition(Conflict):
    """The action makes no sense in the campaign's current status."""

    def __init__(self, action: Action, status: CampaignStatus, *, recurring: bool = False) -> None:
        self.action = action
        self.status = status
        self.allowed_from = _transitions(recurring)[action].sources
        allowed = ", ".join(source.value for source in self.allowed_from)
        super().__init__(
            f"cannot {action.value} a campaign that is {status.value}; "
            f"{action.value} applies to a campaign that is {allowed}"
        )


def transition(action: Action, status: CampaignStatus, *, recurring: bool = False) -> Transition:
    """The transition `action` makes from `status`; InvalidTransition if there is none."""
    step = _transitions(recurring)[action]
    if status not in step.sources:
        raise InvalidTransition(action, status, recurring=recurring)
    return step


def _transitions(recurring: bool) -> dict[Action, Transition]:
    return TRANSITIONS | RECURRING_TRANSITIONS if recurring else TRANSITIONS
