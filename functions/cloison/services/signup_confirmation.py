"""The second half of a double opt-in: the person's reply to the confirmation SMS turns their
waiting sign-up into a consent, with its proof. The inbound function runs it."""

from dataclasses import dataclass
from datetime import datetime

from cloison.adapters.tables import ConsentStore
from cloison.adapters.tables.signups import PendingSignups
from cloison.compliance.signup import confirmation_code
from cloison.models.records import ConsentRecord, PendingSignupRecord
from cloison.observability import logger

# Who recorded a consent given by double opt-in: no person, the person's own reply.
RECORDED_BY = "sms-double-opt-in"
PURPOSE = "marketing"


@dataclass
class SignupConfirmations:
    pending: PendingSignups
    consents: ConsentStore

    def answered(self, number_key: str, text: str, now: datetime) -> PendingSignupRecord | None:
        """The sign-up a reply confirms: the one still waiting whose SMS asked for what the
        reply says (`OUI`, or `OUI 2` when another waited already); None otherwise, and the
        reply is then an ordinary one. Two that asked for the same (two requests at the same
        instant) make the reply ambiguous: it confirms neither."""
        code = confirmation_code(text)
        if code is None:
            return None
        asked = [signup for signup in self.pending.waiting(number_key, now) if signup.code == code]
        if len(asked) > 1:
            logger.warning("sign-up confirmation ambiguous", extra={"code": code})
            return None
        return asked[0] if asked else None

    def confirm(self, signup: PendingSignupRecord, reply_id: str, confirmed_at: datetime) -> bool:
        """Records the consent, with the proof of both halves; the same again on a redelivery.
        False if the sign-up was deleted meanwhile (an erasure of the number): nothing is."""
        confirmed = self.consents.put_confirmed(
            ConsentRecord(
                number_key=signup.number_key,
                team=signup.team,
                purpose=PURPOSE,
                source=f"sign-up page {signup.page}",
                proof=(
                    "asked on the page, then confirmed by replying to the confirmation SMS"
                    f" (inbound {reply_id})"
                ),
                given_at=confirmed_at,
                recorded_by=RECORDED_BY,
                notice=signup.notice,
                page=signup.page,
                source_address=signup.source_address,
                requested_at=signup.requested_at,
                confirmed_at=confirmed_at,
                confirmed_by=reply_id,
            )
        )
        if not confirmed:
            logger.info("sign-up gone before its confirmation", extra={"reply": reply_id})
            return False
        logger.info("sign-up confirmed", extra={"team": signup.team, "reply": reply_id})
        return True

    def close(self, signup: PendingSignupRecord) -> None:
        """The sign-up is a consent now: it waits no more."""
        self.pending.delete(signup.number_key, signup.team)
