# sqlalchemy_utils: the `Timestamp` mixin adds two columns (checked against the source of its
# `models.py`). Every other name of the package (its types) stays a library name.
from sqlalchemy import Column, DateTime


class Timestamp:
    created = Column(DateTime, nullable=False)
    updated = Column(DateTime, nullable=False)
