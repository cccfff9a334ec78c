"""Choosing agents and tools without a language model: embedding similarity (the same index
as the fast router) plus the words merchants use for each domain and each action."""

import re
from dataclasses import dataclass
from typing import Any

from agents import AGENT_SPECS
from graph.actions import (
    ALREADY_MADE,
    COUNTED,
    NEGATED,
    NEW_ORDER,
    TOOL_VERBS,
    actions,
    distinct_actions,
    hits,
    tool_words,
)
from graph.planner.extract import (
    EMAIL,
    MARKETPLACE_NUMBER,
    VERBS,
    Found,
    barcodes,
    person_names,
    plain,
)
from graph.planner.fill import AMOUNT_BOUND, ORDER_RECORDS
from graph.planner.lookups import MARKETPLACE_NAMES
from graph.router import EXAMPLE, QUOTED, WRITTEN, agent_index

# Words that point to a domain. A hit adds to the embedding score; two hits more. "order" is
# left out: it names the context of most requests (an order's invoice, payments, returns).
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "orders": ("commande", "cancel", "cancelled", "placed", "unpaid", "checkout", "ordered",
               "bought", "purchased", "hold"),
    "products": ("product", "catalogue", "catalog", "price", "priced", "variant", "category",
                 "carry", "best seller", "bestseller", "best-selling", "brand", "archive",
                 "barcode", "ean"),
    "marketplace": ("marketplace", "amazon", "cdiscount", "backmarket", "back market", "ebay",
                    "refurbed", "mirakl", "fnac", "offer", "buyer", "sync", "listed", "listing",
                    "buffer", "connection", "reply"),
    "customers": ("customer", "client", "loyalty", "points", "address", "gdpr", "rgpd", "erase",
                  "profile", "vip", "interaction", "complaint", "complain", "contact"),
    "inventory": ("stock", "inventory", "worth", "run out", "running out", "running low", "low on",
                  "out of stock", "reorder", "transfer", "move", "supplier", "write off",
                  "written off", "reserve", "reservation", "aside", "units left", "in stock",
                  "movement", "restock", "do we have", "left", "available"),
    "transport": ("ship", "shipping", "shipment", "carrier", "parcel", "tracking", "track",
                  "delivery", "delivered", "colissimo", "chronopost", "dpd", "ups", "label rate",
                  "quote"),
    "payments": ("payment", "pay", "paid", "refund", "capture", "card", "gateway", "fees", "paypal",
                 "transaction", "charge", "void", "stripe", "authorization", "money back",
                 "reimburse", "sepa", "direct debit"),
    "warehouse": ("warehouse", "pick list", "picking", "capacity", "occupancy", "site",
                  "locations", "how full", "payment to shipping", "payment and shipping",
                  "go out within", "goes out within", "went out within", "shipped within",
                  "dispatched within", "sent within", "how fast did", "lead time",
                  "time to ship", "time to dispatch", "out the door"),
    "documents": ("invoice", "credit note", "packing slip", "label", "pdf", "document", "zpl"),
    "fraud": ("fraud", "fraudulent", "suspicious", "block", "unblock", "blacklist", "scam",
              "stolen card", "chargeback", "legit", "legitimate", "trust", "trustworthy",
              "genuine"),
    "risk": ("risk", "risky", "weird", "odd", "anomaly", "anomalies", "unusual", "spike", "drop",
             "abnormal", "outage", "exposed", "exposure", "acknowledge"),
    "knowledge": ("policy", "how do i", "how do we", "how to", "article", "help", "procedure",
                  "guide", "rule", "faq"),
    "after_sales": ("return", "rma", "warranty", "survey", "satisfaction", "satisfied", "nps",
                    "rated", "broken", "defective", "send back", "send something back",
                    "send it back", "send them back"),
    "backoffice": ("report", "dashboard", "config", "setting", "staff", "api key", "user",
                   "role", "revenue report", "kpi", "threshold"),
    "quality": ("inspection", "inspect", "defect", "quality", "grade", "grading", "refurbish",
                "spot check", "audit", "scratched"),
    "monitoring": ("health", "heartbeat", "system alert", "latency", "uptime", "errors",
                   "is comptoir", "status of the system", "slow", "down", "agent", "event",
                   "response time", "on fire", "system", "incident"),
}  # fmt: skip

