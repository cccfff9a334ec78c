"""Every table, importable from one place so SQLModel.metadata knows them all."""

from db.models.after_sales import *  # noqa: F403
from db.models.catalog import *  # noqa: F403
from db.models.chat import *  # noqa: F403
from db.models.customers import *  # noqa: F403
from db.models.documents import *  # noqa: F403
from db.models.events import *  # noqa: F403
from db.models.fraud import *  # noqa: F403
from db.models.inventory import *  # noqa: F403
from db.models.knowledge import *  # noqa: F403
from db.models.marketplace import *  # noqa: F403
from db.models.monitoring import *  # noqa: F403
from db.models.orders import *  # noqa: F403
from db.models.payments import *  # noqa: F403
from db.models.quality import *  # noqa: F403
from db.models.sales import *  # noqa: F403
from db.models.staff import *  # noqa: F403
from db.models.transport import *  # noqa: F403
