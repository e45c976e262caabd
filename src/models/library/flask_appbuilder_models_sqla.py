# flask_appbuilder.models.sqla, checked against releases 5.0 to 5.2: an abstract model on a
# declarative base of its own. (Before 5.0 its metaclass named a table from its class name when
# it had no `__tablename__`; such a class is reported as unread rather than named by one
# release's rule.)
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Model(Base):
    __abstract__ = True
