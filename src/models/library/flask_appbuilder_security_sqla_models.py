# flask_appbuilder.security.sqla.models: the `ab_*` tables of Flask-AppBuilder's security
# models, checked against releases 2.0 to 5.2. Their columns have kept their names; where a
# length grew between releases (`username` 64 → 128, `email` 64 → 320, `ab_view_menu.name`
# 100 → 250) the shortest is listed, so that no release's migrations are reported too short.
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text

from flask_appbuilder.models.sqla import Model


class Permission(Model):
    __tablename__ = "ab_permission"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)


class ViewMenu(Model):
    __tablename__ = "ab_view_menu"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)


class Role(Model):
    __tablename__ = "ab_role"
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False)


class PermissionView(Model):
    __tablename__ = "ab_permission_view"
    id = Column(Integer, primary_key=True)
    permission_id = Column(Integer, ForeignKey("ab_permission.id"))
    view_menu_id = Column(Integer, ForeignKey("ab_view_menu.id"))


class User(Model):
    __tablename__ = "ab_user"
    id = Column(Integer, primary_key=True)
    first_name = Column(String(64), nullable=False)
    last_name = Column(String(64), nullable=False)
    username = Column(String(64), nullable=False)
    password = Column(String(256))
    active = Column(Boolean)
    email = Column(String(64), nullable=False)
    last_login = Column(DateTime)
    login_count = Column(Integer)
    fail_login_count = Column(Integer)
    created_on = Column(DateTime, nullable=True)
    changed_on = Column(DateTime, nullable=True)
    created_by_fk = Column(Integer, ForeignKey("ab_user.id"), nullable=True)
    changed_by_fk = Column(Integer, ForeignKey("ab_user.id"), nullable=True)


class RegisterUser(Model):
    __tablename__ = "ab_register_user"
    id = Column(Integer, primary_key=True)
    first_name = Column(String(64), nullable=False)
    last_name = Column(String(64), nullable=False)
    username = Column(String(64), nullable=False)
    password = Column(String(256))
    email = Column(String(64), nullable=False)
    registration_date = Column(DateTime, nullable=True)
    registration_hash = Column(String(256))


class Group(Model):
    # Since release 4.6.
    __tablename__ = "ab_group"
    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    label = Column(String(150))
    description = Column(String(512))
