"""Tools of the after_sales agent: satisfaction surveys after delivery and their statistics."""

from datetime import date, timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from db.base import utc_now
from db.models import (
    Customer,
    Order,
    OrderStatus,
    SalesChannel,
    SatisfactionSurvey,
    SurveyStatus,
)
from tools.base import Conflict, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate, period
from tools.customers_core import Moment, live_customer


class SurveyOut(BaseModel):
    id: int
    order_id: int
    customer_id: int
    status: SurveyStatus
    score: int | None = Field(description="Satisfaction 1 (bad) to 5 (excellent).")
    nps: int | None = Field(description="Likelihood to recommend, 0 to 10.")
    comment: str | None
    due_at: Moment
    sent_at: Moment | None
    answered_at: Moment | None


def _out(survey: SatisfactionSurvey) -> SurveyOut:
    return SurveyOut.model_validate(survey, from_attributes=True)


def _record(
    ctx: ToolContext, survey: SatisfactionSurvey, action: str, event: str, before: str | None
) -> None:
    after = _out(survey).model_dump(mode="json", exclude={"comment"})
    ctx.record(
        action=action,
        entity_type="satisfaction_survey",
        entity_id=survey.id,
        event=event,
        domain="after_sales",
        payload={**after, "survey_id": survey.id},
        before={"status": before} if before else None,
        after=_out(survey).model_dump(mode="json"),
    )


@tool(agent="after_sales", path="/surveys", writes=True)
def send_survey(
    ctx: ToolContext,
    order_id: Annotated[int, Field(ge=1, description="Id of the delivered order.")],
) -> SurveyOut:
    """Send the satisfaction survey of a delivered (or returned) order to its customer: the
    order's survey due since delivery is marked sent, or one is created and sent. One survey
    per order: a survey already sent, answered or expired is not sent again."""
    session = ctx.session
    order = get_or_404(session, Order, order_id)
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.RETURNED):
        raise Conflict(
            f"order {order_id} is {order.status.value}; surveys go out after delivery",
            field="order_id",
        )
    live_customer(session, order.customer_id)
    survey = session.exec(
        select(SatisfactionSurvey).where(SatisfactionSurvey.order_id == order_id).with_for_update()
    ).first()
    now = utc_now()
    before = None
    if survey is None:
        survey = SatisfactionSurvey(order_id=order_id, customer_id=order.customer_id, due_at=now)
    elif survey.status != SurveyStatus.DUE:
        raise Conflict(
            f"the survey of order {order_id} is already {survey.status.value}; "
            "one survey is sent per order",
            field="order_id",
        )
    else:
        before = survey.status.value
    survey.status = SurveyStatus.SENT
    survey.sent_at = now
    session.add(survey)
    session.flush()
    _record(ctx, survey, "send_survey", "survey_sent", before)
    return _out(survey)


@tool(agent="after_sales", path="/surveys/{survey_id}/response", writes=True)
def record_survey_response(
    ctx: ToolContext,
    survey_id: Annotated[int, Field(ge=1, description="Id of the survey.")],
    score: Annotated[int, Field(ge=1, le=5, description="Satisfaction, 1 (bad) to 5.")],
    nps: Annotated[int, Field(ge=0, le=10, description="How likely to recommend us, 0 to 10.")],
    comment: Annotated[
        str | None, Field(max_length=2000, description="The customer's words.")
    ] = None,
) -> SurveyOut:
    """Record a customer's answer to a sent satisfaction survey (for instance given by phone
    or e-mail): a score from 1 to 5, a recommendation score (NPS) from 0 to 10 and a comment.
    A survey is answered once; one not sent yet or expired cannot be answered."""
    session = ctx.session
    survey = get_or_404(session, SatisfactionSurvey, survey_id, "survey", lock=True)
    if survey.status != SurveyStatus.SENT:
        raise Conflict(
            f"survey {survey_id} is {survey.status.value}; only a sent survey can be answered",
            field="survey_id",
        )
    survey.status = SurveyStatus.ANSWERED
    survey.score = score
    survey.nps = nps
    survey.comment = (comment or "").strip() or None
    survey.answered_at = utc_now()
    session.add(survey)
    session.flush()
    _record(ctx, survey, "record_survey_response", "survey_answered", SurveyStatus.SENT.value)
    return _out(survey)


