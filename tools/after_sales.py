"""Tools of the after_sales agent: returns (RMAs), satisfaction surveys and warranty claims.

The tools live in sub-modules by sub-domain, registered when this module is imported:
tools/after_sales_returns.py (request, authorize, receive, reject, read),
tools/after_sales_inspection.py (inspect, refund), tools/after_sales_surveys.py and
tools/after_sales_warranty.py; what they share is in tools/after_sales_core.py.
"""

import tools.after_sales_inspection
import tools.after_sales_returns
import tools.after_sales_surveys
import tools.after_sales_warranty  # noqa: F401
