"""What customers and staff write in the demo: return comments, questions, messages."""

RETURN_COMMENTS = {
    "changed_mind": (
        "I found the same model cheaper elsewhere, sorry.",
        "Finally I prefer to keep my old phone, the parcel is unopened.",
        "Gift for my son but he already had one.",
        "Too big for my hands, I want to return it.",
    ),
    "defective": (
        "The battery drains in a few hours even when I don't use it.",
        "The screen flickers when brightness is low.",
        "Left earbud does not charge in the case.",
        "Wi-Fi keeps disconnecting every few minutes.",
        "The laptop does not boot anymore, black screen.",
    ),
    "not_as_described": (
        "Listed as grade A but there are visible scratches on the screen.",
        "The keyboard is QWERTY, the listing said AZERTY.",
        "Battery health is 79%, the listing promised more than 85%.",
    ),
    "damaged_in_transit": (
        "The box arrived crushed and the screen is cracked.",
        "Parcel was open on arrival and the charger is missing.",
    ),
    "wrong_item": (
        "I ordered the blue one and received black.",
        "Received 128 GB instead of 256 GB.",
    ),
    "other": (
        "Not compatible with my car's CarPlay.",
        "Delivered too late for the birthday.",
        "The colour does not look like the photos.",
    ),
}

QUESTIONS = (
    (
        "Where is my parcel?",
        "Tracking has not moved for three days, can you check with the carrier?",
    ),
    ("Invoice request", "Could you send me an invoice with my company name for this order?"),
    (
        "Change of delivery address",
        "I made a mistake in my address, can you change it before shipping?",
    ),
    ("Warranty question", "Is the warranty still valid if I change the battery myself?"),
    ("Delivery time", "Can I still receive the order before the weekend?"),
    ("Payment question", "I was charged twice on my card, can you check?"),
    ("Compatibility", "Does this model work with a French SIM card from Free?"),
)

COMPLAINTS = (
    ("Late delivery", "The order was promised in 48 hours, it has been a week."),
    ("Damaged item", "The product arrived with a scratch on the screen, I am very disappointed."),
    ("No answer from support", "I sent two emails and nobody answered me."),
    ("Refund not received", "My return was accepted ten days ago and I still have no refund."),
    ("Wrong product", "I received a different colour than the one I ordered."),
)

MARKETPLACE_QUESTIONS = (
    (
        "Battery health",
        "Hello, what is the battery health of this phone exactly?",
        "Hello, every refurbished phone we ship has a battery above 85% of its original capacity. Best regards, Maison Lumen",
    ),
    (
        "Delivery delay",
        "Bonjour, my order has not shipped yet, when will it leave?",
        "Hello, your order leaves our Lyon warehouse today; you will receive the tracking number by e-mail. Maison Lumen",
    ),
    (
        "Charger included?",
        "Is a charger included in the box?",
        "Hello, the phone comes with a USB-C cable; the power adapter is sold separately. Maison Lumen",
    ),
    (
        "Invoice",
        "Can I get an invoice with VAT for my company?",
        "Hello, the invoice is available in your account on the marketplace; we have also attached it here. Maison Lumen",
    ),
    (
        "Return",
        "The phone does not suit me, how do I return it?",
        "Hello, you can open a return from your order page within 30 days; we will send you a prepaid label. Maison Lumen",
    ),
    (
        "Unlocked?",
        "Is the phone unlocked for all carriers?",
        "Hello, yes, all our phones are unlocked and work with every French carrier. Maison Lumen",
    ),
    (
        "Scratch on the screen",
        "I received the phone with a small scratch, is this normal for grade A?",
        "Hello, grade A should show no visible marks; we are sorry. We can exchange it or offer a partial refund. Maison Lumen",
    ),
)

SURVEY_COMMENTS = {
    5: ("Perfect, fast delivery and the phone looks new.", "Very good service, I recommend.", None),
    4: ("Good product, delivery a bit slow.", "Happy with the purchase.", None),
    3: ("Correct but the box was damaged.", "Average, the battery could be better.", None),
    2: ("Delivery was late and nobody warned me.", "Product has more scratches than described."),
    1: (
        "Received a faulty product and the support was slow.",
        "Never received the invoice I asked for.",
    ),
}

WARRANTY_FAULTS = (
    "Battery no longer holds charge beyond two hours.",
    "Touch screen unresponsive in the lower part.",
    "Charging port loose, charges only at an angle.",
    "Speaker crackles at medium volume.",
    "Laptop fan very noisy and the machine overheats.",
    "Bluetooth does not pair any more.",
    "Face ID unavailable after a software update.",
    "Keyboard keys E and R no longer respond.",
)
