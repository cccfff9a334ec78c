"""The chat page in a real browser: sign in, ask, see the answer and its trace, approve,
reject or edit a refund and see what the database holds afterwards.

Each test works on its own orders and payments of the shared demo database, so the tests
do not depend on each other's writes."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, staff_key

# Captured payments of the demo data (seed 42, small) that nothing else here touches.
APPROVED_ORDER = 4
REJECTED_ORDER = 7
EDITED_ORDER = 3
RESUMED_ORDER = 1
FORBIDDEN_ORDER = 5


def refunded_cents(server: LiveServer, order_id: int) -> int:
    return int(
        server.sql(
            "SELECT COALESCE(SUM(refunded_cents), 0) FROM payments WHERE order_id = :order",
            order=order_id,
        )
    )


def refund_rows(server: LiveServer, order_id: int) -> int:
    return int(
        server.sql(
            "SELECT COUNT(*) FROM refunds JOIN payments ON payments.id = refunds.payment_id "
            "WHERE payments.order_id = :order",
            order=order_id,
        )
    )


def ask(page: Any, message: str) -> Any:
    """Type a message, send it with Enter, and wait for the answer to finish."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(message)
    box.press("Enter")
    return finished_turn(page)


def finished_turn(page: Any) -> Any:
    """The last answer, once it has finished, pinned so that later turns do not move it."""
    turns = page.locator("article.turn.assistant")
    expect(turns.last).to_have_attribute("aria-busy", "false")
    return turns.nth(turns.count() - 1)


def test_sign_in_with_demo_key(page: Any, sign_in: Callable[..., None], artifacts: Path) -> None:
    page.screenshot(path=artifacts / "sign-in.png")
    sign_in("manager")
    expect(page.locator("#whoami")).to_contain_text("manager")
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    page.screenshot(path=artifacts / "welcome.png")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0