MARKETPLACES = r"(?:amazon|cdiscount|back ?market|ebay|fnac|refurbed|mirakl)\b"
# Phrasings that settle the domain more than any single word does.
DOMAIN_PATTERNS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("knowledge", 0.45, re.compile(
        r"\bhow (?:do|should|can|must) (?:i|we)\b|"
        r"\bhow (?:are|am) (?:we|i) (?:supposed|meant) to\b|"
        r"\bwhat (?:do|should|must) (?:i|we) do\b|"
        r"\bprocedure\b|\bpolic(?:y|ies)\b|\b(?:our|the) process\b|\bcan (?:i|we) just\b|"
        r"\b(?:our|the) (?:return|refund|shipping|warranty|delivery) (?:window|policy|deadline|"
        r"period|rules?|terms)\b(?!.*\bset\b)|\bare we allowed\b|"
        r"\b(?:window|deadline|period|duration|length|rules?|terms) (?:de|of|for|on) (?:the |la |"
        r"le |a |our )?(?:returns?|refunds?|shipping|warrant(?:y|ies)|garantie|delivery)\b|"
        r"\bcan (?:a|the) (?:customer|client|buyer)\b|\bis it (?:possible|allowed)\b")),
    # what the shop does as a rule, asked with no order or case to act on: "do we refund the
    # shipping when someone sends stuff back?", "how long do refunds take to show up?"
    ("knowledge", 0.55, re.compile(
        r"^(?!.*\d)(?:.*\b(?:do|does|will|would|should) we (?:\w+ )?(?:refund|reimburse|accept|"
        r"allow|charge|offer|cover|pay|give|take back|exchange|repair|replace|ship)\b|"
        r".*\bhow long\b)")),
    # a new price: "drop the Fairphone 5 in sky blue to 649 euros", "put it at 119,90"
    ("products", 0.3, re.compile(
        r"\b(?:drop|cut|lower|reduce|raise|increase|put|set|sell|bring)\b(?![^.;?]*\b(?:refund|"
        r"back|fee|threshold|shipping)\b)[^.;?]{1,60}\b(?:to|at) \d+(?:[.,]\d+)? ?"
        r"(?:euros?|eur)\b")),
    # the order amount from which shipping is free: a setting, not a carrier's rate
    ("backoffice", 0.45, re.compile(
        r"\bfree (?:shipping|delivery)\b.{0,30}\b(?:from|over|above|threshold|at|to|starts?)\b|"
        r"\bfree (?:shipping|delivery) threshold\b")),
    ("backoffice", 0.3, re.compile(r"\b(?:\w+ )?settings\b(?! of\b)")),
    # a setting's past: "who touched the free shipping threshold, and what was it before?"
    ("backoffice", 0.4, re.compile(
        r"\bwho (?:changed|touched|modified|set|updated|edited|lowered|raised)\b.{0,40}\b(?:"
        r"threshold|setting|window|limit|config\w*|free shipping)\b")),
    # a setting named by what it limits: "the fraud review threshold", "the fraud thresholds"
    ("backoffice", 0.4, re.compile(r"\b(?:fraud|review|block|flag) (?:\w+ )?thresholds?\b")),
    # a setting's current value: "what's the return window set to?"
    ("backoffice", 0.4, re.compile(
        r"\b(?:set to|currently set|current value|what (?:we|you) (?:have|'ve) set|"
        r"have we set|is (?:that|it|this) (?:what is|what's) set)\b")),
    # the help articles: "write a draft help article", "what does the help center say"
    ("knowledge", 0.3, re.compile(r"\b(?:help |faq )?articles?\b|\bhelp cent(?:er|re)\b")),
    ("knowledge", 0.5, re.compile(
        r"\bwhat (?:does|do) (?:the|our|that|this) .{0,40}\b(?:articles?|help cent(?:er|re)|faq|"
        r"guide|polic(?:y|ies)|procedure) (?:say|says|tell)\b")),
    # a setting named by its key (returns.window_days, not a web domain: "the outlook.fr one",
    # "Amazon.de") or changed to a new value
    ("backoffice", 0.4, re.compile(
        r"(?<![@\w.])[a-z_]+\.(?!(?:fr|com|net|org|de|eu|io|co|uk|es|it|be)\b)[a-z_]+(?![\w@.])|"
        r"\b(?:extend|shorten|lower|raise|increase|"
        r"decrease|change|set|drop|bump|reduce|cut)\b.{0,40}\b(?:window|threshold|limit|setting|config)")),
    ("backoffice", 0.25, re.compile(
        r"\b(?:an? |as )?(?:admin|manager|viewer|support)(?: account| user| role)?\b.{0,30}|"
        r"\bstaff\b|\bapi keys?\b|\baccount for\b")),
    ("orders", 0.25, re.compile("|".join((
        r"\bnew (?:\w+ )?order\b",
        r"(?<!can't )(?<!cannot )(?<!couldn't )(?<!not )\b(?:place|create) an? (?:\w+ )?order\b",
        r"\b(?:called|phoned|emailed) in an? (?:\w+ )?order\b",
        NEW_ORDER.pattern,  # "she wants 2 Anker PowerCore"
        r"\bhow many orders\b", r"\bnumber of orders\b", r"\b(?:which|what) orders\b",
        r"\bwhat (?:did|has|have) \w+(?: \w+)? (?:buy|bought|order|ordered|purchased?)\b",
        r"\bhow many (?:\w+ ){1,2}orders\b",  # "how many amazon orders"
        r"\bwhat(?:'s| is) in (?:order |commande )?\d{3,}|\bcontents? of (?:order|commande)\b",
        r"(?:'s|\bher|\bhis|\btheir) (?:\w+ )?orders\b",  # a person's orders, all of them
    )))),
    # a sales channel measured: "how did cdiscount do last week?", "cancellation rate on eBay"
    ("orders", 0.35, re.compile(
        r"\b(?:cancel\w* rate|revenue|turnover|average order value|aov|how many orders|"
        r"number of orders|nb of orders)\b.{0,30}\b(?:on|from|via) " + MARKETPLACES + r"|"
        r"\bhow (?:did|does|is|was) " + MARKETPLACES + r" (?:do|doing|perform\w*)\b")),
    # an alert's state asked: "the low stock alert for the teal JBL - is it still open?"
    ("monitoring", 0.35, re.compile(
        r"\balerts?\b[^.?!]{0,50}\b(?:still open|open or|been closed|been resolved|"
        r"been acknowledged)\b")),
    # an alert to close: "the low-stock alert for the 45W charger at Marseille can be closed"
    ("monitoring", 0.4, re.compile(
        r"\b(?:low[ -]stock|stock|system|sync|critical) alerts?\b[^.?!]{0,80}\b(?:can|should|must) "
        r"be (?:closed|resolved|dismissed|cleared)\b")),
    # "did a Back Market order fail to come in today?": the marketplace's order sync
    ("marketplace", 0.35, re.compile(
        MARKETPLACES + r"[^.?!]{0,20}\borders?\b[^.?!]{0,30}\b(?:fail\w*|(?:didn't|did not|never) "
        r"(?:come|came|arrive|sync))")),
    # a batch or units checked: "the 5 watches from batch PO-… are checked, all good, grade B"
    ("quality", 0.4, re.compile(
        r"\b(?:batch|units?|spot check|audit)\b.{0,60}\b(?:checked|inspected|all good|"
        r"(?:all )?passed|grade [a-c])\b")),
    # the orders a site has to pick: "how many orders are waiting in the Saint-Priest pick list"
    ("warehouse", 0.35, re.compile(r"\bpick(?:ing)? list\b|\bwaiting to be picked\b")),
    # what sold best: "our 5 best-selling products by revenue in October" (not a sales report
    # "with the best sellers")
    ("products", 0.3, re.compile(
        r"^(?!.*\breport\b).*\b(?:best|top|worst)[- ]?(?:selling|sellers?)\b")),
    # a marketplace's order that did not come in: "BM0105918919 shows failed, why?"
    ("marketplace", 0.3, re.compile(
        rf"^(?=.*(?:{MARKETPLACE_NUMBER.pattern}))(?=.*\b(?:sync\w*|import\w*|failed|never "
        r"(?:came|arrived|showed)|(?:came|come|got) (?:in|into|through)|missing)\b)", re.I)),
    # the risk scan's alerts: "wasn't there a cancellation alert early november?"
    ("risk", 0.35, re.compile(
        r"\b(?:cancell?ation|refund|revenue|chargeback|stock ?out)s? (?:spike |drop |surge )?"
        r"alerts?\b")),
    # money back for a return: "the fault is confirmed on what she sent back, refund her"
    ("after_sales", 0.35, re.compile(
        r"\b(?:sent (?:it |them )?back|returned item|her return|his return|the return|rma)\b"
        r"[^?!]{0,160}\brefund\b|\brefund\b[^.?!]{0,40}\b(?:return|rma)\b")),
    # money held on a card: "release the hold on his card", "the card authorisation"
    ("payments", 0.4, re.compile(
        r"\b(?:hold|authori[sz]ation|pre ?auth\w*) on (?:the|his|her|their|a) card\b|"
        r"\bcard (?:hold|authori[sz]ation)\b")),
    # a marketplace paused or switched back on: "pause the eBay connection for now"
    ("marketplace", 0.45, re.compile(
        r"\b(?:pause|resume|suspend|reactivate|disable|enable|switch (?:off|on)|turn (?:off|on)|"
        r"stop)\b[^.;?]{0,30}\b(?:connection|integration|sync|feed)\b")),
    # orders never paid for: "baskets nobody paid for, expire them", "anything waiting to be
    # paid?"
    # (a reservation named is the stock team's: "release reservation 258, never got paid")
    ("orders", 0.45, re.compile(
        r"^(?!.*\breservations?\b).*?\b(?:unpaid|never (?:got )?paid|nobody (?:ever )?paid|"
        r"(?:waiting|still) to be paid|waiting for (?:its |their )?payment|"
        r"(?:abandoned|unpaid) (?:baskets?|carts?))\b")),
    # an order held or moved along its statuses: "put 3993 on hold", "move it to processing"
    ("orders", 0.3, re.compile(r"\b(?:put|place|keep|leave)\b.{0,30}\bon hold\b|^\s*hold\b")),
    ("orders", 0.55, re.compile(  # statuses only orders have
        r"\b(?:move|set|change|put|switch|bump|mark)\b.{0,30}\b(?:to|as|back to|in) "
        r"(?:processing|pending|paid|shipped)\b")),
    # units of a product held: "how many dualsense cosmic red do we have in marseille?"
    ("inventory", 0.3, re.compile(
        r"\bhow many\b(?![^?]*\b(?:orders?|customers?|returns?|points|parcels?|shipments?)\b)"
        r"[^?]{0,60}\b(?:do we (?:still )?have|have we got|(?:are )?left|in stock|on hand|"
        r"available|on the shelf)\b")),
    # money given back: "give her 20€ back as a goodwill gesture"
    ("payments", 0.3, re.compile(
        r"\b\d+(?:[.,]\d+)? ?(?:euros?|eur) back\b|\bgoodwill gesture\b")),
    # how an order was paid: "how was order 3996 paid?", "paid by paypal or by card?"
    ("payments", 0.3, re.compile(
        r"\bhow (?:was|were|did|is|has) [^?]{0,40}\bpa(?:id|y)\b|\bpaid (?:by|with|via)\b")),
    # a scan for what is abnormal: "scan the last 30 days for anything abnormal: revenue, ..."
    ("risk", 0.35, re.compile(
        r"\bscan\b.{0,40}\b(?:abnormal|unusual|anomal\w*|weird|odd)\b|"
        r"\banything (?:abnormal|unusual|weird|odd)\b")),
    # a category's risk assessed: "fraud risk over the last 90 days", "stock-out risk"
    ("risk", 0.3, re.compile(
        r"\b(?:fraud|refunds?|stock|stock ?outs?|cancell?ations?|marketplace) risks?\b")),
    # a parcel coming back: "Lucas Benoît's parcel is back at the warehouse"
    ("after_sales", 0.25, re.compile(
        r"\b(?:parcel|package|box|it|they)(?:'s| is| are| came| got)? back (?:at|in|to)\b")),
    # returns still running, or a person's: "does Isabelle Robin have returns open?"
    ("after_sales", 0.25, re.compile(
        r"\b(?:open|pending|ongoing|in progress) returns?\b|\breturns? (?:still )?(?:open|"
        r"pending|ongoing|in progress)\b|(?:'s|\bher|\bhis|\btheir) (?:\w+ )?returns\b")),
    # a claim under warranty: "her S23 won't charge anymore, open a warranty claim"
    ("after_sales", 0.4, re.compile(r"\bwarranty (?:claim|request|case)s?\b|\bunder warranty\b")),
    # a record known by its number's prefix: "WAR-2026-000008" is a warranty claim
    ("after_sales", 0.4, re.compile(r"\b(?:war|rma) \d{4} \d+\b")),
    # a refund asked for: "refund the JBL from order 3963", "she wants her money back"
    # (a return's refund is the returns team's)
    ("payments", 0.25, re.compile(
        r"^(?!.*\breturns?\b)(?:(?:please |pls |can you |could you )?(?:refund|reimburse)\b|"
        r".*\bmoney back\b|.*\brefund (?:her|him|them|the customer|the buyer|in full)\b)")),
    # a product put on a marketplace: "list the black JBL Flip 6 on Amazon at 129,90"
    ("marketplace", 0.35, re.compile(
        r"\b(?:list|put|sell|offer)\b.{0,60}\bon (?:amazon|cdiscount|back ?market|ebay|"
        r"refurbed|fnac|mirakl|the marketplaces?)\b")),
    # a carrier's price for a weight: "colissimo put their prices up: up to 1 kg is now 7,60"
    ("transport", 0.35, re.compile(
        r"\b(?:colissimo|chronopost|dpd|ups|gls|mondial relay|colis prive|dhl|fedex|la poste)\b"
        r".{0,60}\b(?:prices?|rates?|tariffs?|costs?|charges?)\b|\b(?:up to|per|under|over) "
        r"\d+(?:[.,]\d+)? ?kgs?\b")),
    # a document asked for: "do the credit note", "issue the invoice" (whatever it is about)
    ("documents", 0.45, re.compile(
        r"\b(?:do|make|issue|generate|create|raise|produce|print|prepare)\b (?:the|a|an|her|his|"
        r"their) (?:credit note|invoice|packing slip)s?\b")),
    # a label to make again: "the label got torn, can we get another one"
    ("documents", 0.3, re.compile(
        r"\blabels?\b.{0,80}\b(?:another|a new|again|reprint|re print|redo)\b|\breprint\b")),
    # a customer's call or e-mail to write down: "Emma called about 3988, log it"
    # a customer's new home ("Tom Muller moved: 14 rue des Carmes, 31000 Toulouse") or new
    # account ("open an account for Paul Lemaire ... he'll be ordering by phone")
    ("customers", 0.5, re.compile(
        r"\b(?:has moved|moved|new address|new home|relocated)\b[^.?!]{0,60}\b\d{5}\b|"
        r"\b(?:open|create|set up|make)\b[^.?!]{0,20}\b(?:customer|client) account\b|"
        r"\baccount for\b[^.?!]{0,40}[.?!,]?.{0,120}\b(?:ordering|to order|buying|to buy)\b")),
    ("customers", 0.3, re.compile(
        r"\b(?:called|phoned|rang|emailed|wrote|messaged|complained)\b.{0,80}\b(?:log|note|"
        r"record)\b|\b(?:log|note|record) (?:the|a|her|his|their|this|that) (?:call|complaint|"
        r"e ?mail|conversation|interaction)\b")),
    # whether someone is who they say: "can we trust whoever placed 3928?"
    ("fraud", 0.3, re.compile(
        r"\b(?:can|should) we trust\b|\b(?:is|are|looks?) (?:[\w']+ ){0,3}legit\b|"
        r"\b(?:fishy|shady|dodgy)\b")),
    # an alert raised by hand: "raise a high severity alert from payments"
    ("monitoring", 0.3, re.compile(r"\b(?:raise|open|create|fire|log)\b.{0,40}\balert\b")),
    # an alert closed: "close the low stock alert for that speaker" (the alert, not the stock)
    ("monitoring", 0.3, re.compile(
        r"\b(?:close|resolve|clear|dismiss)\b.{0,40}\balerts?\b|\balerts?\b.{0,40}\b(?:closed|"
        r"resolved|cleared)\b")),
    # what to tell a customer who asks: "how long before the refund shows? what do we tell her?"
    ("knowledge", 0.45, re.compile(
        r"\bwhat (?:do|should|can) (?:we|i) (?:tell|say to|answer|reply to)\b")),
    # a report asked by name: "sales report for October with the top 5 products"
    ("backoffice", 0.45, re.compile(r"\b(?:sales|revenue|monthly|weekly) report\b")),
    ("products", 0.3, re.compile(r"\btop \d{0,3} ?(?:sellers|selling|products|skus)\b")),
    ("products", 0.35, re.compile(r"\bproducts? (?:do|did) we (?:have|sell|carry|stock)\b")),
    ("after_sales", 0.35, re.compile(r"\bnps\b|\bsatisfaction (?:score|rate)\b")),
    # a vague question about the shop as a whole: "how are we doing today?"
    ("backoffice", 0.3, re.compile(
        r"\bhow (?:are|is) (?:we|things|business|the shop|the store)(?: doing| going)?\b|"
        r"\bhow's (?:business|it going)\b")),
    # whether anything is broken: "is anything on fire?", "is everything OK with the system?"
    ("monitoring", 0.3, re.compile(
        r"\bon fire\b|\banything (?:wrong|broken|down|failing)\b|"
        r"\b(?:everything|all|tout) (?:ok|okay|fine|running|alright|good|va bien)\b")),
    # goods coming in: "we just received 20 cables at Lyon", "book them in"
    ("inventory", 0.3, re.compile(
        r"\b(?:received|receiving|got|took delivery of)\s+\d+\s+(?!returns?\b)|"
        r"\bbook (?:them|it|those|these|the \w+) in\b|\bgoods in\b")),
    # a count against the books: "only 1 on the shelf but the system says 8"
    ("inventory", 0.4, COUNTED),
    ("inventory", 0.45, re.compile(
        r"\bcame in\b.{0,20}\bwent out\b|\bin and out\b|\bwarehouse by warehouse\b|"
        r"\bavailab\w*\b.{0,40}\b(?:warehouses|entrepots)\b|\bwhere is\b.{0,30}\bavailable\b")),
    # stock sent to a marketplace: "resend that SKU's stock to Fnac"
    ("marketplace", 0.45, re.compile(
        r"\b(?:push|resend|re-send|send|sync)\b.{0,40}\bstock\b.{0,20}\bto " + MARKETPLACES)),
    # a count of a SKU: "received 10 LOG-MXMASTER3S-GRAP", "move 2 MAR-EMBERTONII-CREA"
    ("inventory", 0.2, re.compile(r"\b\d+\s*(?:x\s*)?[a-z0-9]{2,}-[a-z0-9]{2,}")),
    ("payments", 0.35, re.compile(
        r"\bcards?\b.{0,40}\bon file\b|\bsaved cards?\b|"
        r"\bpayment (?:providers?|methods?|gateways?)\b")),
    ("backoffice", 0.25, re.compile(
        r"\b(?:what|how much) did we (?:make|earn|take)\b|\brevenue\b|\bturnover\b|"
        r"\b(?:left|leaving|joined|joining) the (?:company|team)\b")),
    # a colleague's access: "Mehdi left on friday, disable his access"
    ("backoffice", 0.3, re.compile(
        r"\b(?:disable|remove|revoke|cut off|cut|suspend|deactivate|close|switch off|turn off)\b"
        r".{0,30}\b(?:his|her|their) (?:\w+ )?(?:access|login|logins)\b|\b(?:his|her|their) "
        r"last day\b")),
    # a parcel sent with a carrier: "her order is packed, send it with Colis Privé"
    ("transport", 0.35, re.compile(r"\b(?:send|ship) (?:it|them|the order) (?:with|via|by)\b")),
    ("risk", 0.25, re.compile(r"\bat risk\b|\bexposed\b|\bexposure\b")),
    # "what's the risk level on Cdiscount?", "assess the risk of stock-outs"
    ("risk", 0.4, re.compile(
        r"\brisk (?:level|score|rating)\b|\b(?:assess|evaluate|rate)\w*\b.{0,30}\brisks?\b")),
    # an alert the anomaly detection raised: "the stock movements spike alert"
    ("risk", 0.35, re.compile(
        r"\b(?:spike|anomaly|anomalies|surge|dip|drop|risk)\b.{0,15}\balerts?\b")),
    # a new price with no currency: "Nest Mini charcoal should be 49,90 now" (not a rate's)
    ("products", 0.2, re.compile(
        r"^(?!.*\b(?:rates?|kgs?)\b).*\b(?:should be|now|to|at)\s+\d+[.,]\d{2}\b")),
    # "drop it to 319", "put it at 459": what was just asked about gets a new price
    ("products", 0.3, re.compile(
        r"\b(?:drop|cut|lower|reduce|raise|put|bring|set)\b (?:it|them|that|the price)"
        r"(?: down| up)? (?:to|at) \d{2,5}\b(?!\s*(?:%|days?|units?|pcs|kgs?|g\b|locations?))")),
    ("products", 0.3, re.compile(
        r"\bsales?\b.{0,40}\b(?:stock|inventory)\b|\b(?:stock|inventory)\b.{0,40}\bsales?\b")),
    # how long the stock lasts at the pace it sells: "how many days of cover on the XM5?"
    ("products", 0.4, re.compile(
        r"\b(?:days?|weeks?) of (?:cover|stock)\b|\bdays? cover\b|\bat (?:the|this) (?:current )?"
        r"(?:pace|rate)\b|\blast us\b")),
    ("marketplace", 0.3, re.compile(r"\bbuffer\b")),
    ("risk", 0.25, re.compile(
        r"\b(?:refund|return|cancellation|chargeback)s? rates?\b|\brisk\w*\b.{0,30}\b(?:overall|"
        r"look\w*)\b|\b(?:overall|look\w*)\b.{0,30}\brisk\w*")),
    ("products", 0.25, re.compile(
        r"(?:\bat|→|->|=) ?\d+(?:[.,]\d+)? ?(?:€|eur\b|euros?\b)|\bprice of\b")),
    ("fraud", 0.25, re.compile(r"\b(?:suspicious|suspect|scam\w*|stolen|fraudulent)\b")),
    ("monitoring", 0.25, re.compile(r"\b(?:the )?\w+ agent\b")),
    # the platform's own parts and records: "is the vector store even connected?", "the event
    # trail of order 3993"
    ("monitoring", 0.4, re.compile(
        r"\b(?:vector (?:store|database|db|index)|llm (?:endpoint|server|api)|embedding model|"
        r"event (?:trail|log|history)|audit (?:trail|log))\b")),
    # stock flows: "units in vs out at Paris since the 11th"
    ("inventory", 0.4, re.compile(r"\b(?:units? )?in (?:vs|versus|v|and) out\b")),
    # a site closed: "Lesquin is closed for the stock count, take it out of service"
    ("warehouse", 0.35, re.compile(
        r"\bclosed for (?:the )?(?:annual )?(?:stock ?count|inventory|stocktak\w*|maintenance|"
        r"works|renovation)\b")),
    # a member of staff's own access: "his Comptoir account", "so he can no longer sign in"
    ("backoffice", 0.4, re.compile(
        r"\b(?:comptoir (?:account|access|login)|(?:sign|log) ?in to comptoir|can no longer "
        r"(?:sign|log) ?in|last day (?:was|is|at work))\b")),
    # a setting's value asked: "what are our fraud thresholds set at?"
    ("backoffice", 0.4, re.compile(r"\b(?:thresholds?|limits?|windows?)\b[^.?!]{0,30}\bset at\b")),
    # a marketplace account's standing: "is our back market account in any danger?"
    ("risk", 0.35, re.compile(
        r"\baccount\b[^.?!]{0,20}\b(?:in (?:any )?danger|at risk|suspended|suspension)\b")),
)  # fmt: skip


