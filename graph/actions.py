"""The actions a request names, in the words merchants use ("cancel", "call off", "kill"),
mapped to the tool-name prefixes that do them; shared by the router (to tell a clause that
asks for something from one that only gives context) and the offline planner."""

import re

# Words naming an action, and the tool-name prefixes that do it.
ACTION_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("raise the", "bump the", "raise its", "raise her", "raise his", "raise their"),
     ("update_", "set_")),  # a number, not an alert to raise
    (("drop the card authorisation", "drop the card authorization", "drop the authorisation",
      "drop the authorization", "cancel the authorisation", "cancel the authorization",
      "release the authorisation", "release the authorization", "release the card authorisation",
      "release the card authorization"), ("void_",)),
    (("open a return", "start a return", "create a return", "log a return", "a return for",
      "open the return", "open her return", "open his return", "open their return"),
     ("request_return",)),
    (("set up a", "set up an", "open a", "open an", "opening a", "opening an"),
     ("create_", "raise_", "schedule_", "add_", "file_", "request_")),
    (("phoned in an order", "called in an order", "rang in an order", "order by phone",
      "order over the phone", "phone order", "telephone order"), ("create_order",)),
    (("an account", "a support account", "an admin account", "a manager account",
      "a viewer account"), ("create_staff_user",)),
    (("write a draft", "write an article", "write a help article", "write a new article",
      "draft an article", "a new article", "a kb article", "a help article", "an faq article"),
     ("create_article",)),
    (("connect our", "connect a", "connect the", "connect my", "hook up", "plug in"),
     ("create_connection",)),
    (("big picture", "how is everything", "system is doing", "system's doing", "doing overall",
      "overall health", "db ok", "database ok", "on fire", "anything wrong",
      "anything broken"), ("system_overview",)),
    (("whole file", "her file", "his file", "full file", "everything we have on",
      "whole history", "full history", "history with us"), ("customer_360",)),
    (("points ledger", "loyalty points", "points balance", "how many points", "loyalty ledger"),
     ("get_loyalty",)),
    (("event trail", "audit trail", "event log", "event history", "events of", "who changed",
      "who touched", "who did what"), ("list_events",)),
    (("agent health", "agents health", "health check", "no heartbeat", "which agents"),
     ("agents_health",)),
    (("an api key", "a new api key", "a new key", "a key for", "a key called", "a key named"),
     ("create_api_key",)),
    (("best carrier", "cheapest carrier", "fastest carrier", "which carrier should",
      "carrier should we use", "which carrier would", "what carrier would", "which carrier do",
      "which carrier to", "carrier would you", "carrier do you recommend", "pick a carrier",
      "choose a carrier", "pick the carrier", "choose the carrier"),
     ("select_carrier",)),
    (("carrier charge", "carriers charge", "carrier would charge", "carriers would charge",
      "cost to send", "cost to ship", "cost us to send", "cost us to ship"), ("quote_rates",)),
    # the carrier settled on: "ok go with DPD", "book it with that one"
    (("go with", "book it with", "book them with", "book with", "ship it with", "ship it via",
      "send it with", "send it via"), ("create_shipment",)),
    (("payment to shipping", "payment and shipping", "payment to dispatch", "time to ship",
      "ship within", "ships within", "shipping within",
      "time to dispatch", "go out within", "goes out within", "went out within",
      "shipped within", "sent within", "how fast did", "dispatched within", "lead time",
      "fulfilment time", "fulfillment time", "out the door"), ("warehouse_performance",)),
    (("fail to come in", "failed to come in", "didn't come in", "didn't come through",
      "did not come in", "never came in", "never came through", "fail to sync", "failed to sync",
      "fail to import", "failed to import"), ("list_marketplace_orders",)),
    (("latest tracking", "tracking update", "pull the tracking", "get the tracking",
      "check the tracking", "refresh the tracking"), ("track_",)),
    (("value at cost", "stock value", "value of our stock", "value of the stock",
      "inventory value", "worth at cost", "value of everything"), ("inventory_value",)),
    (("can be closed", "can be resolved", "can be dismissed", "can be cleared"), ("resolve_",)),
    (("where her parcel", "where his parcel", "where their parcel", "where the parcel",
      "where the package", "where my parcel"), ("track_",)),
    (("helpful", "useful", "did not help", "didn't help"), ("mark_article_helpful",)),
    (("answered her survey", "answered his survey", "answered the survey", "answered their survey",
      "survey came back", "came back by email", "came back by phone", "survey answer"),
     ("record_survey_response",)),
    (("are left", "left in", "units left", "have left"), ("get_stock",)),
    (("set to", "currently set", "current value", "we have set", "we've set", "have we set",
      "you have set"), ("get_config",)),
    (("address of", "details of", "details on"), ("get_",)),
    (("should be", "should cost"), ("update_variant_price", "update_")),
    (("as degraded", "as down", "as healthy", "heartbeat"), ("record_heartbeat",)),
    (("at risk", "exposed", "exposure", "how risky", "risk of", "risk score", "in danger",
      "in any danger"), ("assess_risk",)),
    (("was delivered", "been delivered", "got delivered", "were delivered"), ("mark_delivered",)),
    (("stop sending", "unsubscribe", "opt out", "opted out", "off our marketing",
      "off the marketing", "off marketing", "off our mailing", "off the mailing",
      "off the newsletter", "off our newsletter"), ("update_",)),
    (("saved cards", "payment methods"), ("list_payment_methods",)),
    (("how full", "room left", "space left", "occupancy", "still have room", "still has room",
      "still have space", "still has space"), ("warehouse_capacity",)),
    (("payment providers", "payment provider", "gateways", "fees of each", "fees for each",
      "fees per", "fees of every", "fees by"), ("list_gateways",)),
    (("from the supplier", "from our supplier", "supplier delivery"), ("record_movement",)),
    (("lift the block", "lift that block", "lift this block", "lift her block", "lift his block",
      "lifting the block", "lifting that block", "lift the ban", "remove the block",
      "remove that block"), ("unblock_",)),
    (("block list", "blocklist", "blocked list", "on our blacklist", "blacklisted"),
     ("list_blocked",)),
    (("plugged into", "connected to"), ("list_connections",)),
    (("compared to what we have", "sales compared", "sell through", "sales against stock",
      "sales vs stock", "sales versus stock", "days of cover", "days of stock", "weeks of cover",
      "weeks of stock", "days cover", "at the current pace", "at this pace",
      "at the current rate", "last us"), ("product_inventory_analytics",)),
    (("buffer",), ("update_connection",)),
    (("expiry", "expire"), ("expire_",)),
    (("run out", "running out", "low stock", "out of stock", "low on", "restock"),
     ("low_stock_",)),
    (("best seller", "bestseller", "best-selling", "top selling", "sold the most"),
     ("product_analytics",)),
    (("adjust", "adjustment", "write off", "missing", "damaged", "stock count",
      "correct the stock", "fix the stock", "came up short",
      "short on", "crushed", "got broken", "out of the stock", "out of stock count"),
     ("record_movement",)),
    (("where have we got", "where do we have", "which warehouses have", "which sites have",
      "in which warehouse", "in which warehouses"), ("product_availability",)),
    (("send back", "bring back", "wants to return", "send something back", "send it back",
      "send them back", "send the item back", "sending it back"), ("request_return",)),
    (("reserved", "set aside for"), ("list_reservations",)),
    (("defect rate", "quality metrics", "failure rate"), ("product_quality_metrics",)),
    (("listed", "listing", "offers"), ("list_offers",)),
    (("slow", "latency", "how fast", "error rate", "response time"), ("performance_",)),
    (("note", "log"), ("record_", "receive_")),  # "log the return that came back"
    # "her email is wrong in the system: it's ..."
    (("is wrong", "was wrong", "are wrong", "wrong in the system", "correct her", "correct his",
      "fix her", "fix his"),
     ("update_",)),
    # a product's or an article's status, not a price
    (("archive", "publish", "unpublish", "back to draft", "off the shop", "off sale"),
     ("update_product", "update_article", "update_offer", "update_category")),
    (("promote", "demote"), ("update_staff_user", "update_")),
    (("reprice", "price at", "set the price", "put the price"),
     ("update_variant_price", "update_")),
    (("reorder point", "to bin", "bin location", "new bin", "safety stock", "move it to bin",
      "move them to bin", "put it in bin", "put them in bin"),
     ("update_stock_settings",)),
    (("mark it failed", "mark it as failed", "mark it passed", "mark it as passed",
      "mark as failed", "mark as passed", "are checked", "were checked", "been checked",
      "all passed", "checked, all good"), ("complete_",)),
    (("mark",), ("mark_",)),
    (("on her profile", "on his profile", "on her record", "on his record", "on their profile",
      "to her profile", "to his profile"), ("update_",)),  # "put 'Faure SARL' on her profile"
    (("complained to us", "complained before", "contacted us", "got in touch", "called us before",
      "past complaints", "previous complaints", "earlier complaints"), ("list_interactions",)),
    (("where do we send", "where do we ship", "where does she live", "where does he live",
      "where do they live"), ("list_addresses",)),
    (("full picture", "whole picture", "complete picture", "everything about", "360",
      "overview of customer", "full profile", "full customer profile", "whole profile"),
     ("customer_360",)),
    (("stock of", "stock for", "units of", "how many units", "on hand"), ("get_stock",)),
    (("pick list", "picking list"), ("pick_list",)),
    (("do we have any", "do we sell", "do we carry", "looking for", "we carry", "we stock"),
     ("search_",)),
    (("charge", "take the payment", "take payment", "pay with", "test card", "run the card",
      "pays by card", "pay by card", "paying by card", "pays with", "pays now", "pay now"),
     ("process_",)),
    (("is now", "it's now", "now costs", "changed to", "her new", "his new", "their new",
      "new phone is", "new email is", "now has", "now have",
      "new email for", "new mobile", "new phone number", "new number", "new e-mail",
      "new phone for", "new number for", "new name", "new description",
      "swap", "replace", "goes up to", "go up to", "goes down to", "go down to",
      "should be called", "be renamed", "now called"), ("update_",)),
    (("what do we tell", "what should we tell", "what do i tell", "what should i tell",
      "what do we say", "what should i say", "what do we answer", "what should we answer"),
     ("search_",)),
    (("search", "look for", "policy", "policies", "how do", "how to", "how can", "how long",
      "what is our",
      "what's our", "can we", "are we allowed", "procedure", "what do i do", "what should i do",
      "what do we do", "what should we do"), ("search_",)),
    (("anomaly", "anomalies", "unusual", "spike", "abnormal", "strange", "weird", "odd"),
     ("detect_",)),
    (("on the blocklist", "on the blacklist", "to the blocklist", "to the blacklist",
      "on our blocklist"), ("block_",)),  # "put 185.220.101.34 on the blocklist"
    (("unblock", "whitelist", *(f"{verb} {which} {noun}" for verb in ("lift", "remove", "end")
                                 for which in ("the", "that", "this", "a", "his", "her", "their")
                                 for noun in ("block", "ban"))),
     ("unblock_",)),
    (("block", "ban", "blacklist"), ("block_",)),
    (("to processing", "as processing", "in processing", "as shipped", "to shipped"),
     ("update_order_status",)),
    (("free them up", "free it up", "unreserve", "no longer needed", "not needed"),
     ("release_",)),
    (("came in and went out", "in and out", "units in and out", "movements by", "in vs out",
      "in versus out", "in v out"),
     ("movement_analytics",)),
    (("available", "availability", "warehouse by warehouse"), ("product_availability",)),
    (("test mode", "live mode", "live or", "sandbox mode"), ("list_gateways",)),
    (("stop her order", "stop his order", "stop the order", "stop their order"), ("cancel_",)),
    (("cancel", "annul", "call off", "kill", "scrap", "be cancelled", "be canceled",
      "cancelled", "canceled"), ("cancel_",)),  # "he wants the case he ordered cancelled"
    (("refund", "reimburse", "money back", "goodwill gesture", "€ back", "euros back",
      "eur back"), ("refund_",)),
    (("track", "where is", "where's"), ("track_",)),
    (("ship", "dispatch", "send out"), ("create_shipment",)),
    (("invoice",), ("generate_invoice",)),
    (("packing slip",), ("generate_packing_slip",)),
    (("credit note",), ("generate_credit_note",)),
    (("label",), ("generate_shipping_label",)),
    (("generate", "print", "make", "produce"), ("generate_",)),
    (("reserve", "hold back", "set aside", "aside"), ("reserve_",)),
    (("release",), ("release_",)),
    (("transfer", "move"), ("transfer_",)),
    (("sync", "import", "pull", "fetch"), ("sync_",)),
    (("push", "resend", "re-send", "send our stock", "send the stock"), ("push_",)),
    (("reply", "send", "write to", "answer the"), ("send_",)),
    (("delete", "remove", "drop", "get rid of", "take down", "trash"), ("delete_",)),
    (("rename", "retitle", "change", "update", "edit", "modify", "set", "extend", "shorten",
      "lower", "increase", "decrease", "bump"), ("update_", "set_")),
    (("schedule", "plan", "book", "quality check"), ("schedule_",)),
    (("start", "begin", "kick off", "in progress"), ("start_",)),
    (("complete", "finish", "close", "passed", "failed"), ("complete_", "resolve_")),
    (("on hold", "hold order", "hold the order", "hold it", "park it", "park the order",
      "park order"), ("hold_",)),
    (("freeze",), ("hold_", "block_")),  # an order held, an account blocked
    (("let it go", "let it ship", "let it out", "lift the hold", "off hold"),
     ("release_order_hold",)),
    (("discuss", "talked", "spoke", "contact history"), ("list_interactions",)),
    (("authorize", "approve", "accept", "ok with me", "okay with me", "fine with me",
      "send him the return label", "send her the return label", "send them the return label"),
     ("authorize_", "decide_")),
    (("reject", "decline", "refuse", "deny"), ("reject_", "decide_")),
    (("received", "arrived", "came back", "receive", "came in", "got in", "is back at",
      "are back at", "back at the warehouse", "back in the warehouse", "got it back"),
     ("receive_", "record_movement")),
    (("inspect",), ("inspect_",)),
    (("redeem", "use points", "convert points", "into vouchers", "for vouchers", "in vouchers",
      "use her points", "use his points", "use their points", "use her lumen club points",
      "use his lumen club points", "cash in"), ("redeem_",)),
    (("erase", "forget", "gdpr", "right to be forgotten", "personal data", "wipe his data",
      "wipe her data", "wipe their data", "wipe his account", "wipe her account",
      "wipe the account", "wipe everything"),
     ("erase_",)),
    # a member of staff gone: "cut off his access", "she left the company"
    (("cut off his access", "cut off her access", "cut his access", "cut her access",
      "remove his access", "remove her access", "revoke his access", "revoke her access",
      "left the company", "left the compagny", "no longer works here", "has left us",
      "last day was", "can no longer sign in", "no longer sign in", "no longer log in"),
     ("deactivate_staff_user",)),
    (("numbers for today", "today's numbers", "numbers today", "figures for today",
      "today's figures", "how did today go", "how did yesterday go"), ("dashboard_metrics",)),
    (("deactivate", "disable", "stop using", "pause", "suspend", "switch off", "turn off",
      "not using", "closing", "close down", "shut down", "out of service", "take it out of",
      "stop offering", "done with", "no longer use"), ("deactivate_", "update_")),
    (("revoke", "kill that key", "kill the key", "kill her key", "kill his key", "kill the api key",
      "kill her api key", "kill his api key"), ("revoke_",)),
    (("add the tag", "add a tag", "add the tags", "add tags", "add tag"), ("update_article",)),
    (("resolve", "fix", "clear"), ("resolve_",)),
    (("acknowledge", "ack", "as acknowledged"), ("acknowledge_",)),
    (("quote", "how much to ship", "shipping cost", "rates for", "cost to send",
      "cost to ship", "price to send", "price to ship", "how much to send"), ("quote_",)),
    (("capture",), ("capture_",)),
    (("void",), ("void_",)),
    (("create", "add", "register", "file", "raise", "request", *(
        f"new {noun}" for noun in ("customer", "product", "warehouse", "carrier", "article",
                                   "category", "alert", "offer", "listing", "staff", "user",
                                   "rate", "connection", "sku", "variant", "supplier", "site"))),
     ("create_", "add_", "file_", "request_", "raise_", "record_")),
    (("who changed", "who touched", "who modified", "who updated", "who edited", "who set",
      "who lowered", "who raised", "was it before", "previous value"), ("config_history",)),
    (("fraud history", "history of", "ever been flagged", "flagged before"),
     ("customer_fraud_history", "config_history")),
    (("fraud check", "check fraud", "fraud score", "fraud risk", "suspicious", "risky", "score",
      "fraud", "fraudster", "check him", "check her", "check them", "check the customer"),
     ("check_",)),
    (("who is",), ("list_customers", "get_customer", "customer_360")),
    (("who are",), ("list_customers",)),
    (("worth", "stock value", "inventory value", "value of our stock"), ("inventory_value",)),
    (("systems", "system overview", "overall health"), ("system_overview",)),
    (("nps", "satisfaction", "how satisfied"), ("survey_stats",)),
    (("list", "show me the", "show me all", "show all", "show the", "show our"), ("list_",)),
)  # fmt: skip


