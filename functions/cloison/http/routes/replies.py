"""Replies: listed as metadata, opened (audited), reviewed."""

from functools import lru_cache
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from cloison.http import wiring
from cloison.http.answers import answers
from cloison.http.resolver import caller
from cloison.models.api.replies import ReplyDetail, ReplyList, ReplyReviewIn, ReplySummary
from cloison.services.inbox import ReplyReader

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves its __init__ unannotated


@lru_cache(maxsize=1)
def service() -> ReplyReader:
    """The replies' reader, built at the first call of these routes."""
    return ReplyReader(
        index=wiring.reply_index(),
        vault=wiring.vault(),
        suppressions=wiring.suppression_store(),
        carrier=wiring.carrier(),
        hasher=wiring.hasher(),
        auditor=wiring.auditor(),
    )


@router.get(
    "/replies",
    summary="List replies (metadata only), newest first",
    responses=answers(200, ReplyList, "The replies.", {422: "A filter is invalid."}),
)
def list_replies(
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    reply_class: Annotated[str | None, Query(alias="class", max_length=32)] = None,
    review: Annotated[
        Literal["pending", "confirmed", "lifted"] | None,
        Query(description="`pending` lists the review queue."),
    ] = None,
) -> ReplyList:
    return ReplyList(
        items=service().list(caller(), campaign_id=campaign, reply_class=reply_class, review=review)
    )


@router.get(
    "/replies/<reply_id>",
    summary="Open a reply: its body, decrypted (audited)",
    responses=answers(
        200, ReplyDetail, "The reply with its body.", {404: "No such reply in your teams."}
    ),
)
def open_reply(reply_id: str) -> ReplyDetail:
    return service().open(caller(), reply_id)


@router.post(
    "/replies/<reply_id>/review",
    summary="Settle a reply awaiting review",
    description="Ambiguous opt-outs and sensitive replies wait in the review queue "
    "(`GET /replies?review=pending`). `confirm` keeps the suppression; `lift` (privacy officers) "
    "says the reply was no opt-out and lifts it, here and in the provider's opt-out list.",
    responses=answers(
        200,
        ReplySummary,
        "The reviewed reply.",
        {
            403: "Lifting requires the privacy_officer role.",
            404: "No such reply in the caller's compartments.",
            409: "Not awaiting review, or a later opt-out stands.",
        },
        body=True,
    ),
)
def review_reply(reply_id: str, decision: ReplyReviewIn) -> ReplySummary:
    return service().review(caller(), reply_id, decision)