RULE_QUESTION = 0.45  # the weight of the knowledge patterns that ask what the shop's rule is
# A product as merchants name it, by its model's number: "Fitbit Charge 6", "iPhone 15",
# "JBL Flip 6" (not "Order 3993": a record's number)
MODEL_NAME = re.compile(
    r"\b(?!(?:Order|Payment|Return|Shipment|Customer|Invoice|Inspection|Alert|Claim|Survey|"
    r"Warehouse|Product|Variant|Batch|Article|Key|User|RMA|Message|Document|Carrier)\b)"
    r"[a-z]*[A-Z][\w'+]*(?: [a-z]*[A-Z][\w'+]*)* \d{1,4}[a-z]?\b"
)


def without_models(text: str, models: frozenset[str] = frozenset()) -> str:
    """The text with products named by their model's number replaced by "product"; a
    sentence's first word and a number ("Transfer 3 red…", "Refund 20 €") is an order.
    `models` are the catalogue's words before a model's number, for names typed in lowercase
    ("fitbit charge 6")."""

    def replace(match: re.Match[str]) -> str:
        before = text[: match.start()].rstrip()
        opens = not before or before[-1] in ".!?:;"
        return match.group(0) if opens and len(match.group(0).split()) == 2 else " product "

    def lowercase_model(match: re.Match[str]) -> str:
        return " product " if plain(match.group(1)) in models else match.group(0)

    text = MODEL_NAME.sub(replace, text)
    return re.sub(r"\b([a-z]+) \d{1,4}[a-z]?\b", lowercase_model, text) if models else text