# A question about what exists ("any invoices for 3960?", "is there a label?", "her invoice
# number"): the document it names is what it looks for, not one to make.
ALREADY_THERE = re.compile(
    r"\s*(?:any|are there|is there)\b|.*\b(?:invoice|credit note) (?:number|no)\b|"
    r".*\bnumber of (?:the|her|his|their|its) (?:invoice|credit note)\b"
)
ALREADY_MADE = re.compile(
    r"\b(?:has|have|had|was|were) (?:any|an?|the|one|anything)\b[\w ]{0,30}? "
    r"(?:been |already |ever )*"
    r"(?:generated|issued|made|created|produced|printed)\b|"
    r"\bdid we (?:ever |already )?(?:issue|generate|make|create|produce|print)\b|"
    r"\b(?:have|has) (?:an?|any) (?:invoice|credit note|packing slip|label)s? (?:yet|already)\b"
)
DOCUMENT_NOUNS = re.compile(r"\b(?:invoices?|packing slips?|credit notes?|labels?)\b")
QUESTION = re.compile(r"\s*(?:which|what|who|how many|are there|is there|any|show|list)\b")
# Words that name an action in a request and a state in a question ("which inspections
# failed?", "what addresses have we got on file?")
STATE_WORDS = frozenset(
    {"passed", "failed", "received", "arrived", "came back", "file", "set", "cancelled", "canceled"}
)
# "expires 08/2029": a card's expiry date, not unpaid orders to expire
CARD_EXPIRY = re.compile(r"\bexp(?:ires?|iry|iring|\.)?\s*:?\s*(?:on |in )?\d{1,2}\s*/\s*\d{2,4}")
# "score 2, nps 3": values given, not a score or an NPS to compute
SCORE_GIVEN = re.compile(r"\b(?:nps|score|rating)\s*(?:of\s*)?:?\s*\d+(?:\s*/\s*\d+)?")
# Why a person is blocked (an e-mail or an IP is looked up in the block list instead)
WHY_BLOCKED = re.compile(r"\bwhy\b(?![^?]*(?:@|\d+\.\d+\.\d+))[^?]{0,40}\bblocked\b")
SENT_OVER = re.compile(
    r"\b(?:send|ship|bring|move)\b[^.;?]{0,30}?\b(?:over|down|up|across)\b[^.;?]{0,20}?\bfrom\b"
)
# A customer's answer to a survey, given as marks: "her survey: 4 out of 5, 9/10", "3 stars"
SURVEY_MARKS = re.compile(
    r"\b(?:survey|questionnaire|nps|rated|gave)\b[^.?!]{0,60}?"
    r"\b\d{1,2}\s*(?:/\s*(?:5|10)\b|out of (?:5|10)\b|stars?\b)"
)
CARD_TO_SAVE = re.compile(
    r"\b(?:save|store|add|register|keep)\b.{0,20}\b(?:card|mastercard|visa|amex)\b(?!s? on file\b)"
)
# "what cards does customer 1 have on file?": the cards saved, not one to add
CARDS_HELD = re.compile(r"\b(?:what|which|any) (?:saved )?cards?\b")
# A count against the books: "only 1 on the shelf but the system says 8", "we counted 3, it
# shows 5"
COUNTED = re.compile(
    r"\b(?:only|counted|found|there (?:are|is)|we have)\s+(\d{1,5})\b.{0,60}?\b(?:system|comptoir|"
    r"it|stock|the books?|screen)\s+(?:says?|shows?|has|thinks?|reads?|gives?)\s+(\d{1,5})\b"
)
# The same, the system's figure first: "system says 8 on hand, the shelf has 7"
BOOKED_THEN_COUNTED = re.compile(
    r"\b(?:system|comptoir|stock|the books?|screen)\s+(?:says?|shows?|has|thinks?|reads?)\s+"
    r"(\d{1,5})\b.{0,60}?\b(?:shelf|shelves|we|count|counted|found|actually|physically|really)\b"
    r"(?:\s+(?:has|have|had|shows?|found|counted|is|are|only))*\s+(\d{1,5})\b"
)
# A question about the whole shop, asked first: "how are we doing today?", "how's business?"
SHOP_AT_LARGE = re.compile(r"\s*how(?: are|'s| is) (?:we|things|business)\b(?: doing| going)?")
# A warranty claim, by its number, and what was done about it
WARRANTY_DECIDED = re.compile(
    r"\b(?:war[ -]\d{4}[ -]\d+|warranty claim \d+|claim \d+)\b.*\b(?:repair\w*|replac\w*|refund\w*|"
    r"reject\w*|approv\w*|clos\w*)"
)
# The order amount from which shipping is free, given: "free delivery on the shop from 79€"
FREE_SHIPPING_FROM = re.compile(
    r"\bfree (?:shipping|delivery)\b.{0,30}\b(?:from|over|above|at|to|starts? at) \d"
)
# A weight band's new price: "France standard up to 1 kg is now 7,60€", "<1kg to 17,90 HT"
NEW_RATE = re.compile(
    r"(?:\b(?:up to|under|below|max)\s*|<\s*)\d+(?:[.,]\d+)?\s*(?:kgs?|g)\b.{0,40}?"
    r"\b(?:is now|now|to|at)\s*\d+(?:[.,]\d+)?"
)
# "2 teal JBL Flip 6 from Paris to Lyon": a count of stock from one site to another (a price
# "from 50 to 60" is not, nor "the time from payment to shipping")
BETWEEN_PLACES = re.compile(r"\b\d+\b[^.;?]{0,60}?\bfrom [a-z][a-z -]{2,30}? to [a-z]")
# "which Colis Privé parcels are still on the road?": the shipments, not the carrier named
PARCELS_ASKED = re.compile(
    r"\b(?:which|what|any|how many)\b(?:(?!\b(?:order|customer)\b).){0,40}"
    r"\b(?:parcels|packages|shipments)\b"
)
# A hold on a customer's card, put ("put a hold for 3928 on the card 4242…") or let go
# ("release the hold on his card"): a card authorisation, not an order held
CARD_HOLD = re.compile(
    r"\b(?:(put|place|take)|release|drop|remove|lift|cancel|undo)s? (?:an?|the) hold\b"
    r"[^.;?]{0,40}?\bon (?:the|his|her|their|a) card\b|"
    r"\bthe hold on (?:the|his|her|their) card (?:released|removed|lifted|dropped|cancell?ed)\b"
)
# A customer's contact details asked: "what's Valérie Morel's email?", "give me his phone"
CONTACT_ASKED = re.compile(
    r"\b(?:what(?:'s| is| are)|give me|find|send me|need)\b[^?.!]{0,40}\b(?:e-?mail(?: address)?|"
    r"phone(?: number)?|mobile(?: number)?|contact details)\b(?! is\b)(?=[^?.!]*(?:\?|$))|"
    r"'s (?:e-?mail|phone|mobile)(?: number| address)?\s*(?:\?|$)"
)
# A customer's new home, its street and postcode given: "moved: 14 rue des Carmes, 31000
# Toulouse", "her new address for deliveries: 8 quai de la Douane, 29200 Brest"
NEW_HOME = re.compile(
    r"\b(?:moved|new (?:home|address)|relocated)\b[^.?!]{0,120}?\b\d{1,4}(?: ?(?:bis|ter))?,? "
    r"(?:rue|avenue|av|boulevard|bd|place|quai|all[ée]e|chemin|impasse|route|cours|street|road|"
    r"lane)\b[^.?!]{0,60}\b\d{5}\b"
)
# "she wants 2 Anker PowerCore 10000": an order to take
NEW_ORDER = re.compile(r"\bwants? (?:to (?:buy|order) )?\d+ [a-z]")
CHANGE_TO = re.compile(
    r"\b(?:drop|cut|lower|reduce|bring down|raise|bump|increase|decrease)\b(?=(?:[^.;?]|"
    r"\.(?=\d)){0,60}?\bto \d)"  # "drop it from 128.99 to 119": a decimal point ends nothing
)
NEW_PRICE = re.compile(r"(?:\bat|→|->|=) ?\d+(?:[.,]\d+)? ?(?:€|eur\b|euros?\b)")
# "make Lucas Petit a manager": a role to change, not a document to make
NEW_ROLE = re.compile(r"\bmake\b.{1,40}\ban? (?:admin|manager|viewer|support)\b")
# "list the black JBL Flip 6 on Amazon at 129,90": an offer to put up, not a listing to read
NEW_OFFER = re.compile(
    r"\b(?:list|put|sell)\b(?![^.;?]*\b(?:offers?|listings?)\b)[^.;?]{1,60}?\bon (?:amazon|"
    r"cdiscount|back ?market|ebay|fnac|refurbed|mirakl|connection \d+)\b[^.;?]{0,30}?\bat \d"
)
# "it has 3000 locations now", "we now hold 40": a new figure to record
NOW_HOLDS = re.compile(r"\b(?:has|have|holds?|takes?|it'?s|it is) \d[\d ,.]*\s*[a-z]+ now\b")
# An action ruled out: "don't cancel it", "so nobody ships it", "no need to refund"
NEGATED = re.compile(
    r"\b(?:don'?t|do not|does not|doesn'?t|never|no need to|not to|nobody|no one|without|"
    r"hasn'?t|has not|haven'?t|have not|won'?t|will not|can'?t|cannot|couldn'?t|could not|"
    r"before (?:i|we|you)|until (?:i|we|you))(?: \w+ly)? \w+"
)
# "the refund rate", "return rates": a measure, not a refund or a return to make
RATE = re.compile(r"\b(?:refund|return|cancel(?:lation)?|chargeback|block)s? (?=rates?\b)")
# "the stock movements spike alert": the alert's name, not a scan to run
ALERT_KIND = re.compile(r"\b(?:spike|anomaly|drop|surge|dip) (?=alerts?\b)")
# "the whole picture: orders, refunds, anything open": things to show, listed, not verbs
LISTED_NOUNS = re.compile(r"\b[a-z]+s(?:,(?: and)? [a-z]+s\b)+")