def test_sign_in_with_wrong_key_shows_error(page: Any, artifacts: Path) -> None:
    page.get_by_label("API key").fill("cpt_demo_not_a_key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_contain_text("not valid")
    expect(page.locator("#app")).to_be_hidden()
    page.screenshot(path=artifacts / "sign-in-wrong-key.png")


def test_ask_question_shows_answer_and_trace(
    page: Any, sign_in: Callable[..., None], artifacts: Path
) -> None:
    sign_in("admin")
    turn = ask(page, f"show the payments of order {APPROVED_ORDER}")
    expect(turn.locator(".answer")).to_contain_text("captured")
    expect(turn.locator(".agents")).to_contain_text("payments")
    call = turn.locator("details.tool-call").first
    expect(call.locator("summary")).to_contain_text("list_order_payments")
    expect(call.locator("summary .duration")).to_contain_text("ms")
    assert call.get_attribute("open") is None, "tool calls are folded by default"
    call.locator("summary").click()
    expect(call.locator(".tool-body")).to_contain_text('"order_id"')
    page.screenshot(path=artifacts / "answer-with-trace.png", full_page=True)


def test_list_result_shows_as_table(
    page: Any, sign_in: Callable[..., None], artifacts: Path
) -> None:
    sign_in("admin")
    turn = ask(page, "which products are low on stock?")
    table = turn.locator("table").first
    expect(table).to_be_visible()
    assert table.locator("tbody tr").count() > 0
    expect(table.locator("thead")).to_contain_text("sku")
    page.screenshot(path=artifacts / "list-as-table.png", full_page=True)


def test_approve_refund_changes_database(
    page: Any, sign_in: Callable[..., None], live_server: LiveServer, artifacts: Path
) -> None:
    before = refunded_cents(live_server, APPROVED_ORDER)
    sign_in("admin")
    turn = ask(page, f"refund 10 EUR of order {APPROVED_ORDER}")
    card = turn.locator(".approval-card")
    expect(card).to_contain_text("refund_payment")
    expect(card.locator("table.args")).to_contain_text("1000")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.screenshot(path=artifacts / "refund-approval-card.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=artifacts / "refund-approval-card-dark.png", full_page=True)
    page.emulate_media(color_scheme="light")
    assert refunded_cents(live_server, APPROVED_ORDER) == before

    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("Approved by you")
    outcome = finished_turn(page)
    expect(outcome.locator("details.tool-call", has_text="refund_payment")).to_contain_text("ok")
    page.screenshot(path=artifacts / "refund-approved.png", full_page=True)
    assert refunded_cents(live_server, APPROVED_ORDER) == before + 1000
    assert refund_rows(live_server, APPROVED_ORDER) == 1


def test_reject_refund_changes_nothing(
    page: Any, sign_in: Callable[..., None], live_server: LiveServer, artifacts: Path
) -> None:
    before = refunded_cents(live_server, REJECTED_ORDER)
    sign_in("admin")
    turn = ask(page, f"refund 10 EUR of order {REJECTED_ORDER}")
    card = turn.locator(".approval-card")
    # By keyboard: the card takes the focus, then Approve, Edit arguments, Reject in order.
    expect(card).to_be_focused()
    for name in ("Approve", "Edit arguments", "Reject"):
        page.keyboard.press("Tab")
        expect(card.get_by_role("button", name=name, exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(card).to_contain_text("Rejected by you")
    outcome = finished_turn(page)
    expect(outcome.locator("details.tool-call", has_text="refund_payment")).to_contain_text(
        "rejected"
    )
    page.screenshot(path=artifacts / "refund-rejected.png", full_page=True)
    assert refunded_cents(live_server, REJECTED_ORDER) == before
    assert refund_rows(live_server, REJECTED_ORDER) == 0
    expect(page.get_by_role("button", name="Send")).to_be_enabled()


def test_edit_refund_arguments_refunds_the_edited_amount(
    page: Any, sign_in: Callable[..., None], live_server: LiveServer, artifacts: Path
) -> None:
    before = refunded_cents(live_server, EDITED_ORDER)
    sign_in("admin")
    turn = ask(page, f"refund 10 EUR of order {EDITED_ORDER}")
    card = turn.locator(".approval-card")
    card.get_by_role("button", name="Edit arguments").click()
    expect(card.get_by_label("payment id")).to_be_focused()
    card.get_by_label("amount cents").fill("250")
    page.screenshot(path=artifacts / "refund-edit.png", full_page=True)
    card.get_by_role("button", name="Approve with these arguments").click()
    expect(card).to_contain_text("Approved with edited arguments")
    finished_turn(page)
    assert refunded_cents(live_server, EDITED_ORDER) == before + 250


def test_edit_refund_with_bad_json_keeps_card_open(
    page: Any, sign_in: Callable[..., None], artifacts: Path
) -> None:
    sign_in("admin")
    turn = ask(page, f"refund 10 EUR of order {EDITED_ORDER}")
    card = turn.locator(".approval-card")
    card.get_by_role("button", name="Edit arguments").click()
    card.get_by_role("button", name="Edit as JSON").click()
    card.get_by_label("Arguments as JSON").fill('{"payment_id": ')
    card.get_by_role("button", name="Approve with these arguments").click()
    expect(card.locator(".error-box")).to_contain_text("not valid JSON")
    card.get_by_label("Arguments as JSON").fill('{"payment_id": "three"}')
    card.get_by_role("button", name="Approve with these arguments").click()
    expect(card.locator(".error-box")).to_contain_text("payment_id")
    page.screenshot(path=artifacts / "refund-edit-refused.png", full_page=True)
    expect(card.get_by_role("button", name="Approve with these arguments")).to_be_enabled()
    # The refused edit left the action waiting: rejecting it still works.
    card.get_by_role("button", name="Cancel").click()
    card.get_by_role("button", name="Reject").click()
    expect(card).to_contain_text("Rejected by you")


def test_refund_as_viewer_shows_refusal_plainly(
    page: Any, sign_in: Callable[..., None], live_server: LiveServer, artifacts: Path
) -> None:
    before = refunded_cents(live_server, FORBIDDEN_ORDER)
    sign_in("viewer")
    turn = ask(page, f"refund 10 EUR of order {FORBIDDEN_ORDER}")
    expect(turn.locator(".answer")).to_contain_text("needs one of the roles")
    refused = turn.locator("details.tool-call", has_text="refund_payment")
    expect(refused.locator("summary")).to_contain_text("not allowed")
    expect(turn).not_to_contain_text("Traceback")
    page.screenshot(path=artifacts / "refund-forbidden.png", full_page=True)
    assert refunded_cents(live_server, FORBIDDEN_ORDER) == before


def test_open_unknown_thread_shows_error(page: Any, sign_in: Callable[..., None]) -> None:
    page.goto("/#thread=no-such-thread")
    sign_in("admin")
    expect(page.locator("#log .error-box")).to_contain_text("there is no conversation")
    # The next message starts a new conversation rather than failing again.
    turn = ask(page, "which products are low on stock?")
    expect(turn.locator("table").first).to_be_visible()


def test_ask_example_from_welcome(page: Any, sign_in: Callable[..., None]) -> None:
    sign_in("support")
    page.get_by_role("button", name="What is the status of order 1042?").click()
    turn = finished_turn(page)
    expect(turn.locator(".answer")).to_contain_text("1042")
    expect(turn.locator(".agents")).to_contain_text("orders")


def test_resume_thread_from_list(page: Any, sign_in: Callable[..., None]) -> None:
    sign_in("support")
    ask(page, "show the payments of order 5")
    page.get_by_role("button", name="+ New conversation").click()
    expect(page.locator("article.turn")).to_have_count(0)
    page.reload()  # the key stays for the tab's session
    expect(page.locator("#whoami")).to_contain_text(staff_key("support")[0])
    page.locator("#thread-list button", has_text="show the payments of order 5").click()
    expect(page.locator("article.turn.user")).to_contain_text("show the payments of order 5")
    expect(page.locator("article.turn.assistant")).to_contain_text("captured")


def test_resume_pending_approval_after_reload(
    page: Any, sign_in: Callable[..., None], live_server: LiveServer, artifacts: Path
) -> None:
    before = refunded_cents(live_server, RESUMED_ORDER)
    sign_in("manager")
    ask(page, f"refund 10 EUR of order {RESUMED_ORDER}")
    page.reload()  # the address names the conversation; its pending action comes back
    card = page.locator(".approval-card")
    expect(card).to_contain_text("refund_payment")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    page.screenshot(path=artifacts / "resumed-approval.png", full_page=True)
    card.get_by_role("button", name="Reject").click()
    expect(card).to_contain_text("Rejected by you")
    finished_turn(page)
    assert refunded_cents(live_server, RESUMED_ORDER) == before
    assert refund_rows(live_server, RESUMED_ORDER) == 0


def test_send_with_keyboard_keeps_shift_enter_newline(
    page: Any, sign_in: Callable[..., None]
) -> None:
    sign_in("viewer")
    box = page.get_by_role("textbox", name="Message")
    box.type("show the payments")
    box.press("Shift+Enter")
    box.type("of order 5")
    assert box.input_value() == "show the payments\nof order 5"
    box.press("Enter")
    expect(page.locator("article.turn.user")).to_contain_text("of order 5")
    expect(box).to_have_value("")
    finished_turn(page)
    expect(box).to_be_focused()


def test_open_generated_invoice_as_file(
    page: Any, sign_in: Callable[..., None], artifacts: Path
) -> None:
    sign_in("admin")
    turn = ask(page, f"generate the invoice of order {APPROVED_ORDER}")
    link = turn.locator("a.document-link").first
    expect(link).to_contain_text("PDF")
    with page.expect_popup() as opened:
        link.click()
    url = opened.value.url
    assert url.startswith("blob:")
    media_type = page.evaluate("async (url) => (await (await fetch(url)).blob()).type", url)
    assert media_type == "application/pdf"
    expect(link).not_to_contain_text("ready")


def test_phone_layout_opens_conversation_drawer(
    browser: Any, live_server: LiveServer, artifacts: Path
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        color_scheme="dark",
    )
    phone = context.new_page()
    phone.goto("/")
    phone.get_by_label("API key").fill(staff_key("admin")[1])
    phone.get_by_label("API key").press("Enter")
    expect(phone.locator("#threads")).to_be_hidden()
    turn = ask(phone, "which products are low on stock?")
    expect(turn.locator("table").first).to_be_visible()
    phone.screenshot(path=artifacts / "phone-dark-answer.png")
    phone.get_by_role("button", name="Conversations").click()
    expect(phone.locator("#threads")).to_be_visible()
    phone.screenshot(path=artifacts / "phone-dark-drawer.png", animations="disabled")
    phone.keyboard.press("Escape")
    expect(phone.locator("#threads")).to_be_hidden()
    context.close()
