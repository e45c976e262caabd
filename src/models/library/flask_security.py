# flask_security: the core `UserMixin` and `RoleMixin` give methods, no column (checked
# against the source of its `core.py`). Its `fsqla` model mixins do have columns and are not
# listed.
class UserMixin:
    pass


class RoleMixin:
    pass