def word_pattern(word: str, endings: str = "s|es|d|ed|ing") -> re.Pattern[str]:
    """A word or phrase with its usual English endings (return, returns, returned)."""
    key = f"{word}/{endings}"
    if key not in _PATTERNS:
        _PATTERNS[key] = re.compile(rf"\b{re.escape(word)}(?:{endings})?\b")
    return _PATTERNS[key]


_PATTERNS: dict[str, re.Pattern[str]] = {}


def first_position(text: str, words: tuple[str, ...], endings: str = "s|es|d|ed|ing") -> int | None:
    """Where the earliest of `words` appears in `text` (as whole words), if any."""
    positions = [m.start() for word in words if (m := word_pattern(word, endings).search(text))]
    return min(positions) if positions else None


# Action words in phrases that name none: "the rate on file", "the scorecard came in at 86%"
NOT_ACTIONS = re.compile(r"\b(?:on|in) (?:the |our )?files?\b|\bcame in at(?= \d)")


def _meant(lowered: str) -> str:
    """The words of a request that can name an action: without values given (a card's expiry,
    a score), lists of things, alerts' and rates' names, and actions ruled out."""
    lowered = NOT_ACTIONS.sub(" ", CARD_EXPIRY.sub(" ", SCORE_GIVEN.sub(" ", lowered)))
    lowered = ALERT_KIND.sub("", LISTED_NOUNS.sub(" ", lowered))
    return NEGATED.sub(" ", RATE.sub("", lowered)).replace("-", " ")


