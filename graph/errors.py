"""Errors of the chat layer, typed like the tools' so the API maps them to 4xx."""

from tools.base import Conflict, InvalidInput


class BadDecision(InvalidInput):
    code = "invalid_decision"


class NothingToApprove(Conflict):
    code = "nothing_to_approve"


class ApprovalPending(Conflict):
    code = "approval_pending"
