"""How a merchant's wording is brought to the words routing and planning match on, and how a
request is cut into intents."""

import pytest

from graph.actions import actions
from graph.router import split_intents
from graph.wording import corrected, normalize


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("need to call off a commande", "need to call off a order"),
        (
            "what's our stock at the Marseille entrepôt?",
            "what's our stock at the Marseille warehouse?",
        ),
        ("issue a 2000 euro remboursement pls", "issue a 2000 euro refund please"),
        ("which completed inspecitons failed?", "which completed inspections failed?"),
        ("refurb laptops in our catalgoue", "refurbished laptops in our catalogue"),
        ("I need Sarah Giraud's email adress", "I need Sarah Giraud's email address"),
        ("move one JBL-FLIP6-RED to Lille", "move 1 JBL-FLIP6-RED to Lille"),
        # a French sentence: its phrases, elided articles and opening verb; no "typo" fixed
        ("Mets la commande 3995 en attente stp", "put la order 3995 on hold please"),
        (
            "l'entrepôt de Lille est rempli à combien ?",
            "l'warehouse de Lille how full is it ?",
        ),
        (
            "combien ça coûte d'envoyer un colis de 2 kg en France ?",
            "how much to send un parcel de 2 kg en France ?",
        ),
        # an apostrophe inside a French word quotes nothing
        (
            "Bloque l'adresse IP 185.220.101.34 pendant 30 jours, c'est un nœud Tor pour la "
            "commande 170",
            "block l'address IP 185.220.101.34 for 30 days, c'est un nœud Tor pour la order 170",
        ),
        ("2 800 storage locations, over 2 000 €", "2800 storage locations, over 2000 euros"),
        (
            "Quel est le taux de défauts de l'Apple Watch ?",
            "what est le defect rate de l'Apple Watch ?",
        ),
    ],
)
def test_french_shop_words_shorthand_and_typos_become_the_words_matched_on(
    typed: str, meant: str
) -> None:
    assert normalize(typed) == meant


@pytest.mark.parametrize(
    "kept",
    [
        "units on hand for son-wh1000xm5-blac?",  # a SKU typed in lower case
        "write to camille@atelier-fontaine.fr",  # an e-mail address
        "reply 'merci pour votre commande, le colis part demain'",  # a quoted message
        "she is the one who used it",  # "one" that is not a count
        "Théo Robin wants a refund",  # names
        "wipe the data",  # an English word is not a typo of another ("wire")
        "his number is now +33 6 12 12 12 12",  # a phone number's pairs
        "card 5555 5555 5555 4444",
    ],
)
def test_codes_addresses_quotes_names_and_real_words_are_left_as_typed(kept: str) -> None:
    assert normalize(kept) == kept


def test_a_typo_is_fixed_only_when_one_slip_away() -> None:
    assert corrected("stcok") == "stock"  # two letters swapped
    assert corrected("acount") == "account"  # a letter left out, before one mistyped (amount)
    assert corrected("xqzvtrw") is None


def test_a_scene_setting_clause_joins_the_request_it_explains() -> None:
    assert split_intents(
        "stolen card on payment 3993. refund the full amount, and blacklist customer 148"
    ) == ["stolen card on payment 3993. refund the full amount", "blacklist customer 148"]
    # a question, or a clause with its own ids, stays an intent of its own
    assert split_intents("what is our return window? also cancel order 12") == [
        "what is our return window",
        "cancel order 12",
    ]
    assert split_intents("scrap order 3993, and while you're at it check customer 505") == [
        "scrap order 3993",
        "check customer 505",
    ]


def test_a_question_then_a_request_are_two_intents_and_trailing_context_is_not() -> None:
    assert split_intents("how many JBL-FLIP6-TEAL at Lyon? schedule an audit of 1 unit") == [
        "how many JBL-FLIP6-TEAL at Lyon",
        "schedule an audit of 1 unit",
    ]
    assert split_intents("has order 3990 been paid? if so, generate the invoice") == [
        "has order 3990 been paid",
        "if so, generate the invoice",
    ]
    assert split_intents("is Sarah Giraud legit? new customer, first big order") == [
        "is Sarah Giraud legit? new customer, first big order"
    ]
    assert split_intents("where is order 12. the customer is angry") == [
        "where is order 12. the customer is angry"
    ]


def test_actions_in_merchant_words_and_states_in_questions() -> None:
    assert actions("kill order 3998") == [("cancel_",)]
    assert actions("that order has to be cancelled")[0] == ("cancel_",)
    # an action ruled out is no action
    assert actions("don't cancel it") == []
    assert actions("park it so nobody ships it") == [("hold_",)]
    assert actions("no need to refund, just hold it") == [("hold_",)]
    # the refund rate is a measure, not a refund to make
    assert actions("has the refund rate done anything weird") == [("detect_",)]
    assert actions("which inspections failed?") == []  # a state, not an inspection to close
    assert actions("inspection 12 failed")[0] == ("complete_", "resolve_")
