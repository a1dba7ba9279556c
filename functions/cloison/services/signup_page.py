"""What a team's public sign-up page shows (the latest version of its notice), and what the
team's people see of their sign-ups: counts, never a number. Apart from the requests
(services.signup), which the inbound function also runs without the API's models."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.compliance.signup import CONFIRMATION_KEYWORDS, day_of
from cloison.errors import NotFound
from cloison.models.api.notices import Notice
from cloison.models.api.signup import SignupBudget, SignupPage, SignupStatus
from cloison.services.access import Caller
from cloison.services.notices import NoticeVersions, visible_to


def signup_page(notices: NoticeVersions, team: str, confirmation_hours: int) -> SignupPage:
    """What the team's public page shows: the latest version of its notice. A team without a
    notice takes no sign-up, and has no page (NotFound)."""
    latest = notices.latest_notice(team)
    if latest is None:
        raise NotFound(f"team {team} has no sign-up page")
    notice = Notice.model_validate(latest)
    return SignupPage(
        team=team,
        version=notice.version,
        hash=notice.hash,
        fr=notice.fr,
        en=notice.en,
        keywords=dict(CONFIRMATION_KEYWORDS),
        confirmation_hours=confirmation_hours,
    )


@dataclass
class SignupTally:
    """A team's sign-ups as its people see them: counts, never a number."""

    pending: PendingSignups
    limits: SignupLimits

    def status(self, caller: Caller, team: str, now: datetime | None = None) -> SignupStatus:
        """For the team's members and administrators; another team is a NotFound."""
        visible_to(caller, team)
        now = now or datetime.now(UTC)
        day = day_of(now)
        return SignupStatus(
            team=team,
            pending=self.pending.count(team, now),
            budget=SignupBudget(
                day=date.fromisoformat(day),
                used=self.limits.spent(team, day),
                total=self.limits.daily_budget,
            ),
        )
