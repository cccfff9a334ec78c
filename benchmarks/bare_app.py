"""The baseline for the REST benchmark: FastAPI + SQLModel reading the same row, nothing else
(no auth, no logging, no tool layer)."""

import os

from fastapi import FastAPI
from sqlmodel import Session

from db.engine import create_db_engine
from db.models import Warehouse

engine = create_db_engine(os.environ["DATABASE_URL"])
app = FastAPI()


@app.get("/warehouses/{warehouse_id}")
def get_warehouse(warehouse_id: int) -> Warehouse | None:
    with Session(engine) as session:
        return session.get(Warehouse, warehouse_id)
