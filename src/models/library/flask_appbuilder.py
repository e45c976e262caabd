# flask_appbuilder: `Model` is the abstract declarative base of Flask-AppBuilder apps
# (flask_appbuilder.models.sqla.Model), checked against releases 2.0 to 5.2.
from flask_appbuilder.models.sqla import Model