def distinct_actions(lowered: str) -> list[tuple[str, ...]]:
    """The actions of the action words a request says, in order, leaving out a word inside a
    longer one said ("block" in "lift the block", "list" in "pick list")."""
    spans: list[tuple[int, int, tuple[str, ...]]] = []
    lowered = _meant(lowered)
    for words, prefixes in ACTION_WORDS:
        for word in words:
            if match := word_pattern(word, "s|es").search(lowered):
                spans.append((match.start(), match.end(), prefixes))
    kept = [
        (start, prefixes) for start, end, prefixes in spans
        if not any(s <= start and end <= e and (s, e) != (start, end) for s, e, _ in spans)
    ]  # fmt: skip
    ordered: list[tuple[str, ...]] = []
    for _, prefixes in sorted(kept, key=lambda pair: pair[0]):
        if prefixes not in ordered:
            ordered.append(prefixes)
    return ordered


# The verbs and small words of tool names: what is left names what a tool is about
TOOL_VERBS = frozenset(
    {"get", "list", "create", "update", "delete", "add", "set", "by", "of", "to"}
)


def tool_words(name: str, drop: frozenset[str] = TOOL_VERBS) -> list[str]:
    """The words of a tool's name, singular, but `drop`: list_shipments -> ["shipment"]."""
    return [word.removesuffix("s") for word in name.split("_") if word not in drop]