# An example given after a question: "any incidents already fixed? like the sync thing"
EXAMPLE_GIVEN = re.compile(
    r"(?:[,?;]|\.\.\.)\s*(?:like|such as|e\.?g\.?|for example|for instance)\b[^.;?]*"
)
# A marketplace named as where an order was placed: "his amazon order", "an order on Back
# Market" is an order of that channel, not work on the marketplace account (its orders, to
# pull in or that failed, are)
ORDER_CHANNEL = re.compile(
    rf"\b{MARKETPLACE_NAMES}(?= order\b)|"
    rf"(?<=\border )(?:(?:placed |made )?(?:on|from|via) ){MARKETPLACE_NAMES}"
)
# An order is what the request is about when it names orders and no record of another
# domain: "Hugo Robin's latest order: is it paid?", "amazon orders above 1000€"
ORDERS_NAMED = re.compile(r"\borders?\b")
OTHER_RECORDS = re.compile(
    r"\b(?:payments?|transactions?|refunds?|parcels?|shipments?|packages?|invoices?|credit notes?|"
    r"labels?|slips?|returns?|rmas?|warrant(?:y|ies)|claims?|surveys?|offers?|listings?|"
    r"messages?|stock|fraud|score|carriers?|documents?|sync(?:ed|ing)?|alerts?|risks?|"
    r"complain\w*|interactions?|points|addresses|inspections?|events?|trail|express|shipping|"
    r"postage|deliver(?:y|ies)|couriers?|paperwork|docs?|reservations?|failed|pull|fetch|"
    r"import|reply|buyers?|track\w*|inspect\w*|grades?|tracking)\b"
)
WHEN_CLAUSE = re.compile(
    r"\b(?:before|until|once|after|as soon as) (?:it|they|he|she|we|the \w+) [^,.;?!]*"
)
SENT_FROM = re.compile(
    r"\b(?:send|move|ship|transfer|bring)\b[^.;?]{0,40}?\b(?:from|out of) ([a-z][a-z -]{2,30}?)"
    r"(?=$|[,.;?!]| then\b| and\b)"
)
BETWEEN = re.compile(
    r"\bfrom ([a-z][a-z -]{2,30}?) to ([a-z][a-z -]{2,30}?)(?=$|[,.;?!]| then\b| and\b)"
)


