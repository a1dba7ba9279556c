"""Data-subject rights over one phone number: access, rectification and erasure, each audited.

Everything held about a number is found by its keyed hash, through keys and indexes only: its
consents, its sign-ups waiting for a reply and its frequency cap's item (the contacts
table's `contact#<hash>` partition; the notice each names, from its team's partition of
the campaigns table), the count of sign-up requests for it (`signuplimit#number#<hash>`),
its suppression item, its message
records and replies (the `by-recipient` indexes), the reply bodies in S3 (each entry names its
object), and the audience chunks that hold it (the audience index written at upload).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cloison.adapters.envelope import Sealer
from cloison.adapters.identity import NumberHasher
from cloison.adapters.tables import (
    GLOBAL_SCOPE,
    AudienceHolding,
    CampaignStore,
    ConsentStore,
    FrequencyCaps,
    MessageStore,
    PrivacyReceipts,
    ReplyIndex,
    SuppressionHolding,
    SuppressionStore,
)
from cloison.adapters.tables.signups import PendingSignups, SignupLimits
from cloison.adapters.vault import encryption_context
from cloison.compliance.masking import mask_phone
from cloison.compliance.signup import LimitKind
from cloison.compliance.territories import normalize_departement
from cloison.errors import DependencyError, NotFound, ReadDenied
from cloison.models.api.privacy import (
    ContactChanges,
    ExportedNote,
    ExportedReply,
    PrivacyReceipt,
    PrivacyRequestIn,
    PrivacyRequestKind,
    SubjectExport,
)
from cloison.models.records import (
    AudienceMember,
    PrivacyReceiptRecord,
    ReplyRecord,
    SuppressionRecord,
)
from cloison.observability import logger
from cloison.services.access import PRIVACY_OFFICER, Caller
from cloison.services.audience import open_chunk, seal_chunk
from cloison.services.audit import Auditor, scrub
from cloison.services.inbound import ERASURE_SOURCE
from cloison.services.registry import phone_e164
from cloison.services.subject_export import (
    exported_audiences,
    exported_consents,
    exported_lifts,
    exported_messages,
    exported_signup_limits,
    exported_suppressions,
    exported_waiting_signups,
    notice_book,
    standing,
)
from cloison.services.subject_requests import (
    DeadLetterQueues,
    OptOutList,
    Outcome,
    ReplyBodies,
    check_changes,
    is_request_id,
    new_request_id,
    to_receipt,
)

ACTIONS = {
    PrivacyRequestKind.ACCESS: "subject.export",
    PrivacyRequestKind.RECTIFICATION: "subject.rectify",
    PrivacyRequestKind.ERASURE: "subject.erase",
}
# End User Messaging reports a message's fate up to 72 hours after it was sent; an hour more
# for events late on the delivery queue. Such an event writes the message's record again.
LATE_EVENTS = timedelta(hours=73)


@dataclass
class SubjectRights:
    hasher: NumberHasher
    consents: ConsentStore
    suppressions: SuppressionStore
    caps: FrequencyCaps
    messages: MessageStore
    replies: ReplyIndex
    vault: ReplyBodies
    campaigns: CampaignStore
    sealer: Sealer
    opt_out_list: OptOutList
    receipts: PrivacyReceipts
    auditor: Auditor
    dead_letters: DeadLetterQueues
    signups: PendingSignups
    signup_limits: SignupLimits

    def submit(self, caller: Caller, request: PrivacyRequestIn) -> PrivacyReceipt:
        """Answers one request at once. Its audit entry is written before anything is done,
        under the request's id (never the number): a request that fails midway is audited
        and has no receipt; sent again, it does what is left under an id of its own."""
        caller.require_role(PRIVACY_OFFICER)
        e164 = phone_e164(request.phone)
        if request.changes is not None:
            check_changes(request.changes)
        number_key = self.hasher.key(e164)
        request_id = new_request_id()
        requested_at = datetime.now(UTC)
        attributes = request.changes.attributes() if request.changes else None
        self.auditor.record(
            caller,
            ACTIONS[request.kind],
            team=None,
            target=request_id,
            reason=request.reason_code.value,
            note=request.reason,
            # The notes an erasure destroys are those of the number's earlier requests, consents
            # and suppressions; its own stays, as the proof of why it was made.
            subject=None if request.kind == PrivacyRequestKind.ERASURE else number_key,
            details={"attributes": ", ".join(attributes)} if attributes else None,
        )
        if request.kind == PrivacyRequestKind.ERASURE:
            outcome = self._erase(e164, number_key, request_id, requested_at)
        elif request.changes is not None:  # a rectification always has changes (the model)
            outcome = self._rectify(number_key, request.changes)
        else:
            outcome = self._access(caller, e164, number_key, requested_at)
        record = PrivacyReceiptRecord(
            request_id=request_id,
            kind=request.kind.value,
            reason=request.reason_code.value,
            requested_by=caller.username,
            requested_at=requested_at,
            completed_at=datetime.now(UTC),
            counts=outcome.counts,
            attributes=outcome.attributes or [],
            suppression=outcome.suppression,
        )
        self.receipts.put(record)
        logger.info(
            "data-subject request answered",
            extra={"request": request_id, "kind": request.kind.value, "counts": outcome.counts},
        )
        return to_receipt(record).model_copy(
            update={"phone": mask_phone(e164), "export": outcome.export}
        )

    def receipt(self, caller: Caller, request_id: str) -> PrivacyReceipt:
        caller.require_role(PRIVACY_OFFICER)
        record = self.receipts.get(request_id) if is_request_id(request_id) else None
        if record is None:
            raise NotFound("no such privacy request")
        return to_receipt(record)

    # ---------------------------------------------------------------- access
    def _access(self, caller: Caller, e164: str, number_key: str, now: datetime) -> Outcome:
        """Everything held, replies and audience attributes decrypted; answered, not kept."""
        consents = self.consents.for_number(number_key)
        # Those past their expiry that TTL has not deleted yet too: they are still held.
        signups = self.signups.held(number_key)
        versions = notice_book(
            [consent.team for consent in consents if consent.notice is not None]
            + [signup.team for signup in signups],
            self.campaigns,
        )
        holding = self.suppressions.holding(number_key)
        cap = self.caps.get(number_key)
        messages = self.messages.to_number(number_key)
        replies = self.replies.from_number(number_key)
        audiences = [
            (place, member)
            for place in self.campaigns.audiences_of(number_key)
            for member in self._members(place)
            if member.number_key == number_key
        ]
        export = SubjectExport(
            phone=e164,
            generated_at=now,
            consents=exported_consents(consents, versions),
            suppressions=exported_suppressions(holding),
            lifted_suppressions=exported_lifts(holding),
            messages=exported_messages(messages),
            replies=[
                ExportedReply(
                    id=reply.reply_id,
                    team=reply.team,
                    campaign_id=reply.campaign_id,
                    received_at=reply.received_at,
                    reply_class=reply.reply_class,
                    body=self._body(caller, reply),
                )
                for reply in replies
            ],
            audiences=exported_audiences(audiences),
            notes=[
                ExportedNote(entry=entry_id, text=text)
                for entry_id, text in self.auditor.notes_about(number_key)
            ],
            signups=exported_waiting_signups(signups, versions),
            signup_limits=exported_signup_limits(
                self.signup_limits.counted(LimitKind.NUMBER, number_key)
            ),
            marketing_messages_counted=len(self.caps.rule.counted(cap.times, now)) if cap else 0,
        )
        return Outcome(
            counts={
                "consents": len(export.consents),
                "suppressions": len(export.suppressions),
                "messages": len(export.messages),
                "replies": len(export.replies),
                "audience_chunks": len(export.audiences),
                "signups": len(export.signups),
                "signup_limits": len(export.signup_limits),
                "frequency_caps": int(cap is not None),
            },
            export=export,
        )

    def _body(self, caller: Caller, reply: ReplyRecord) -> str | None:
        """The body, opened under the reader role of the reply's own compartment."""
        try:
            return self.vault.get(
                reply.object_key,
                encryption_context(reply.team, reply.campaign_id),
                team=reply.team,
                caller=caller.subject,
            )
        except ReadDenied as exc:
            # An export without every body would not be the answer the person is owed.
            logger.error("reply body refused to the export", extra={"team": reply.team})
            raise DependencyError(f"the reader role of team {reply.team} refused a reply") from exc
        except NotFound:
            return None  # claimed, never stored: the reply's delivery is still being retried

    # ---------------------------------------------------------------- rectification
    def _rectify(self, number_key: str, changes: ContactChanges) -> Outcome:
        """Corrects the number's attributes in every audience that holds it, sent or not."""

        def corrected(member: AudienceMember) -> AudienceMember:
            variables = dict(member.variables)
            for name, value in changes.variables.items():
                if value is None:
                    variables.pop(name, None)
                else:
                    variables[name] = value
            departement = member.departement
            if "departement" in changes.model_fields_set:
                departement = (
                    normalize_departement(changes.departement) if changes.departement else None
                )
            return member.model_copy(update={"variables": variables, "departement": departement})

        _, changed = self._rewrite(number_key, corrected)
        return Outcome(counts={"audience_chunks": changed}, attributes=changes.attributes())

    # ---------------------------------------------------------------- erasure
    def _erase(self, e164: str, number_key: str, request_id: str, now: datetime) -> Outcome:
        """Erases everything but the opt-out, in an order that a retry can take up anywhere.

        The opt-out comes first, so that the number is never messaged again whatever fails
        later; reply bodies go before their index entries, and chunks before their audience
        index, so that what is left is always found again.
        """
        holding = self.suppressions.holding(number_key)
        suppression, scrubbed = self._keep_opt_out(e164, number_key, holding, request_id, now)
        reply_versions = 0
        replies = self.replies.from_number(number_key)
        for reply in replies:
            reply_versions += self.vault.destroy(reply.object_key)
            self.replies.forget(reply.team, reply.reply_id)
        self.replies.forget_allowance(number_key)
        # A reply or a delivery event that failed to be processed waits in a dead-letter queue,
        # the number (and a reply's body) in clear: taken out too.
        dead_letters = self.dead_letters.purge(e164)
        messages = self.messages.to_number(number_key)
        places, chunks = self._rewrite(number_key, lambda member: AudienceMember.tombstone())
        # Every campaign that messaged the number or holds it: a delivery event still to come
        # (or a send a pass made just before the opt-out) finds a tombstone, and writes nothing.
        self.messages.bury(
            number_key,
            [message.campaign_id for message in messages] + [place.campaign_id for place in places],
            until=now + LATE_EVENTS,
        )
        for place in places:
            self.campaigns.forget_audience_member(place, number_key)
        # Sign-ups before consents: a reply confirming one records its consent only while the
        # sign-up waits, so a confirmation racing the erasure is read below, or writes nothing.
        signups = self.signups.forget(number_key)
        signup_limits = self.signup_limits.forget(LimitKind.NUMBER, number_key)
        consents = self.consents.for_number(number_key)
        for consent in consents:
            self.consents.delete(number_key, consent.team, consent.purpose)
        frequency_caps = int(self.caps.forget(number_key))
        audit_notes = self.auditor.forget_notes(number_key)
        return Outcome(
            counts={
                "audit_notes": audit_notes,
                "consents": len(consents),
                "messages": len(messages),
                "replies": len(replies),
                "reply_versions": reply_versions,
                "dead_letters": dead_letters,
                "audience_chunks": chunks,
                "suppressions_scrubbed": scrubbed,
                "signups": signups,
                "signup_limits": signup_limits,
                "frequency_caps": frequency_caps,
            },
            suppression=suppression,
        )

    def _keep_opt_out(
        self,
        e164: str,
        number_key: str,
        holding: SuppressionHolding | None,
        request_id: str,
        now: datetime,
    ) -> tuple[str, int]:
        """Leaves the number suppressed for every team, as its keyed hash and nothing more.

        Without its consents, consent can no longer be proven: a number that had no opt-out
        gets one. One that waits, sealed, for End User Messaging's opt-out list is pushed
        there now (as the reconciliation would) and its sealed copy dropped. Returns whether
        the opt-out was kept or added, and how many reasons quoting a number were masked.
        """
        held = standing(holding)
        kept = held.get(GLOBAL_SCOPE)
        if kept is None:
            self.suppressions.put(
                SuppressionRecord(
                    number_key=number_key,
                    scope=GLOBAL_SCOPE,
                    reason="erasure",
                    source=ERASURE_SOURCE,
                    evidence=f"privacy request {request_id}",
                    created_at=now,
                )
            )
        scrubbed = 0
        for record in held.values():
            # An operator's reason is free text: it may quote the number.
            if scrub(record.reason) != record.reason:
                self.suppressions.put(record.model_copy(update={"reason": scrub(record.reason)}))
                scrubbed += 1
        if holding is not None and holding.provider_pending:
            if kept is not None:
                self.opt_out_list.opt_out(e164)
            self.suppressions.clear_provider_pending([number_key])
        added = kept is None or kept.source == ERASURE_SOURCE
        return ("added" if added else "kept"), scrubbed

    # ---------------------------------------------------------------- audience chunks
    def _members(self, place: AudienceHolding) -> list[AudienceMember]:
        sealed = self.campaigns.get_chunk(place.campaign_id, place.upload_id, place.chunk)
        if sealed is None:
            return []  # expired with the campaign's messages
        return open_chunk(self.sealer, sealed, place.team, place.campaign_id)

    def _rewrite(
        self, number_key: str, change: Callable[[AudienceMember], AudienceMember]
    ) -> tuple[list[AudienceHolding], int]:
        """Seals anew each chunk that holds the number, with `change` applied to it; every
        other member keeps its place, so a pass that is sending it goes on unharmed.

        Returns the chunks the audience index named, and how many of them were rewritten.
        """
        places = self.campaigns.audiences_of(number_key)
        rewritten_chunks = 0
        for place in places:
            members = self._members(place)
            rewritten = [
                change(member) if member.number_key == number_key else member for member in members
            ]
            if rewritten != members and self.campaigns.replace_chunk(
                place.campaign_id,
                place.upload_id,
                place.chunk,
                seal_chunk(self.sealer, rewritten, place.team, place.campaign_id),
            ):
                rewritten_chunks += 1
        return places, rewritten_chunks
