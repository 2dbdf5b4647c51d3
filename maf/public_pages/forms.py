from wtforms import SubmitField

from maf.forms import Form, GovSubmitInput, GovTextAreaField, VersionField


class PageForm(Form):
    body = GovTextAreaField("Text")
    version = VersionField()
    submit = SubmitField("Publish", widget=GovSubmitInput())