def rank_agents(
    text: str, places: tuple[str, ...] = (), models: frozenset[str] = frozenset()
) -> list[tuple[str, float]]:
    """Agents by how well they fit a request, best first. Quoted text (a message to send, a
    note to write) is content, not intent, and is left out. `places` are the shop's own
    sites (warehouse names, towns, codes): naming one is a word of the warehouse domain."""
    text = WRITTEN.sub(r"\1", QUOTED.sub(" ", text))
    # an e-mail's domain ("fontaine.fr") is not a setting's key ("returns.window_days"), and
    # a model's name is not a word of a domain ("the Fitbit Charge 6" charges nobody)
    lowered = plain(without_models(EMAIL.sub(" email ", text), models)).replace("-", " ")
    scores = agent_index().scores(text)
    # "someone put 3993 on hold, show me its events": what was done names no action
    # "any incidents already fixed? like the cdiscount sync thing": an example, not the topic
    untold = EXAMPLE_GIVEN.sub(" ", re.sub(DONE_ALREADY, " ", lowered))
    named = actions(untold)
    # "stop her order before it leaves the warehouse": the clause that says when is no domain,
    # nor what did not happen ("her iPhone hasn't charged once": no payment)
    told = NEGATED.sub(" ", WHEN_CLAUSE.sub(" ", untold))
    patterns: dict[str, float] = {}
    for agent, weight, pattern in DOMAIN_PATTERNS:
        if pattern.search(lowered):
            patterns[agent] = max(patterns.get(agent, 0.0), weight)
    # a question about a rule ("do we refund the shipping when…?"): its action and domain
    # words are the rule's topic, not something to do
    rule = patterns.get("knowledge", 0.0) >= RULE_QUESTION and not re.search(r"\d", lowered)
    # "Chloé Fontaine's address": a person named in words, unless staff are the subject
    person = (
        bool(person_names(text)) and not re.search(r"\d", text) and "backoffice" not in patterns
    )
    # "send 2 teal JBL Flip 6 from Paris to Lyon": stock moved between two of the shop's sites
    between = BETWEEN.search(lowered)
    transfer = between is not None and all(hits(w, places) for w in between.groups())
    # "Lyon is almost out of the teal Flip 6, send 3 over from Paris": to the other site named
    sent_over = SENT_FROM.search(lowered)
    if sent_over and hits(sent_over.group(1), places):
        transfer = transfer or hits(lowered.replace(sent_over.group(0), " "), places) > 0
    barcode = bool(barcodes(text))
    ranked = []
    for agent, similarity in zip(scores.agents, scores.combined, strict=True):
        said = hits(
            ORDER_CHANNEL.sub(" ", told) if agent == "marketplace" else told, DOMAIN_WORDS[agent]
        )
        if agent == "warehouse" and not said and places:
            said = min(hits(lowered, places), 1)  # "the Lille site": one warehouse named
        score = float(similarity) + (0.06 if rule else 0.12) * min(said, 2)
        score += patterns.get(agent, 0.0)
        if named and not rule and any(t.startswith(named[0]) for t in AGENT_SPECS[agent].tools):
            score += 0.1  # the agent owns a tool doing the action the request names first
        if agent == "customers" and person:
            score += 0.12
        if agent == "products" and barcode:
            score += 0.2  # "a customer sent me the barcode 3760000002349": a product
        if agent == "orders" and ORDERS_NAMED.search(told) and not OTHER_RECORDS.search(told):
            score += 0.15
        if agent == "inventory" and transfer:
            score += 0.3
        ranked.append((agent, score))
    return sorted(ranked, key=lambda pair: -pair[1])


