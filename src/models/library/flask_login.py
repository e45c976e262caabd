# flask_login: its mixins give a model methods and properties, no column (checked against
# the source of Flask-Login's `mixins.py`).
class UserMixin:
    pass


class AnonymousUserMixin:
    pass