@tool(agent="after_sales", path="/surveys")
def list_surveys(
    ctx: ToolContext,
    customer_id: Annotated[int | None, Field(ge=1, description="Only this customer's.")] = None,
    order_id: Annotated[int | None, Field(ge=1, description="Only this order's.")] = None,
    status: Annotated[
        SurveyStatus | None, Field(description="due, sent, answered or expired.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SurveyOut]:
    """List satisfaction surveys, newest first: a customer's or an order's (with the score,
    NPS and comment of those answered), or those in one status (e.g. sent and awaiting an
    answer)."""
    statement = select(SatisfactionSurvey)
    if customer_id is not None:
        get_or_404(ctx.session, Customer, customer_id)
        statement = statement.where(SatisfactionSurvey.customer_id == customer_id)
    if order_id is not None:
        get_or_404(ctx.session, Order, order_id)
        statement = statement.where(SatisfactionSurvey.order_id == order_id)
    if status is not None:
        statement = statement.where(SatisfactionSurvey.status == status)
    rows, next_cursor = paginate(ctx.session, statement, SatisfactionSurvey.id, limit, cursor)
    return Page(items=[_out(survey) for survey in rows], next_cursor=next_cursor)


class SurveyStats(BaseModel):
    start: date
    end: date
    channel: SalesChannel | None
    sent: int = Field(description="Surveys sent in the period.")
    answered: int = Field(description="Of those, answered.")
    response_rate: float | None = Field(description="answered / sent, 0 to 1.")
    average_score: float | None = Field(description="Mean satisfaction, 1 to 5.")
    score_distribution: dict[int, int] = Field(description="Answers per score 1-5.")
    promoters: int = Field(description="Answers with NPS 9-10.")
    passives: int = Field(description="Answers with NPS 7-8.")
    detractors: int = Field(description="Answers with NPS 0-6.")
    nps: float | None = Field(description="% promoters - % detractors, -100 to 100.")


@tool(agent="after_sales", path="/surveys/stats")
def survey_stats(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
    channel: Annotated[
        SalesChannel | None, Field(description="Only orders from this sales channel.")
    ] = None,
) -> SurveyStats:
    """Customer satisfaction over a period, for surveys sent in it: how many were sent and
    answered (response rate), the average score (1-5) and its distribution, and the Net
    Promoter Score (% of NPS 9-10 minus % of NPS 0-6)."""
    since, until = period(start, end)
    sent_at = col(SatisfactionSurvey.sent_at)
    statement = select(SatisfactionSurvey).where(sent_at >= since, sent_at < until)
    if channel is not None:
        statement = statement.join(Order, col(Order.id) == SatisfactionSurvey.order_id).where(
            Order.channel == channel
        )
    base = statement.subquery()
    answered_only = col(base.c.status) == SurveyStatus.ANSWERED
    scores = range(1, 6)
    # One pass over the period's surveys, the score distribution included.
    sent, answered, average, promoters, passives, detractors, *by_score = ctx.session.execute(
        sa.select(
            func.count(),
            func.count().filter(answered_only),
            func.avg(base.c.score).filter(answered_only),
            func.count().filter(answered_only, base.c.nps >= 9),
            func.count().filter(answered_only, base.c.nps.between(7, 8)),
            func.count().filter(answered_only, base.c.nps <= 6),
            *(func.count().filter(answered_only, base.c.score == score) for score in scores),
        ).select_from(base)
    ).one()
    distribution = {score: int(n) for score, n in zip(scores, by_score, strict=True)}
    rated = promoters + passives + detractors
    return SurveyStats(
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        channel=channel,
        sent=sent,
        answered=answered,
        response_rate=round(answered / sent, 4) if sent else None,
        average_score=None if average is None else round(float(average), 2),
        score_distribution=distribution,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        nps=round(100 * (promoters - detractors) / rated, 1) if rated else None,
    )