# Words of tool names too common to tell tools apart.
GENERIC_NAME_WORDS = TOOL_VERBS | frozenset(
    {"customer", "customers", "order", "orders", "product", "products", "stock"}
)

# Other words for the words of tool names: "which parcels are still on the road?"
NAME_WORD_SYNONYMS = {"shipment": ("parcel", "package")}

# Ids the planner can find from words, through a look-up tool.
LOOKED_UP = frozenset(
    {"customer_id", "product_id", "variant_id", "warehouse_id", "from_warehouse_id",
     "to_warehouse_id", "connection_id", "user_id", "key", "carrier_id", "category_id"}
)  # fmt: skip
# What was done already, to the end of what is told: "someone put 3993 on hold today, ..."
DONE_ALREADY = (
    r"\b(?:(?:i|we|someone|somebody|they|he|she|a colleague) (?:already |just )?(?:put|set|kept|"
    r"reserved|held|made|sent|created|booked|cancell?ed|blocked|refunded|placed|changed)|"
    # what the customer did: "the two cases she just received"
    r"(?:she|he|they) (?:already |just )?(?:received|got|bought|ordered|paid))\b"
    r"[^,.;:?!]*?(?=[,.;:?!]|\b(?:and|but|so|then|now)\b|$)"
)
# What is only being weighed: "we're thinking about closing Toulouse"
CONSIDERING = (
    r"\b(?:thinking|thought|considering|planning|wondering) (?:about|of|on|whether|if)\b"
    r"[^,.;:?!]*"
)
# What a request states rather than asks for: "which orders failed to sync", "check that the
# refund went through", "why did the payment fail": the verbs there name no action.
STATED = re.compile(
    rf"{DONE_ALREADY}|{CONSIDERING}|"
    # a request someone sent: "Clara Guillot sent a GDPR erasure request by email"
    r"\b(?:sent|made|filed|submitted|opened) (?:us |me )?an? [^,.;:?!]*\brequest\b[^,.;:?!]*|"
    # how things are: "there's a typo in the address on an invoice"
    r"^\s*there(?:'s| is| are| was| were)\b[^,.;:?!]*|"
    # when: "her iPhone hasn't charged once since it arrived"
    r"\b(?:since|when|after) (?:it|they|he|she) (?:arrived|came|got there|was delivered|"
    r"were delivered)\b|"
    # a supposition: "if I moved 5 of them to Lyon, would Toulouse run short?"
    r"\bif (?:i|we|you) (?:\w+ed|did|were to)\b[^,.;?!]*|"
    # in what state: "both cases arrived damaged" (no parcel to book in)
    r"\b(?:arrived|came|got there|was delivered|were delivered) (?:damaged|broken|cracked|"
    r"scratched|crushed|faulty|dead|late|opened|open|wet|dented)\b|"
    # what a customer says happened: "she says she never got her refund for 3753"
    r"\b(?:says?|said|(?<!the )(?<!a )(?<!her )(?<!his )(?<!their )(?<!that )(?<!this )"
    r"(?<!warranty )claims?(?! (?:war|#?\d))|claimed|insists?|is complaining|complains?|"
    r"complained)\b[^,.;:?!]*|"
    r"\b(?:fail(?:ed|s)?|unable|refused|forgot) to \w+|\b(?:did not|didn't|never|wasn't|"
    r"weren't) \w+|\b(?:check|see|verify|confirm|make sure)\s+(?:that|if|whether)\b.*$|"
    r"\bwhy (?:did|was|were|is|has|have|does|do)\b.*$"
)
# A question: "what does…", "is there…", "has it been…"
QUESTION_OPENERS = (
    r"what|which|who|whose|where|when|why|how|is|are|was|were|do|does|did|has|have|"
    r"wasn't|weren't|isn't|aren't|didn't|doesn't|haven't|hasn't"  # "wasn't there an alert…?"
)
ASKS = re.compile(rf"\s*(?:{QUESTION_OPENERS}|any)\b")
# A question that asks what, which, why, whether…: "what invoice number did 3977 get?", "why is
# customer 607 blocked?", "how much can we still refund?", "does Mehdi have an API key?" want
# an answer, never a write; the tools that only look (a fraud check, tracking) answer them.
WH_QUESTION = re.compile(
    rf"\s*(?:{QUESTION_OPENERS})\b(?!\s+(?:about|come)\b|\s+(?:do|can|should) (?:i|we)\b)"
    # whether something can be done: "could we still cancel it?", "is it possible to refund"
    r"|\s*(?:but |and |so )?(?:(?:can|could) (?:we|i|you) still|can i just)\b|\s*(?:but |and |so )?"
    # what would happen: "would Toulouse drop under its reorder point?" (not "would you…")
    r"(?:would|will) (?!you\b|u\b)\w+|\s*(?:but |and |so )?"
    r"(?:is it|would it be) (?:still )?possible\b|\s*(?:but |and |so )?are we (?:still )?allowed\b"
    # advice asked: "should I just refund her so it goes away?"
    r"|\s*(?:but |and |so )?(?:should|shall) (?:i|we)\b"
    # whether it is time yet: "can I refund her return already?"
    r"|\s*(?:but |and |so )?(?:can|could) (?:we|i)\b[^?]*\b(?:already|yet)\b"
)
# A question someone passes on: "buyer asking if we have the switch in stock"
ASKED_WHETHER = re.compile(
    r"\b(?:asking|asks|asked|wants to know|wanted to know|wondering|wonders) (?:if|whether)\b"
)
# What doing the thing just asked about would mean: "can we unblock him? what would that
# involve": the thing is a question too
WHAT_IT_TAKES = re.compile(
    r"\s*(?:and )?(?:what would (?:that|it|this) (?:involve|take|mean|change)|what happens if|"
    r"what are the (?:consequences|risks)|what does (?:that|it|this) involve)\b"
)


