"""The baselines for the REST benchmark: FastAPI + SQLModel reading, and updating, the same
row, nothing else (no auth, no logging, no tool layer, no audit entry or event)."""

import os

from fastapi import FastAPI
from pydantic import BaseModel
from sqlmodel import Session

from db.engine import create_db_engine
from db.models import Warehouse

engine = create_db_engine(os.environ["DATABASE_URL"])
app = FastAPI()


@app.get("/warehouses/{warehouse_id}")
def get_warehouse(warehouse_id: int) -> Warehouse | None:
    with Session(engine) as session:
        return session.get(Warehouse, warehouse_id)


class CapacityChange(BaseModel):
    capacity_locations: int


@app.patch("/warehouses/{warehouse_id}")
def update_warehouse(warehouse_id: int, change: CapacityChange) -> Warehouse | None:
    with Session(engine, expire_on_commit=False) as session:
        warehouse = session.get(Warehouse, warehouse_id)
        if warehouse is not None:
            warehouse.capacity_locations = change.capacity_locations
            session.commit()
        return warehouse