def hits(text: str, words: tuple[str, ...]) -> int:
    return sum(1 for word in words if word_pattern(word).search(text))


def actions(lowered: str) -> list[tuple[str, ...]]:
    """The tool-name prefixes of the actions a request names, the one said first first
    ("show me the return requests": a listing, not a new return). Verbs count in their base
    form only: "who is blocked" asks about a state, it does not block anyone."""
    marks = SURVEY_MARKS.search(lowered)
    lowered = _meant(lowered)
    question = QUESTION.match(lowered) is not None
    found: list[tuple[int, int, tuple[str, ...]]] = []
    # "any invoices already made for 3960?", "has any document been generated yet?": a listing
    if ALREADY_THERE.match(lowered) or ALREADY_MADE.search(lowered):
        lowered = DOCUMENT_NOUNS.sub(" ", lowered)
        found.append((0, -1, ("list_",)))
    for rank, (words, prefixes) in enumerate(ACTION_WORDS):
        if question:  # "which inspections failed?" asks about a state
            words = tuple(word for word in words if word not in STATE_WORDS)
        position = first_position(lowered, words, endings="s|es")
        if position is not None:
            found.append((position, rank, prefixes))
    if change := CHANGE_TO.search(lowered):  # "drop the Anker charger to 21,90€": not a delete
        found.append((change.start(), -1, ("update_", "set_")))
    if price := NEW_PRICE.search(lowered):  # "the JBL Flip 6 black at 119 euros"
        found.append((price.start(), -1, ("update_variant_price", "update_")))
    if role := NEW_ROLE.search(lowered):
        found.append((role.start(), -1, ("update_staff_user",)))
    if order := NEW_ORDER.search(lowered):
        found.append((order.start(), -1, ("create_order",)))
    if marks:  # the answer to record comes before "satisfaction" names the statistics
        found.append((0, -1, ("record_survey_response",)))
    if threshold := FREE_SHIPPING_FROM.search(lowered):
        found.append((threshold.start(), -1, ("set_config",)))
    if WARRANTY_DECIDED.search(lowered):  # "WAR-2026-000006: no part, refund the customer"
        found.append((0, -1, ("decide_warranty_claim",)))
    # "new tariff: up to 2 kg is now 9,10€": a line's price changes (unless one is added)
    if NEW_RATE.search(lowered) and not re.search(r"\b(?:add|create)\b", lowered):
        found.append((0, -1, ("update_rate",)))
    if between := BETWEEN_PLACES.search(lowered):  # "send 2 from Paris to Lyon"
        found.append((between.start(), -1, ("transfer_",)))
    if why := WHY_BLOCKED.search(lowered):  # "why is Valérie Roux blocked?": her history
        found.append((why.start(), -1, ("customer_fraud_history",)))
    if over := SENT_OVER.search(lowered):  # "Lyon is almost out, send 3 over from Paris"
        found.append((over.start(), -1, ("transfer_",)))
    if SHOP_AT_LARGE.match(lowered):  # "how are we doing today?": the dashboard
        found.append((0, -1, ("dashboard_metrics",)))
    if counted := COUNTED.search(lowered):  # "only 1 on the shelf, the system says 8"
        found.append((counted.start(), -1, ("record_movement",)))
    if parcels := PARCELS_ASKED.search(lowered):  # "which Colis Privé parcels are late?"
        found.append((parcels.start(), -1, ("list_shipments",)))
    if contact := CONTACT_ASKED.search(lowered):  # a profile's field, not a conversation
        found.append((contact.start(), -2, ("get_customer",)))
    if home := NEW_HOME.search(lowered):  # a postal address to add, not a record to edit
        found.append((home.start(), -2, ("add_address",)))
    if hold := CARD_HOLD.search(lowered):
        found.append((hold.start(), -2, ("authorize_",) if hold.group(1) else ("void_",)))
    if card := CARD_TO_SAVE.search(lowered):  # "save a Mastercard on Océane's account"
        found.append((card.start(), -1, ("add_payment_method",)))
    if cards := CARDS_HELD.search(lowered):
        found.append((cards.start(), -1, ("list_payment_methods",)))
    if offer := NEW_OFFER.search(lowered):  # "list the JBL Flip 6 on Amazon at 129,90"
        found.append((offer.start(), -1, ("create_offer",)))
    if holds := NOW_HOLDS.search(lowered):  # "Toulouse got extended, it has 3000 locations now"
        found.append((holds.start(), -1, ("update_",)))
    # an order given at the head of a clause ("..., open a return") comes before what the
    # request only tells ("both cases arrived damaged")
    heads = clause_heads(lowered)
    return [prefixes for _, _, prefixes in sorted(found, key=lambda f: (f[0] not in heads, f))]


def clause_heads(lowered: str) -> set[int]:
    """Where each clause starts: the request's first word, and after a comma or a stop
    ("..., open a return", "... . expire the unpaid orders")."""
    after_a_break = re.finditer(r"[,.;:]\s+(?:(?:and|then|please|pls)\s+)?", lowered)
    return {len(lowered) - len(lowered.lstrip())} | {match.end() for match in after_a_break}