# Verbs that make a short clause an order ("ship it", "refund her")
ORDERING = VERBS | frozenset(
    """ship book hold charge print close open pay reply put move make do go issue raise lower
    drop email call expire archive publish accept decline confirm apply pull fetch import
    restock reorder adjust write log note record flag notify tell remind contact answer fix
    correct rename run check scan assess detect grade repair replace swap exchange return
    dispatch pack pick label invoice give take get let use lift""".split()  # noqa: SIM905
)
WISH = re.compile(r"\b(?:wants?|would like|'d like|wishes) to\b")
WISHED = re.compile(WISH.pattern + r"[^.;:!?]*")
# "can we erase her right away or is something blocking it?": a choice between two answers
EITHER_OR = re.compile(r"\bor (?:is|are|was|were|does|do|did|has|have|will|would|could)\b")


def asks_only(lowered: str) -> bool:
    """Whether a request asks and orders nothing: a question, or questions after a topic
    ("payment 3993: how much can we still refund?"), with no clause naming an action. A few
    words after a question only tell what it is about ("did we make anything for 3998 yet?
    invoice, packing slip...")."""
    clauses = [c for c in re.split(r"[:;?]\s*|,\s+|\.\s+|\s+-\s+", lowered) if c.strip()]
    asked: list[bool] = []
    for clause in clauses:
        question = (
            WH_QUESTION.match(clause) is not None
            or EITHER_OR.search(clause) is not None
            or ASKED_WHETHER.search(clause) is not None  # "a buyer asking if we have it"
        )
        words = clause.split()
        short = len(words) <= 3 and not set(words) & ORDERING
        # "... already fixed? like the cdiscount sync thing": an example of what was asked
        about_it = bool(asked) and asked[-1] and (short or EXAMPLE.match(clause) is not None)
        if asked and clause.startswith("or ") and EITHER_OR.search(clause):
            asked[-1] = True  # "could we delete the Lille site, or is there still stock?"
        if asked and WHAT_IT_TAKES.match(clause):
            asked[-1] = True
        asked.append(question or about_it)
    # "Manon wants to swap her controller. is it too late to cancel?": a wish is the context
    rest = [
        c for c, question in zip(clauses, asked, strict=True) if not question and not WISH.search(c)
    ]  # fmt: skip
    # what is not asked orders nothing either when it only says not to, or asks to be shown
    # ("don't change anything yet, I want to see the current values first")
    ordered = [prefixes for c in rest for prefixes in actions(NEGATED.sub(" ", STATED.sub(" ", c)))]
    return any(asked) and not any(not all(p.startswith(LOOKING) for p in o) for o in ordered)


LOOKING = ("check_", "detect_", "track_", "assess_", "quote_", "select_", "search_", "list_",
           "get_")  # fmt: skip
RECORD_NUMBER = 100  # a bare number this big names a record (order 3989), not a count
BY_ORDER_IDS = frozenset(ORDER_RECORDS)  # the records an order has: its payments, shipments…


@dataclass(frozen=True)
class ToolChoice:
    name: str
    score: float


def rank_tools(text: str, tool_names: list[str], found: Found) -> list[ToolChoice]:
    """The tools of an agent by how well they fit a request, best first."""
    from tools.base import REGISTRY

    lowered = plain(text)
    # "someone put 3998 on hold today, show me what happened": what was done already is no
    # likeness to the tools that do it
    similarity = agent_index().tool_similarity(
        re.sub(DONE_ALREADY, " ", text, flags=re.I) or text, tool_names
    )
    asked = actions(STATED.sub(" ", lowered))
    # a verb the request only states names no write ("failed to sync"), but still a read
    # ("why is there stock reserved?")
    said = [
        prefixes for prefixes in actions(lowered)
        if prefixes in asked
        or not any(_writes(n) for n in tool_names if n.startswith(prefixes))
    ]  # fmt: skip
    # what is asked before what is only told ("he says they run out; raise the reorder
    # point"), and a customer's wish last unless it is ordered too ("he wants to change his
    # address. put the order on hold")
    ordered = _ordered(lowered)
    wished = [p for wish in WISHED.finditer(lowered) for p in actions(wish.group(0))]
    said.sort(key=lambda p: (p in wished and p not in ordered, p not in asked))
    # an action none of these tools does ("book" for the stock team) picks none of them
    named = [p for p in said if any(name.startswith(p) for name in tool_names)]
    named_write = any(_writes(n) for n in tool_names for p in named if n.startswith(p))
    made_already = ALREADY_MADE.search(lowered) is not None
    wants_an_answer = asks_only(lowered)
    asks = bool(
        STATED.search(lowered)
        or ASKS.match(lowered)
        or lowered.rstrip().endswith("?")
        or wants_an_answer
    )
    bare_record = not found.ids and any(n >= RECORD_NUMBER for n in found.numbers)
    person = bool(person_names(text))
    choices = []
    for name in tool_names:
        score = similarity[name]
        matched = [i for i, prefixes in enumerate(named) if name.startswith(prefixes)]
        if wants_an_answer and _writes(name) and not name.startswith(LOOKING):
            score -= 0.5
        elif matched:
            score += 0.3 if matched[0] == 0 else 0.05
        elif said and _writes(name) and not _is_read_word(lowered):
            score -= 0.05
        # a request with no action word that states every value a write needs records them
        gives_every_value = not said and _writes(name) and _gives_every_value(text, found, name)
        if _writes(name) and not gives_every_value and (not said or (asks and not named)):
            # a request with no action word, or a question naming no action these tools do
            # ("what does the fraud score article say?"), wants a read
            score -= 0.2
        fields = REGISTRY[name].args_model.model_fields
        required = [n for n, info in fields.items() if info.is_required()]
        about_a_customer = "customer" in name and "customer_id" in required
        if about_a_customer and "customer_id" not in found.ids and person:
            score += 0.05  # "has Jules Guillot ever been flagged?": a tool about one customer
        for parameter in required:
            if parameter.endswith("_id") and parameter in found.ids:
                score += 0.08
            elif parameter == "order_id" and bare_record:
                score += 0.08  # "run a fraud check on 3993": a bare number is an order
            elif parameter.endswith("_id") and parameter not in found.ids:
                # an id the request does not give: likely the wrong tool, unless a number is
                # there to stand for it or a look-up can find it
                findable = _findable(parameter, text, found)
                score -= 0.04 if found.numbers or findable else 0.1
        takes_a_record = any(f.endswith("_id") for f in fields)
        if not takes_a_record and not found.ids and any(n >= RECORD_NUMBER for n in found.numbers):
            score -= 0.15  # "why did the payment fail on 3989?": about one record, not totals
        if name.startswith("get_") and any(p in found.ids for p in required):
            score += 0.05
        score += _fits_the_measure(lowered, found, fields)
        if gives_every_value:
            score += 0.15  # "survey 1413: 4/5 and 8 out of 10": the request fills this write
        if found.eans and name == "search_products":
            score += 0.3  # "which product is the barcode 3760000002707?": the catalogue knows
        if made_already and name.startswith(("generate_", "create_")):
            score -= 0.3  # "did we ever issue an invoice on it?": whether one exists
        if found.marketplace_numbers and name == "get_marketplace_order" and not named_write:
            score += 0.3  # "BM0105918919 never came into comptoir, why?"
        if name.startswith("list_") and _names_a_filter(lowered, fields):
            score += 0.1  # "orders stuck in pending": a listing by the state the request names
        # a tool's name is its summary: "fraud history", "pick list", "system alerts"
        score += 0.08 * min(hits(lowered.replace("-", " "), _name_words(name)), 2)
        if named and not asks and not matched and not _writes(name):
            score -= 0.1  # "stop using Colis Privé": the write named, not a listing of carriers
        choices.append(ToolChoice(name, score))
    return sorted(choices, key=lambda choice: -choice.score)


# The courtesies and links before what a sentence asks: "can you", "please", "and then"
COURTESY = re.compile(
    r"^\s*(?:(?:(?:can|could|would|will) you|please|pls|kindly|ok|okay|and|then|also|so|now|"
    r"just)\s+)+"
)


def _ordered(lowered: str) -> list[tuple[str, ...]]:
    """The actions of the sentences that open with a verb: "put the order on hold", "please
    refund her"."""
    ordered: list[tuple[str, ...]] = []
    last_ordered = False
    for sentence in re.split(r"[.;:!?]\s+|,\s+(?=(?:please |pls |and |then )?[a-z]+ )", lowered):
        opening = COURTESY.sub("", sentence)
        first = opening.split()[0] if opening.split() else ""
        # "issue the invoice; the credit note too": a thing more for the verb before
        goes_on = last_ordered and first in ("the", "a", "an", "her", "his", "their", "its")
        last_ordered = first in ORDERING or goes_on
        if last_ordered:
            ordered += actions(opening)
    return ordered


def _name_words(name: str) -> tuple[str, ...]:
    words = tool_words(name, GENERIC_NAME_WORDS)
    return tuple(words + [s for w in words for s in NAME_WORD_SYNONYMS.get(w, ())])


def named_tools(text: str, tool_names: list[str]) -> list[str]:
    """The writes a request asks for one by one, in the order said, when it names two or more
    actions each done by exactly one of these tools: "make the invoice and the credit note",
    "receive return 186 and inspect it". One or none named: empty."""
    lowered = plain(text)
    writes = [n for n in tool_names if _writes(n) and not n.startswith(("list_", "get_"))]
    tools: list[str] = []
    named = distinct_actions(STATED.sub(" ", lowered))
    # "he wants to change his address. put the order on hold": only the hold is ordered
    ordered = [prefixes for prefixes in named if prefixes in _ordered(lowered)]
    for prefixes in ordered or named:
        doing = [n for n in writes if n.startswith(prefixes)]
        if len(prefixes) == 2:  # "authorize it": authorize_return before decide_…
            doing = [n for n in doing if n.startswith(prefixes[0])] or doing
        if len(doing) == 1 and doing[0] not in tools:
            tools.append(doing[0])
    return tools if len(tools) > 1 else []


TOP_N = re.compile(r"\btop\s+\d{1,3}\b")


def _fits_the_measure(lowered: str, found: Found, fields: dict[str, Any]) -> float:
    """A request for a period ("this month", "in november") or a top N fits the tools that
    take one: reports and analytics rather than listings."""
    bonus = 0.0
    if found.period and "start" in fields:
        bonus += 0.08
    if TOP_N.search(lowered) and "top" in fields:
        bonus += 0.1
    if found.money_cents and AMOUNT_BOUND.search(lowered) and "min_total_cents" in fields:
        bonus += 0.12  # "amazon orders above 1000€ since monday": a listing by amount
    return bonus


def _gives_every_value(text: str, found: Found, name: str) -> bool:
    """Whether the request states every value a write needs, two or more of them besides
    ids and free text ("score 4, nps 8"), so that nothing is left to ask."""
    from graph.planner.fill import FREE_TEXT, Known, fill
    from tools.base import REGISTRY

    spec = REGISTRY[name]
    required = [n for n, info in spec.args_model.model_fields.items() if info.is_required()]
    values = [n for n in required if not n.endswith("_id") and n not in FREE_TEXT]
    if len(values) < 2:
        return False
    filled = fill(spec, Known(text, found))
    return all(_findable(parameter, text, found) for parameter in filled.missing)


def _findable(parameter: str, text: str, found: Found) -> bool:
    """Whether a look-up can find an id the request does not give: a customer named in
    words, or the survey of the order or the person it names."""
    return parameter in LOOKED_UP or (
        parameter in BY_ORDER_IDS and ("order_id" in found.ids or bool(person_names(text)))
    )


def _names_a_filter(lowered: str, fields: dict[str, Any]) -> bool:
    """Whether the request names a status this listing filters on."""
    from graph.planner.fill import _choice, _choices

    for name, info in fields.items():
        options = _choices(info.annotation) if name.endswith("status") else []
        if options and _choice(name, options, lowered) is not None:
            return True
    return False


def _writes(name: str) -> bool:
    from tools.base import REGISTRY

    return REGISTRY[name].writes


def _is_read_word(lowered: str) -> bool:
    return bool(re.search(r"\b(show|list|what|which|how many|any|find|get|see)\b", lowered))
